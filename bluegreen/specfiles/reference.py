"""The spec reference in Markdown, generated from the models so the README never drifts from them.

A section that is one of several variants (ECS or Auto Scaling; routes, a target group, a classic
ELB or DNS; canary or linear) lists the fields of every variant under one path; a field that only
one variant has says which (`with routes:`, `mode canary:`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bluegreen.specfiles.schema import spec_schema

START, END = "<!-- spec-reference:start -->", "<!-- spec-reference:end -->"


@dataclass
class _Row:
    type: str
    default: str
    description: str
    variants: list[str]  # the union variants that have the field; empty: every variant (or no union)


def spec_reference() -> str:
    schema = spec_schema()
    rows: dict[str, _Row] = {}
    _walk(schema, schema.get("$defs", {}), "", rows, seen=frozenset())
    lines = ["| field | type | default | description |", "| --- | --- | --- | --- |"]
    for path, row in rows.items():
        only = f"{' / '.join(row.variants)}: " if row.variants else ""
        lines.append(f"| `{path}` | {row.type} | {row.default} | {_cell(only + row.description).strip()} |")
    return "\n".join(lines) + "\n"


def _walk(node: dict[str, Any], defs: dict[str, Any], prefix: str, rows: dict[str, _Row],
          seen: frozenset[str], variant: str | None = None, shared: frozenset[str] = frozenset()) -> None:
    """Rows for `node`'s fields; fields of a union variant that not every variant has name it."""
    required = set(node.get("required", []))
    for name, prop in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        default = "required" if name in required else _default(prop)
        note = variant if variant and name not in shared and variant != f"with {name}" else None
        if path in rows:
            row = rows[path]
            if "const" in prop and f"`{prop['const']}`" not in row.type:
                row.type += f" \\| `{prop['const']}`"
            if note and row.variants and note not in row.variants:
                row.variants.append(note)
        else:
            rows[path] = _Row(_type(prop, defs), default, prop.get("description", ""), [note] if note else [])
        child_prefix = f"{path}[]." if prop.get("type") == "array" else f"{path}."
        options = [(label, target) for label, target in _variants(prop, defs) if target not in seen]
        if len(options) > 1:
            common = frozenset.intersection(*(frozenset(defs[target].get("properties", {})) for _, target in options))
            for label, target in options:
                _walk(defs[target], defs, child_prefix, rows, seen | {target}, label, common)
        for _, target in options[:1] if len(options) == 1 else []:
            _walk(defs[target], defs, child_prefix, rows, seen | {target})


def _variants(prop: dict[str, Any], defs: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, $defs name) of the model(s) a property holds: several for a union."""
    candidates = prop.get("oneOf") or prop.get("anyOf") or [prop]
    out = []
    for candidate in candidates:
        ref = (candidate.get("$ref") or candidate.get("items", {}).get("$ref", ""))
        name = ref.split("/")[-1]
        if ref.startswith("#/$defs/") and "properties" in defs.get(name, {}):
            out.append((_label(defs[name]), name))
    if len(out) > 1:
        # label each variant by what picks it: a constant (mode: canary) or the key only it requires
        labels = [_label(defs[name], [defs[n] for _, n in out if n != name]) for _, name in out]
        out = list(zip(labels, (name for _, name in out)))
    return out


def _label(model: dict[str, Any], others: list[dict[str, Any]] | None = None) -> str:
    for key, prop in model.get("properties", {}).items():
        if "const" in prop:
            return f"{key} {prop['const']}"
    own = [k for k in model.get("required", []) if not any(k in o.get("properties", {}) for o in others or [])]
    return f"with {own[0]}" if own else model.get("title", "")


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "oneOf" in prop:
        return "one of: " + ", ".join(label for label, _ in _variants(prop, defs))
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
    if "const" in option:
        return f"`{option['const']}`"
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
