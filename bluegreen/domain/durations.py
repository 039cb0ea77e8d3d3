"""Durations written as `30s`, `5m`, `1h30m`, `250ms` (or a bare number of seconds)."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# No wait a deployment has is longer than this; past it a number is a typo (or a 400-digit attack).
LONGEST = 366 * 86400.0
PATTERN = r"^((\d+(\.\d+)?)(ms|s|m|h|d))+$"


def parse_duration(value: Any) -> float:
    """Seconds from `1h30m`-style text; refuses negative and unit-less text so typos are caught."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 5m or 1h")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return _bounded(float(value))
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 30s, 5m or 1h")
    text = value.strip().replace(" ", "")
    if text.startswith("-"):
        raise ValueError("a duration cannot be negative")
    if not text or _PART.sub("", text) != "":
        raise ValueError(f"'{value}' is not a duration; write it as 30s, 5m, 1h or 1h30m")
    return _bounded(sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(text)))


def _bounded(seconds: float) -> float:
    if not math.isfinite(seconds) or seconds > LONGEST:
        raise ValueError("a duration must be at most 366d")
    return seconds


def format_duration(seconds: float) -> str:
    """Shortest human form: 90 -> '1m30s', 0.25 -> '250ms'."""
    if seconds < 1 and seconds != 0:
        return f"{round(seconds * 1000)}ms"
    total = int(round(seconds))
    if total == 0:
        return "0s"
    out = []
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": PATTERN, "examples": ["30s", "5m", "1h"]},
                {"type": "number", "minimum": 0},
            ],
            "description": "A duration: 250ms, 30s, 5m, 1h, 1h30m, or a number of seconds.",
        }
    ),
]
