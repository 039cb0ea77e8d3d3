"""Hostile spec files, made by mutating real ones: for the property test of the loader and for
`bench/hostile_specs.py`. Tests and benchmarks only.

Everything is drawn from a `random.Random` passed in, so a benchmark repeats from its seed and a
property test can pass hypothesis' own `randoms()` (which then shrinks a failure to a small case).
Mutations work on the text, line by line, so they can break what a parsed document cannot hold:
duplicate keys, tags, anchors and aliases, bad indentation, bytes that are not UTF-8.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Callable, Sequence

_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<dash>-\s+)?(?P<key>[^\s:#][^:#]*?):(?:\s+(?P<value>.*))?$")

NESTING = (2, 10, 63, 64, 65, 100, 333, 500, 2000)
NUMBERS = ("0", "-1", "1", "65536", "4294967296", "9223372036854775808", "9" * 19, "9" * 100, "9" * 5000,
           "1.5", "-0.0", "1.0e+999", "-1.0e+999", ".inf", "-.inf", ".nan", "0x7fffffffffffffffff", "0o777",
           "1_000_000", "1:30:00", "1e3", "+12", "0.000001", "1" + "0" * 400 + ".0")
STRINGS = ("''", '""', "' '", "web", "WEB", "web-", "-web", "a" * 300, "\u202eevil", "caf\u00e9", "\U0001f680",
           "e\u0301", "\u200b", "\u2028line", "\ufeffbom", '"\\ud800"', '"\\x00"', '"\\t"', "~", "null", "yes", "no",
           "on", "'123'", "us-east-1", "xx-nowhere-9", "arn:aws:iam::123456789012:role/x", "http://127.0.0.1:9/",
           "file:///etc/passwd", "${HOME}", "{color}", "5m", "-5m", "1h30m", "0s", "1.5s", "9" * 400 + "s",
           "10 minutes", "2001-13-45", "2001-12-14t21:59:43.10-05:00", "'%s%s%s'", "../../etc/passwd")
TAGS = ("!!python/object:os.system", "!!python/object/apply:os.system [echo]", "!!python/name:builtins.eval ''",
        "!!python/tuple [1, 2]", "!!binary aGVsbG8=", "!!binary 'a'", "!!set {a, b}", "!!omap [{a: 1}]",
        "!!pairs [{a: 1}]", "!custom x", "!!timestamp 2001-13-45", "!!int abc", "!!int ''", "!!bool maybe",
        "!!str 5", "!!float x", "!!null x", "!!merge x", "!<tag:example.com,2000:x> y", "!!map [1]", "!!seq {a: 1}")
SHAPES = ("[]", "{}", "[1, 2]", "{a: 1}", "[[]]", "[{}]", "true", "false", "null", "~", "''", "-", "[", "{",
          "]", "}", "? x", "|", ">", "'unclosed", '"unclosed', "*undefined", "&lonely", "@reserved", "`reserved")
# Durations that stay durations to the schema: zero, tiny, and far too long (400 digits of seconds).
DURATIONS = ("0s", "0ms", "1ms", "59s", "1h30m", "24h", "9" * 400 + "s", "99999999999999999d", "1" + "0" * 30 + "ms",
             "1.5s", "0.0001ms", "1d1d1d", "5m5m")
ODD_KEYS = ("serivce", "Service", "SERVICE", "service ", "serv\u00edce", "\u202eecivres", "<<", "?", "'quoted'",
            "1", "null", "true", "a" * 500, "k\u0000", "__proto__", "image.repository", "[a]", "$ref")


def nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_map(depth: int) -> str:
    return "{a: " * depth + "1" + "}" * depth


def deep_value(rnd: random.Random) -> str:
    depth = rnd.choice(NESTING)
    return nested_list(depth) if rnd.random() < 0.5 else nested_map(depth)


FRAGMENTS: dict[str, Callable[[random.Random], str]] = {
    "deep": deep_value,
    "number": lambda rnd: rnd.choice(NUMBERS),
    "text": lambda rnd: rnd.choice(STRINGS),
    "tag": lambda rnd: rnd.choice(TAGS),
    "shape": lambda rnd: rnd.choice(SHAPES),
}


def fragment(rnd: random.Random, kind: str | None = None) -> str:
    """A hostile value of one kind (any kind by default), written on one line (flow style) so it
    can replace any value."""
    return FRAGMENTS[kind or rnd.choice(sorted(FRAGMENTS))](rnd)


@dataclass
class _Doc:
    lines: list[str]

    def key_lines(self) -> list[int]:
        return [i for i, line in enumerate(self.lines) if _KEY_LINE.match(line)]

    def block_end(self, i: int) -> int:
        """The line after line i's block: its more-indented children follow it."""
        indent = len(self.lines[i]) - len(self.lines[i].lstrip())
        end = i + 1
        while end < len(self.lines) and (not self.lines[end].strip()
                                         or len(self.lines[end]) - len(self.lines[end].lstrip()) > indent):
            end += 1
        return end


