"""Writing a spec file: a tree of fields, each with the comment that says what it is and where it came from.

Pure: `render` turns `Field`s into YAML text, with each comment on the lines above its field (wrapped,
at the field's indent), so a person reading the file sees the reason next to every value. Scalars are
written by PyYAML, so a value that YAML would read as something else (`on`, `1e3`, `*`) is quoted.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Union

import yaml

WIDTH = 100
INDENT = "  "

Scalar = Union[str, int, float, bool]


@dataclass(frozen=True)
class Item:
    """One element of a block list: a scalar, or a mapping of fields (e.g. one listener route)."""

    value: Union[Scalar, tuple["Field", ...]]
    comment: str = ""


@dataclass(frozen=True)
class Field:
    """`key: value`, with a comment above it. A value is a scalar, a flow list of scalars, a block list
    of `Item`s, or a nested mapping (a tuple of `Field`s)."""

    key: str
    value: Union[Scalar, list[Scalar], list[Item], tuple["Field", ...]]
    comment: str = ""
    trailing: str = ""  # a short remark after the value, on the same line


@dataclass(frozen=True)
class Document:
    header: tuple[str, ...] = ()  # comment lines at the top of the file
    fields: tuple[Field, ...] = field(default_factory=tuple)


def scalar(value: Scalar) -> str:
    """`value` as one line of YAML that reads back as the same value."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True).strip()
    return text[: -len("...")].rstrip() if text.endswith("...") else text


def _comment(text: str, indent: str) -> list[str]:
    if not text:
        return []
    lines: list[str] = []
    for paragraph in text.split("\n"):
        wrapped = textwrap.wrap(paragraph, width=max(40, WIDTH - len(indent) - 2)) or [""]
        lines += [f"{indent}# {line}".rstrip() for line in wrapped]
    return lines


def _after(line: str, trailing: str) -> str:
    return f"{line}  # {trailing}" if trailing else line


def _fields(fields: tuple[Field, ...], depth: int, item_indent: str | None = None) -> list[str]:
    """The lines of a mapping. In a list item (`item_indent`: the list's indent) the first key follows
    the `- ` and its comment goes above that line."""
    indent = INDENT * depth
    lines: list[str] = []
    for i, f in enumerate(fields):
        first_of_item = i == 0 and item_indent is not None
        lines += _comment(f.comment, item_indent if first_of_item else indent)  # type: ignore[arg-type]
        lines += _value(f"{item_indent}- " if first_of_item else indent, f, depth)
    return lines


def _value(lead: str, f: Field, depth: int) -> list[str]:
    value = f.value
    if isinstance(value, tuple):
        return [_after(f"{lead}{f.key}:", f.trailing), *_fields(value, depth + 1)]
    if isinstance(value, list) and value and isinstance(value[0], Item):
        return [_after(f"{lead}{f.key}:", f.trailing), *_items(value, depth + 1)]  # type: ignore[arg-type]
    if isinstance(value, list):
        return [_after(f"{lead}{f.key}: [{', '.join(scalar(v) for v in value)}]", f.trailing)]  # type: ignore[arg-type]
    return [_after(f"{lead}{f.key}: {scalar(value)}", f.trailing)]


def _items(items: list[Item], depth: int) -> list[str]:
    indent = INDENT * depth
    lines: list[str] = []
    for item in items:
        lines += _comment(item.comment, indent)
        if isinstance(item.value, tuple):
            lines += _fields(item.value, depth + 1, item_indent=indent)
        else:
            lines.append(f"{indent}- {scalar(item.value)}")
    return lines


def render(document: Document) -> str:
    """The YAML text of `document`: the header, then each top-level field, a blank line between sections."""
    lines = [wrapped for line in document.header for wrapped in (_comment(line, "") or ["#"])]
    for f in document.fields:
        section = _fields((f,), 0)
        if lines and isinstance(f.value, tuple):
            lines.append("")
        lines += section
    return "\n".join(lines) + "\n"
