"""Find spec files, parse YAML keeping line numbers, validate, and report every problem at once.

Every problem is one line: `path:line:col: field.path: message`. Nothing here touches AWS.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from bluegreen.errors import InvalidInput
from bluegreen.domain.spec import NEEDED, ONE_OF_ERROR, ONLY_IN, Loc, Spec, consistency_problems
# MAX_SPEC_BYTES is imported to be part of the loader's limits, next to MAX_DEPTH
from bluegreen.specfiles.reading import MAX_SPEC_BYTES, Unreadable, read_spec_text  # noqa: F401

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

SPEC_SUFFIXES = (".yaml", ".yml")
DEFAULT_DIR = Path("deployments")
MAX_DEPTH = 64  # nested sections, the document itself included; the example specs use 5


@dataclass(frozen=True)
class LoadedSpec:
    path: Path
    spec: Spec


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    col: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.field}: {self.message}"


class _Positions:
    """Maps a field path to where it was written: the key's mark, so errors point at the field name."""

    def __init__(self) -> None:
        self.marks: dict[Loc, tuple[int, int]] = {}

    def locate(self, loc: Iterable[str | int]) -> tuple[int, int]:
        best: Loc = ()
        for part in loc:
            candidate = best + (part,)
            if candidate in self.marks:
                best = candidate
            # parts pydantic adds for unions/validators are not in the document: skip them
        return self.marks.get(best, (1, 1))


class _TooDeep(Exception):
    def __init__(self, loc: Loc, mark: yaml.Mark) -> None:
        super().__init__(loc, mark)
        self.loc, self.mark = loc, mark


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses sections nested deeper than MAX_DEPTH, before PyYAML's
    recursive composer (and everything after it) can exhaust Python's stack at ~300 levels."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str | int] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:  # PyYAML's signature
        event = self.peek_event()
        if not isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            return super().compose_node(parent, index)
        # `index` is the key node of a mapping value, the position of a sequence item, None for a
        # key itself (or the root, which has no parent)
        part: str | int = (index.value if isinstance(index, yaml.ScalarNode) else index if isinstance(index, int)
                           else "(key)" if parent is not None else "")
        if len(self._path) >= MAX_DEPTH:
            raise _TooDeep(tuple(self._path[1:]) + (part,), event.start_mark)
        self._path.append(part)
        try:
            return super().compose_node(parent, index)
        finally:
            self._path.pop()


_SECTION_TAGS = {yaml.MappingNode: "tag:yaml.org,2002:map", yaml.SequenceNode: "tag:yaml.org,2002:seq"}
_INT_TAG = "tag:yaml.org,2002:int"
# A "\ud800" escape makes a lone UTF-16 surrogate: not text, and nothing downstream can encode it.
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_MESSAGE = "an escape such as \\ud800 makes a lone surrogate, which is not text; remove it"
MAX_INT_DIGITS = 18  # every number in a spec (counts, ports, seconds) fits; more is a typo or an attack


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


