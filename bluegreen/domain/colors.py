"""The two environments traffic moves between."""

from __future__ import annotations

from enum import StrEnum


class Color(StrEnum):
    BLUE = "blue"
    GREEN = "green"

    @property
    def other(self) -> "Color":
        return Color.GREEN if self is Color.BLUE else Color.BLUE


COLORS: tuple[Color, Color] = (Color.BLUE, Color.GREEN)
