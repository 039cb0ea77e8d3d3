"""JSON Schema of the spec (for editors' autocompletion and CI linters)."""

from __future__ import annotations

from typing import Any

from bluegreen.domain.spec import SCHEMA_URL, Spec


def spec_schema() -> dict[str, Any]:
    schema = Spec.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_URL, **schema}