class _Builder:
    """Builds plain data from composed nodes, noting where each field was written and every problem."""

    def __init__(self, positions: _Positions) -> None:
        self.positions = positions
        self.problems: list[tuple[Loc, str, yaml.Mark]] = []
        self._seen: set[int] = set()
        self._scalars = yaml.SafeLoader("")  # one constructor for every scalar of the file

    def close(self) -> None:
        self._scalars.dispose()

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.positions.marks.setdefault(loc, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, loc)
        if node.tag != _SECTION_TAGS[type(node)]:
            return self._problem(loc, f"YAML tag {_short_tag(node.tag)} is not supported in a spec; remove it",
                                 node.start_mark)
        # An alias (*name) makes the composer hand out the same node again; rebuilding it each time is
        # exponential (and endless for a recursive alias). Specs are short: refuse aliases of sections.
        if id(node) in self._seen:
            return self._problem(loc, "YAML anchors/aliases (&name, *name) of sections are not supported; "
                                      "write the fields out", node.start_mark)
        self._seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, loc + (i,)) for i, item in enumerate(node.value)]
        return self._mapping(node, loc)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(loc, "field names must be plain text", key_node.start_mark)
                continue
            key = key_node.value
            if _SURROGATE.search(key):
                self._problem(loc, _SURROGATE_MESSAGE, key_node.start_mark)
                continue
            if key == "<<" and key_node.tag == "tag:yaml.org,2002:merge":
                self._problem(loc, "YAML merge keys (<<) are not supported; write the fields out",
                              key_node.start_mark)
                continue
            if key in out:
                self._problem(loc + (key,), "duplicate key (the later value would silently win)", key_node.start_mark)
                continue
            self.positions.marks[loc + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = self.build(value_node, loc + (key,))
        return out

    def _scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        # Checked on the text first: Python refuses to convert ints of over 4,300 digits (ValueError),
        # and YAML 1.1's base-60 ints (1:30:00) make long texts costly.
        if node.tag == _INT_TAG and len(node.value) > MAX_INT_DIGITS + 8:
            return self._too_large(loc, node)
        try:
            value = self._scalars.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            if "could not determine a constructor" in str(exc.problem):
                return self._problem(loc, f"YAML tag {_short_tag(node.tag)} is not supported in a spec; remove it",
                                     node.start_mark)
            return self._problem(loc, f"cannot read this {_short_tag(node.tag)} value: {_one_line(exc.problem)}",
                                 node.start_mark)
        except Exception as exc:  # noqa: BLE001 - any scalar PyYAML cannot build is bad input, not a crash
            # e.g. 2001-13-45 is a timestamp to YAML (ValueError); !!bool maybe (KeyError); !!int "" (IndexError)
            what = "date or time" if node.tag.endswith(":timestamp") else f"{_short_tag(node.tag)} value"
            return self._problem(loc, f"not a valid {what} ({_one_line(exc) or type(exc).__name__})",
                                 node.start_mark)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** MAX_INT_DIGITS:
            return self._too_large(loc, node)
        if isinstance(value, str) and _SURROGATE.search(value):
            return self._problem(loc, _SURROGATE_MESSAGE, node.start_mark)
        if isinstance(value, float) and not math.isfinite(value):
            return self._problem(loc, "expected a finite number (not .inf, .nan or an overflowing one)",
                                 node.start_mark)
        return value

    def _too_large(self, loc: Loc, node: yaml.Node) -> None:
        return self._problem(loc, f"number too large (more than {MAX_INT_DIGITS} digits)", node.start_mark)

    def _problem(self, loc: Loc, message: str, mark: yaml.Mark) -> None:
        self.problems.append((loc, message, mark))
        return None


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _field_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def _yaml_problem(path: Path, text: str, exc: yaml.YAMLError) -> Problem:
    """One problem line for PyYAML's own errors, at their mark (or the reader's character position)."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return Problem(path, line, col, "(yaml)", f"invalid YAML: unacceptable character #x{code:04x}: {exc.reason}")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    reason = getattr(exc, "problem", None) or exc
    return Problem(path, line, col, "(yaml)", f"invalid YAML: {_one_line(reason)}")


def parse(path: Path) -> tuple[Any, _Positions, list[Problem]]:
    positions = _Positions()
    try:
        text = read_spec_text(path)
    except Unreadable as exc:
        return None, positions, [Problem(path, exc.line, exc.col, "(file)", exc.message)]
    loader = None
    try:
        loader = _BoundedLoader(text)  # its reader refuses unprintable characters already here
        nodes = []
        while loader.check_node():
            nodes.append(loader.get_node())
    except _TooDeep as exc:
        where = exc.loc[:3]
        field = _field_path(where) + ("..." if len(exc.loc) > len(where) else "")
        return None, positions, [Problem(path, exc.mark.line + 1, exc.mark.column + 1, field,
                                         f"nested deeper than {MAX_DEPTH} levels (the most a spec may nest)")]
    except yaml.YAMLError as exc:
        return None, positions, [_yaml_problem(path, text, exc)]
    finally:
        if loader is not None:
            loader.dispose()
    nodes = [n for n in nodes if n is not None]
    if len(nodes) != 1:
        what = "is empty" if not nodes else f"holds {len(nodes)} documents; write one service per file"
        return None, positions, [Problem(path, 1, 1, "(document)", what)]
    builder = _Builder(positions)
    try:
        data = builder.build(nodes[0], ())
    finally:
        builder.close()
    problems = [Problem(path, m.line + 1, m.column + 1, _field_path(loc), msg) for loc, msg, m in builder.problems]
    if not isinstance(data, dict):
        problems.append(Problem(path, 1, 1, "(document)", "expected a mapping of fields (service:, image:, ...)"))
    return data, positions, problems


_PATTERN_HELP = {
    "service": "lowercase letters, digits and dashes, e.g. web-api",
    "region": "an AWS region such as us-east-1",
    "repository": "an ECR repository name such as web or team/web (no registry host, no :tag)",
    "url": "an http:// or https:// URL",
}


def _pydantic_message(error: dict[str, Any]) -> str:
    kind, msg = error["type"], error["msg"]
    field = next((str(p) for p in reversed(error["loc"]) if isinstance(p, str)), "")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind == "string_pattern_mismatch":
        return "expected " + _PATTERN_HELP.get(field, "a name of letters, digits, '.', '_' and '-'")
    if kind in ("model_type", "dict_type"):
        return "expected a section of fields (key: value)"
    # pydantic prefixes ValueErrors raised by our validators; the prefix adds nothing for a reader
    return msg.removeprefix("Value error, ")


def validate_file(path: Path) -> tuple[Spec | None, list[Problem]]:
    data, positions, problems = parse(path)
    if problems or data is None:
        return None, problems
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False, include_input=False):
            problems.append(_problem(path, error, positions))
        return None, _sorted(problems)
    for loc, message in consistency_problems(spec):
        line, col = positions.locate(loc)
        problems.append(Problem(path, line, col, _field_path(loc), message))
    return (None if problems else spec), _sorted(problems)


def _problem(path: Path, error: dict[str, Any], positions: _Positions) -> Problem:
    """One problem line for a pydantic error, at the line of the field it is about."""
    loc = _clean(tuple(error["loc"]), positions)
    line, col = positions.locate(loc)
    message = _pydantic_message(error)
    if error["type"] == ONE_OF_ERROR:
        # A union picked by which key is present: say which were found, at the line of the extra one.
        keys = error["ctx"]["keys"].split(",")
        present = [k for k in keys if loc + (k,) in positions.marks]
        if len(present) > 1:
            line, col = positions.marks[max((loc + (k,) for k in present), key=positions.marks.__getitem__)]
            message = f"{message} (found {', '.join(present)})"
        else:
            message = error["ctx"]["none"]
    unindexed = tuple(part for part in loc if isinstance(part, str))
    if error["type"] == "extra_forbidden" and unindexed in ONLY_IN:
        message = f"{ONLY_IN[unindexed]}; remove it"
    if error["type"] == "missing" and unindexed in NEEDED:
        message = NEEDED[unindexed]
    return Problem(path, line, col, _field_path(loc), message)


def _clean(loc: Loc, positions: _Positions) -> Loc:
    """Drop the union/validator tags pydantic adds to locations (`function-after[...]`, `list[int]`)."""
    out: Loc = ()
    for part in loc:
        if isinstance(part, int) or out + (part,) in positions.marks or _IDENTIFIER.match(part):
            out += (part,)
    return out


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (str(p.path), p.line, p.col, p.field))


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, plus every *.yaml/*.yml directly inside named directories.

    Whatever is named like a spec is returned, even if it is no regular file (a pipe, a directory
    called old.yaml, a dangling symlink): reading refuses it with a line of its own, rather than
    the spec silently not being checked.
    """
    given = list(paths) or [DEFAULT_DIR]
    found: list[Path] = []
    for item in given:
        path = Path(item)
        if path.is_dir():
            try:
                found.extend(sorted(p for p in path.iterdir() if p.suffix in SPEC_SUFFIXES))
            except OSError as exc:
                raise InvalidInput(str(Problem(path, 1, 1, "(file)", f"cannot list: {exc.strerror or exc}"))) from None
        elif os.path.lexists(path):
            found.append(path)
        else:
            raise InvalidInput(str(Problem(path, 1, 1, "(file)", "no such file or directory")))
    if not found:
        raise InvalidInput(f"no spec files (*.yaml) found in {', '.join(map(str, given))}")
    return found


def load_specs(paths: Iterable[str | Path]) -> list[LoadedSpec]:
    """Load and validate every spec; raise InvalidInput listing all problems in all files."""
    loaded: list[LoadedSpec] = []
    problems: list[Problem] = []
    for path in discover(paths):
        spec, found = validate_file(path)
        problems.extend(found)
        if spec is not None:
            loaded.append(LoadedSpec(path, spec))
    names: dict[str, Path] = {}
    for item in loaded:
        if item.spec.service in names:
            problems.append(Problem(item.path, 1, 1, "service",
                                    f"service '{item.spec.service}' is also defined in {names[item.spec.service]}"))
        names.setdefault(item.spec.service, item.path)
    if problems:
        raise InvalidInput(f"{len(problems)} problem(s) in the specs", [str(p) for p in problems])
    return loaded


def load_spec(path: str | Path) -> LoadedSpec:
    """The one spec in the file `path` (a command about one service: deploy, rollback, build...)."""
    if Path(path).is_dir():
        raise InvalidInput(str(Problem(Path(path), 1, 1, "(file)", "a directory; give one spec file "
                                       "(such as deployments/web.yaml) or a service name")))
    return load_specs([path])[0]
