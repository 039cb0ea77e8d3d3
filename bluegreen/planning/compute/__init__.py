"""The compute side of a strategy: what runs each color, and how the new version is brought up.

`ecs` runs a new task-definition revision (on the idle color's service, or in place on the one
service); `asg` puts the image into a launch template version or SSM parameter and scales the idle
color's group up. A color-based compute side offers the `ColorCompute` calls below, so a strategy
can pair it with any traffic side.
"""

from __future__ import annotations

from typing import Protocol, Sequence

from bluegreen.domain.colors import Color
from bluegreen.domain.snapshot import TargetGroup
from bluegreen.domain.steps import Step
from bluegreen.planning.context import Current


class ColorCompute(Protocol):
    def current(self, live: Color) -> Current:
        """What the live color runs now (refuses when a color's resources are missing)."""
        ...

    def bring_up(self, live: Color, own_target_groups: Sequence[TargetGroup]) -> list[Step]:
        """The idle color on the new version, gated until it runs; `own_target_groups` are the idle
        color's own (not shared production) target groups."""
        ...

    def desired(self, live: Color) -> int:
        """How many tasks or instances the new color runs."""
        ...

    def settle(self, steps: Sequence[Step]) -> list[Step]:
        """After traffic moved: undo what bringing up froze (the steps so far say what)."""
        ...

    def retire(self, live: Color) -> Step:
        """After keep-warm: what scales the old color down or removes it."""
        ...
