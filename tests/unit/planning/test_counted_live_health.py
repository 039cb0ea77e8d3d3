"""The live-health pre-flight of a plan whose target health CloudWatch counted (`TargetGroup.host_counts`).

`bluegreen plan` counts each target group's healthy and unhealthy targets with one GetMetricData
for the fleet instead of reading every target; the check then says the count came from CloudWatch,
and a group CloudWatch counts no healthy target in is still a warning, never "no registered target"
(a count cannot tell an empty group from one whose targets are all initial or draining).
"""

from __future__ import annotations

from dataclasses import replace

from bluegreen.domain.colors import Color
from bluegreen.domain.plan import Plan, PreflightCheck
from bluegreen.domain.snapshot import Snapshot
from bluegreen.planning.planner import make_plan
from support.builders import NOW, by_name, target_group
from test_target_group_swap import web_spec, web_world

LIVE = "live color healthy"


def counted(world: Snapshot, name: str, healthy: int, unhealthy: int) -> Snapshot:
    tg = replace(target_group(name), host_counts=(healthy, unhealthy))
    return replace(world, target_groups={**world.target_groups, **by_name(tg)})


def live_check(world: Snapshot) -> PreflightCheck:
    plan: Plan = make_plan(web_spec(), world, image_tag="v2", now=NOW)
    (found,) = [c for c in plan.checks if c.name == LIVE]
    return found


def test_a_counted_live_group_with_healthy_targets_passes_and_says_cloudwatch_counted_it():
    check = live_check(counted(web_world(Color.BLUE), "web-blue", 2, 1))

    assert check.ok is True
    assert "web-blue 2 healthy (1 unhealthy, counted by CloudWatch)" in check.detail


def test_a_counted_live_group_with_no_healthy_target_warns_without_claiming_it_is_empty():
    check = live_check(counted(web_world(Color.BLUE), "web-blue", 0, 3))

    assert check.ok is False
    assert check.detail == "web-blue has no healthy target (3 unhealthy, counted by CloudWatch)"
    assert "no registered target" not in check.detail


def test_a_counted_idle_group_with_nothing_healthy_leaves_the_live_color_healthy():
    check = live_check(counted(web_world(Color.BLUE), "web-green", 0, 0))

    assert check.ok is True
