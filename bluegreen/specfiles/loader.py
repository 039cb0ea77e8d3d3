"""Find spec files, parse YAML keeping line numbers, validate, and report every problem at once.

Every problem is one line: `path:line:col: field.path: message`. Nothing here touches AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from bluegreen.errors import InvalidInput
from bluegreen.domain.spec import NEEDED, ONE_OF_ERROR, ONLY_IN, Loc, Spec, consistency_problems

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

SPEC_SUFFIXES = (".yaml", ".yml")
DEFAULT_DIR = Path("deployments")


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


def _construct(node: yaml.Node, loc: Loc, positions: _Positions, problems: list[tuple[Loc, str, yaml.Mark]],
               seen: set[int] | None = None) -> Any:
    positions.marks.setdefault(loc, (node.start_mark.line + 1, node.start_mark.column + 1))
    seen = set() if seen is None else seen
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        # An alias (*name) makes the composer hand out the same node again; rebuilding it each time is
        # exponential (and endless for a recursive alias). Specs are short: refuse aliases of sections.
        if id(node) in seen:
            problems.append((loc, "YAML anchors/aliases (&name, *name) of sections are not supported; "
                                  "write the fields out", node.start_mark))
            return None
        seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append((loc, "field names must be plain text", key_node.start_mark))
                continue
            key = key_node.value
            if key == "<<" and key_node.tag == "tag:yaml.org,2002:merge":
                problems.append((loc, "YAML merge keys (<<) are not supported; write the fields out",
                                 key_node.start_mark))
                continue
            if key in out:
                problems.append((loc + (key,), "duplicate key (the later value would silently win)", key_node.start_mark))
                continue
            positions.marks[loc + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _construct(value_node, loc + (key,), positions, problems, seen)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loc + (i,), positions, problems, seen) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node)
    finally:
        loader.dispose()


def _field_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def parse(path: Path) -> tuple[Any, _Positions, list[Problem]]:
    positions = _Positions()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, positions, [Problem(path, 1, 1, "(file)", f"cannot read: {exc}")]
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = getattr(exc, "problem", None) or str(exc)
        return None, positions, [Problem(path, line, col, "(yaml)", f"invalid YAML: {reason}")]
    nodes = [n for n in nodes if n is not None]
    if len(nodes) != 1:
        what = "is empty" if not nodes else f"holds {len(nodes)} documents; write one service per file"
        return None, positions, [Problem(path, 1, 1, "(document)", what)]
    raw: list[tuple[Loc, str, yaml.Mark]] = []
    try:
        data = _construct(nodes[0], (), positions, raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, positions, [Problem(path, line, col, "(yaml)", f"invalid YAML: {getattr(exc, 'problem', exc)}")]
    problems = [Problem(path, m.line + 1, m.column + 1, _field_path(loc), msg) for loc, msg, m in raw]
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
    """Files named directly, plus every *.yaml/*.yml directly inside named directories."""
    given = list(paths) or [DEFAULT_DIR]
    found: list[Path] = []
    for item in given:
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file()))
        elif path.exists():
            found.append(path)
        else:
            raise InvalidInput(f"{path}: no such file or directory")
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
    return load_specs([path])[0]
