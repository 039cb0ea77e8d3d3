"""The one place AWS errors are recognised and mapped to ours."""

from __future__ import annotations

from typing import Mapping


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError (None for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return response.get("Error", {}).get("Code")
    return None
