"""The spec reference in Markdown, generated from the models so the README never drifts from them."""

from __future__ import annotations

import json
from typing import Any

from .schema import spec_schema

START, END = "<!-- spec-reference:start -->", "<!-- spec-reference:end -->"


def spec_reference() -> str:
    schema = spec_schema()
    defs = schema.get("$defs", {})
    lines = ["| field | type | default | description |", "| --- | --- | --- | --- |"]
    _walk(schema, defs, "", lines, seen=set())
    return "\n".join(lines) + "\n"


def _walk(node: dict[str, Any], defs: dict[str, Any], prefix: str, lines: list[str], seen: set[str]) -> None:
    required = set(node.get("required", []))
    for name, prop in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        target = _model(prop, defs)
        default = "required" if name in required else _default(prop)
        lines.append(f"| `{path}` | {_type(prop, defs)} | {default} | {_cell(prop.get('description', ''))} |")
        if target is not None and target not in seen:
            _walk(defs[target], defs, f"{path}." if "items" not in prop or prop.get("type") != "array" else f"{path}[].",
                  lines, seen | {target})


def _model(prop: dict[str, Any], defs: dict[str, Any]) -> str | None:
    for candidate in [prop, prop.get("items", {}), *prop.get("anyOf", []),
                      *[a.get("items", {}) for a in prop.get("anyOf", [])]]:
        ref = candidate.get("$ref", "")
        if ref.startswith("#/$defs/") and "properties" in defs.get(ref.split("/")[-1], {}):
            return ref.split("/")[-1]
    return None


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    options = prop.get("anyOf") or [prop]
    if any(_is_duration(o) for o in options):
        return "duration"
    names = [n for n in (_one_type(o, defs) for o in options) if n != "null"]
    return " or ".join(dict.fromkeys(names)) or "any"


def _one_type(option: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in option:
        target = defs.get(option["$ref"].split("/")[-1], {})
        if "enum" in target:
            return " \\| ".join(f"`{v}`" for v in target["enum"])
        return "section"
    if "enum" in option:
        return " \\| ".join(f"`{v}`" for v in option["enum"])
    if option.get("type") == "array":
        return f"list of {_one_type(option.get('items', {}), defs)}"
    if option.get("type") == "object":
        return "map"
    return str(option.get("type", "any"))


def _is_duration(option: dict[str, Any]) -> bool:
    return option.get("pattern", "").startswith("^((\\d+") or any(_is_duration(o) for o in option.get("anyOf", []))


def _default(prop: dict[str, Any]) -> str:
    if "default" not in prop:
        return ""
    value = prop["default"]
    if value is None or value == [] or value == {}:
        return ""
    return f"`{json.dumps(value)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def readme_section(readme: str) -> str:
    return readme.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"
