"""Pauses for a person's decision: step names (from the spec or `--pause-before`) resolved to the plan's steps.

A name is a step id as the plan shows it (`shift-50`, `bake-10`); `shift` means the first traffic
step; a name that is the start of ids (`shift-50` for `shift-50-route0` and `shift-50-route1`)
means the first of them. An unknown name is refused with the step ids there are.
"""

from __future__ import annotations

from typing import Sequence

from bluegreen.domain.durations import format_duration
from bluegreen.domain.spec import Judgement
from bluegreen.domain.steps import Step


class UnknownStep(ValueError):
    """A pause names no step of the plan."""


def pause_points(steps: Sequence[Step], names: Sequence[str]) -> tuple[str, ...]:
    """The step ids to pause before, in plan order, each once."""
    wanted = {_resolve(steps, name) for name in names}
    return tuple(step.id for step in steps if step.id in wanted)


def _resolve(steps: Sequence[Step], name: str) -> str:
    if name == "shift":
        found = next((s.id for s in steps if s.phase == "shift"), None)
    else:
        found = next((s.id for s in steps if s.id == name), None) or next(
            (s.id for s in steps if s.id.startswith(f"{name}-")), None)
    if found is None:
        known = ", ".join(s.id for s in steps)
        raise UnknownStep(f"no step named {name!r} to pause before; the plan's steps are: {known}")
    return found


def pause_lines(judgement: Judgement, steps: Sequence[Step]) -> list[str]:
    """What the plan says about the spec's pauses (the gate list)."""
    timer = judgement.auto_promote_after
    after = (f"; promotes itself after {format_duration(timer)} (counting down in `status`)" if timer is not None
             else "")
    return [f"pause before {step_id} for a decision: `promote` continues, `abort` rolls back{after}"
            for step_id in pause_points(steps, judgement.pause_before)]