def _pick(doc: _Doc, rnd: random.Random) -> int | None:
    keys = doc.key_lines()
    return rnd.choice(keys) if keys else None


def _delete(doc: _Doc, rnd: random.Random) -> None:
    if (i := _pick(doc, rnd)) is not None:
        del doc.lines[i:doc.block_end(i)]


def _duplicate(doc: _Doc, rnd: random.Random) -> None:
    if (i := _pick(doc, rnd)) is not None:
        end = doc.block_end(i)
        doc.lines[end:end] = doc.lines[i:end]


def _replace_value(doc: _Doc, rnd: random.Random, kind: str | None = None) -> None:
    if (i := _pick(doc, rnd)) is None:
        return
    found = _KEY_LINE.match(doc.lines[i])
    assert found is not None
    doc.lines[i:doc.block_end(i)] = [f"{_head(found)} {fragment(rnd, kind)}"]


def _rename_key(doc: _Doc, rnd: random.Random) -> None:
    if (i := _pick(doc, rnd)) is None:
        return
    found = _KEY_LINE.match(doc.lines[i])
    assert found is not None
    rest = doc.lines[i][found.end("key"):]
    doc.lines[i] = f"{found['indent']}{found['dash'] or ''}{rnd.choice(ODD_KEYS)}{rest}"


def _insert(doc: _Doc, rnd: random.Random) -> None:
    i = rnd.randrange(len(doc.lines) + 1)
    indent = re.match(r"\s*", doc.lines[i - 1]).group(0) if i and doc.lines else ""
    doc.lines.insert(i, f"{indent}{rnd.choice(ODD_KEYS + ('extra', 'image', 'health'))}: {fragment(rnd)}")


def _head(found: re.Match[str]) -> str:
    return f"{found['indent']}{found['dash'] or ''}{found['key']}:"


def _alias(doc: _Doc, rnd: random.Random) -> None:
    """An anchor on one value and an alias of it further down: plain, recursive, or merged with <<."""
    keys = doc.key_lines()
    if len(keys) < 2:
        return
    first, second = sorted(rnd.sample(keys, 2))
    target = _KEY_LINE.match(doc.lines[second])
    assert target is not None
    use = f"{target['indent']}<<: *anchor" if rnd.random() < 0.3 else f"{_head(target)} *anchor"
    doc.lines[second:doc.block_end(second)] = [use]  # the later line first: `first` keeps its index
    found = _KEY_LINE.match(doc.lines[first])
    assert found is not None
    how = rnd.randrange(3)
    if how == 0:  # anchor the value (or the whole section under the key) as it is
        doc.lines[first] = f"{_head(found)} &anchor {found['value'] or ''}".rstrip()
    else:
        value = "&anchor [*anchor]" if how == 1 else "&anchor {x: 1}"
        doc.lines[first:doc.block_end(first)] = [f"{_head(found)} {value}"]


