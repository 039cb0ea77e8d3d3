"""Gates every strategy shares: alarms before starting, healthy targets, the HTTP probe of the new color.

Each function returns the gate steps and records in the context what the plan promises to check.
"""

from __future__ import annotations

from typing import Literal, Sequence

from bluegreen.domain.durations import format_duration
from bluegreen.domain.snapshot import TargetGroup
from bluegreen.domain.spec import Check
from bluegreen.domain.steps import CheckAlarms, ProbeHttp, Step, WaitTargetsHealthy
from bluegreen.planning.context import Context


def preflight(ctx: Context) -> list[Step]:
    """Refuse to start while a named alarm fires: a deploy onto an alarm has no healthy baseline.

    An alarm firing now is the planner's `alarms not in ALARM` check, and a missing one a discovery
    finding: each is said once there, so this only lays out the gate that checks again at the start."""
    alarms = ctx.alarms()
    if not alarms:
        return []
    ctx.gates.append(f"before starting: alarms {', '.join(alarms)} must not be in ALARM")
    return [CheckAlarms(id="check-alarms", phase="preflight", alarms=alarms)]


def wait_targets(ctx: Context, target_groups: Sequence[TargetGroup], min_healthy: int,
                 phase: Literal["rollout", "verify"], group: str | None = None) -> list[Step]:
    """Wait for `min_healthy` healthy targets in each group (only `group`'s instances, for an ASG)."""
    if not ctx.checks_enabled(Check.TARGET_HEALTH) or min_healthy == 0:
        return []
    h = ctx.health
    steps: list[Step] = []
    for tg in target_groups:
        steps.append(WaitTargetsHealthy(
            id=f"{phase}-{tg.name}-healthy", phase=phase, target_group_arn=tg.arn, target_group=tg.name,
            min_healthy=min_healthy, deadline=h.deadline, interval=h.interval, expected=tg.health_budget, group=group))
        if phase == "rollout":
            ctx.gates.append(f"{tg.name}: {min_healthy} healthy target(s) (health check "
                             f"{tg.health_check_interval}s x {tg.healthy_threshold} = {format_duration(tg.health_budget)})")
    return steps


def probe_steps(ctx: Context) -> list[Step]:
    """Probe the new color over HTTP before production traffic reaches it."""
    probe = ctx.probe()
    if probe is None:
        return []
    ctx.gates.append(f"HTTP probe {probe.url} answers {'/'.join(map(str, probe.expected_status))}")
    return [ProbeHttp(id="probe-green", phase="rollout", probe=probe, deadline=ctx.health.deadline,
                      interval=ctx.health.interval)]


def unique(target_groups: Sequence[TargetGroup]) -> list[TargetGroup]:
    """Each target group once, in order: several routes (rules) may share one pair."""
    return list({tg.arn: tg for tg in target_groups}.values())
