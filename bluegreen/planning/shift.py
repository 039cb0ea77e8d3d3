"""How traffic moves, whatever moves it: the live color from weights, shift steps with bakes, keep-warm.

A traffic side (listener, record) supplies `move(previous_percent, percent)`, the steps that give the
new color `percent` of the traffic; `shift_steps` runs the spec's shift policy through it, holding
each step with gates. `keep_warm` records how long the old color stays up before it is retired.
"""

from __future__ import annotations

from typing import Callable, Literal, Mapping, Sequence

from bluegreen.domain.colors import Color
from bluegreen.domain.durations import format_duration
from bluegreen.domain.spec import Check
from bluegreen.domain.analysis import BakeMetrics
from bluegreen.domain.steps import Bake, KeepWarm, Step
from bluegreen.planning.context import Context, Refused
from bluegreen.planning.metrics import metric_gates

Move = Callable[[int | None, int], list[Step]]


def live_color_from_weights(weights: Mapping[Color, int], where: str) -> Color:
    """The color that has the traffic; a split means a deployment did not finish."""
    blue, green = weights.get(Color.BLUE, 0), weights.get(Color.GREEN, 0)
    if blue == 0 and green == 0:
        raise Refused(f"{where} sends no traffic to blue or green")
    if blue and green:
        raise Refused(f"{where} splits traffic blue {blue} / green {green}: a deployment is in flight; "
                      "finish it (bluegreen promote) or roll it back (bluegreen rollback) first")
    return Color.BLUE if blue else Color.GREEN


def shift_steps(ctx: Context, move: Move, *, target_group_arns: Sequence[str], minimum_hold: float = 0.0,
                hold_reason: str = "") -> list[Step]:
    """For each step of the shift policy: move traffic, then bake with gates.

    `previous_percent` is None for the first step, whose starting weights are the live ones.
    """
    steps: list[Step] = []
    hold = max(ctx.hold(), minimum_hold)
    previous: int | None = None
    for percent in ctx.spec.shift.weights():
        steps += move(previous, percent)
        steps.append(bake(ctx, f"bake-{percent}", "shift", target_group_arns, hold,
                          hold_reason if minimum_hold > ctx.hold() else ""))
        previous = percent
    watch = steps[-1].metrics if steps and isinstance(steps[-1], Bake) else None
    for gate in (watch.gates if watch else []):
        ctx.gates.append(f"through each bake, every {format_duration(watch.interval)}: {gate.describe()}")
    alarms, probe = ctx.alarms(), ctx.probe()
    watched_tgs = target_group_arns if ctx.checks_enabled(Check.TARGET_HEALTH) else []
    if alarms or watched_tgs or probe:
        ctx.gates.append(f"after each traffic step: hold {format_duration(hold)} while "
                         + ", ".join(filter(None, ["no alarm fires" if alarms else "",
                                                   "target health holds" if watched_tgs else "",
                                                   "the probe passes" if probe else ""])))
    return steps


def bake(ctx: Context, step_id: str, phase: Literal["shift", "verify"], target_group_arns: Sequence[str],
         hold: float, reason: str = "") -> Bake:
    """Hold with gates: any named alarm in ALARM, unhealthy targets or a failing probe fails it."""
    watched = target_group_arns if ctx.checks_enabled(Check.TARGET_HEALTH) else []
    return Bake(id=step_id, phase=phase, duration=hold, alarms=ctx.alarms(), target_group_arns=list(watched),
                probe=ctx.probe(), interval=min(ctx.health.interval, hold or 1.0), reason=reason,
                metrics=metric_watch(ctx) if phase == "shift" else None)


def metric_watch(ctx: Context) -> BakeMetrics | None:
    """The analysis section's metric gates and how often they are judged (nothing without one)."""
    analysis = ctx.spec.analysis
    gates = metric_gates(ctx)
    if analysis is None or not gates:
        return None
    deadline = analysis.no_data_deadline
    return BakeMetrics(gates=gates, interval=analysis.interval or ctx.health.interval,
                       no_data_deadline=ctx.health.deadline if deadline is None else deadline)


def keep_warm(ctx: Context, old: Color, retire: Step, drain_seconds: float = 0.0) -> list[Step]:
    """Keep the old color up for the keep-warm time (rollback is one traffic change), then retire it."""
    duration = ctx.spec.keep_blue_warm(ctx.strategy)
    ctx.rollback.append(f"until {format_duration(duration)} after the switch: one traffic change back to {old}, "
                        f"which is still running (bluegreen rollback {ctx.spec.service})")
    return [KeepWarm(id=f"keep-{old}-warm", phase="finalize", color=old, duration=duration, drain_seconds=drain_seconds),
            retire]