def _small_change(doc: _Doc, rnd: random.Random) -> None:
    """A plausible edit (a number, a word): keeps many specs valid, so the valid paths run too."""
    if (i := _pick(doc, rnd)) is None:
        return
    found = _KEY_LINE.match(doc.lines[i])
    assert found is not None
    if found["value"] and re.fullmatch(r"\d+", found["value"].split("#")[0].strip()):
        doc.lines[i] = doc.lines[i].replace(found["value"], str(rnd.choice((0, 1, 5, 50, 99, 100, 101))), 1)


_DURATION = re.compile(r"^(\d+(\.\d+)?(ms|s|m|h|d))+$")


def _duration_change(doc: _Doc, rnd: random.Random) -> None:
    """A duration field given another duration: keeps the spec valid to the schema, so the planner
    (not only the loader) meets the extremes."""
    lines = [i for i in doc.key_lines()
             if (m := _KEY_LINE.match(doc.lines[i])) and m["value"] and _DURATION.match(m["value"].split("#")[0].strip())]
    if lines:
        i = rnd.choice(lines)
        found = _KEY_LINE.match(doc.lines[i])
        assert found is not None
        doc.lines[i] = f"{_head(found)} {rnd.choice(DURATIONS)}"


LINE_MUTATIONS: dict[str, Callable[[_Doc, random.Random], None]] = {
    "delete": _delete,
    "duplicate": _duplicate,
    "rename": _rename_key,
    "insert": _insert,
    "alias": _alias,
    "plausible": _small_change,
    "duration": _duration_change,
    **{f"{kind}-value": (lambda kind: lambda doc, rnd: _replace_value(doc, rnd, kind))(kind) for kind in FRAGMENTS},
}
HAZARDS = (*LINE_MUTATIONS, "bytes")


def _bytes_mutation(data: bytes, rnd: random.Random) -> bytes:
    kind = rnd.randrange(11)
    cut = rnd.randrange(len(data) + 1)
    if kind == 0:
        return data[:cut]  # truncated
    if kind == 1:
        return b"\xef\xbb\xbf" + data  # a BOM
    if kind == 2:
        return data[:cut] + b"\x00" + data[cut:]
    if kind == 3:
        return data[:cut] + rnd.choice((b"\xe9", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80")) + data[cut:]
    if kind == 4:
        return data.replace(b"\n", b"\r\n")
    if kind == 5:
        return data.replace(b"  ", b"\t", rnd.randint(1, 3))
    if kind == 6:
        return data + b"\n---\n" + data  # two documents
    if kind == 7:
        return b"%YAML 1.2\n---\n" + data
    if kind == 8:
        return data[:cut] + b"# " + b"x" * rnd.choice((1000, 100_000)) + b"\n" + data[cut:]
    if kind == 9:
        return rnd.choice((b"", b"# only a comment\n", b"- a\n- list\n", b"just text\n", b"~\n", b"---\n...\n"))
    flipped = bytearray(data)
    for _ in range(rnd.randint(1, 8) if flipped else 0):  # a few bit flips (a draw per byte would be slow)
        flipped[rnd.randrange(len(flipped))] ^= 1 << rnd.randrange(8)
    return bytes(flipped)


@dataclass(frozen=True)
class HostileSpec:
    hazard: str  # the mutation it is sure to have (HAZARDS); 0-2 random others may follow
    data: bytes


def hostile_spec(rnd: random.Random, examples: Sequence[str], hazard: str | None = None) -> HostileSpec:
    """One of `examples`, with one hazard for sure (chosen evenly, so each comes up in a small
    sample) and up to two more mutations of any kind."""
    hazard = hazard or rnd.choice(HAZARDS)
    doc = _Doc(rnd.choice(list(examples)).splitlines())
    mutations = [hazard] + [rnd.choice(HAZARDS) for _ in range(rnd.choice((0, 0, 1, 2)))]
    for name in mutations:
        if name != "bytes":
            LINE_MUTATIONS[name](doc, rnd)
    data = ("\n".join(doc.lines) + "\n").encode("utf-8")
    for name in mutations:
        if name == "bytes":
            data = _bytes_mutation(data, rnd)
    return HostileSpec(hazard, data)
