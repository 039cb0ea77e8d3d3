"""A check that did not run is never shown as passed.

When a read a pre-flight check depends on failed (AWS unreachable for that call, or the call denied),
the check is unknown (`ok=None`) and says which read failed; a problem found in what was read still
fails it. Each renderer shows "unknown" with the reason, never a green tick.
"""

from __future__ import annotations

import json
from dataclasses import replace

from bluegreen.cli.render.plan import json_, markdown, text
from bluegreen.domain.colors import Color
from bluegreen.domain.plan import Plan, PreflightCheck
from bluegreen.domain.snapshot import Finding, Snapshot
from bluegreen.planning.planner import make_plan
from support.builders import NOW, by_name, target_group
from test_target_group_swap import web_spec, web_world

DENIED = "AccessDenied: not allowed"
ALARM_UNREAD = f"could not read alarm web-5xx: DescribeAlarms failed: {DENIED}"


def unread(world: Snapshot, subject: str, operation: str) -> Snapshot:
    line = f"could not read {subject}: {operation} failed: {DENIED}"
    return replace(world, findings=world.findings + (Finding("error", subject, line, "unreadable"),))


def plan_of(world: Snapshot) -> Plan:
    return make_plan(web_spec(), world, image_tag="v2", now=NOW)


def check(plan: Plan, name: str) -> PreflightCheck:
    (found,) = [c for c in plan.checks if c.name == name]
    return found


def alarms_unread() -> Snapshot:
    return unread(replace(web_world(Color.BLUE), alarms={}), "alarm web-5xx", "DescribeAlarms")


def test_an_alarm_that_could_not_be_read_is_unknown_not_passed():
    plan = plan_of(alarms_unread())

    assert check(plan, "alarms not in ALARM") == PreflightCheck(name="alarms not in ALARM", ok=None,
                                                                detail=ALARM_UNREAD)
    assert ALARM_UNREAD in plan.errors  # the failed read still stops an apply


def test_a_firing_alarm_fails_the_check_even_when_another_alarm_was_not_read():
    world = unread(replace(web_world(Color.BLUE), alarms={"web-5xx": "ALARM"}), "alarm web-latency", "DescribeAlarms")
    plan = make_plan(web_spec(health={"alarms": ["web-5xx", "web-latency"], "deadline": "5m", "interval": "5s",
                                      "bake": "1m"}), world, image_tag="v2", now=NOW)

    assert check(plan, "alarms not in ALARM").ok is False


def test_target_health_that_could_not_be_read_is_unknown_not_an_empty_target_group():
    world = web_world(Color.BLUE)
    world = replace(world, target_groups={**world.target_groups, **by_name(target_group("web-blue", 0))})
    plan = plan_of(unread(world, "target group web-blue", "DescribeTargetHealth"))

    live = check(plan, "live color healthy")
    assert live.ok is None
    assert live.detail == f"could not read target group web-blue: DescribeTargetHealth failed: {DENIED}"
    assert "no registered target" not in live.detail


def test_an_unread_idle_color_leaves_the_live_colors_health_known():
    plan = plan_of(unread(web_world(Color.BLUE), "target group web-green", "DescribeTargetHealth"))

    assert check(plan, "live color healthy").ok is True


def test_a_wiring_check_with_an_unread_listener_is_only_partly_checked():
    plan = plan_of(unread(web_world(Color.BLUE), "listener web-alb:443", "DescribeRules"))

    routes = check(plan, "routes forward only to blue and green")
    assert routes.ok is None
    assert routes.detail.startswith("only partly checked (web-alb:80 -> web-blue 100% / web-green 0%")
    assert routes.detail.endswith(f"could not read listener web-alb:443: DescribeRules failed: {DENIED}")


def test_an_image_that_could_not_be_looked_up_is_unknown_not_missing():
    world = unread(replace(web_world(Color.BLUE), image=replace(web_world(Color.BLUE).image, digest=None)),
                   "image web:v2", "DescribeImages")

    image = check(make_plan(web_spec(), world, image_tag="v2", now=NOW), "image tag resolves to a digest")

    assert image.ok is None and "not found" not in image.detail
    assert image.detail == f"could not read image web:v2: DescribeImages failed: {DENIED}"


def test_every_renderer_shows_an_unread_check_as_unknown_with_the_reason():
    plan = plan_of(alarms_unread())

    assert f"check: unknown alarms not in ALARM: {ALARM_UNREAD}" in text([plan])
    shown = markdown([plan])
    assert "- ❔ unknown: alarms not in ALARM: could not read alarm web-5xx" in shown
    assert "✅ alarms" not in shown
    (saved,) = json.loads(json_([plan]))["plans"]
    assert {"name": "alarms not in ALARM", "ok": None, "detail": ALARM_UNREAD} in saved["checks"]


def test_one_service_taking_turns_keeps_its_health_known_when_an_unrelated_read_failed():
    from test_task_definition_swap import worker_spec, worker_world

    world = unread(worker_world(), "load balancer other-alb", "DescribeListeners")
    plan = make_plan(worker_spec(), world, image_tag="v2", now=NOW)

    assert check(plan, "live color healthy").ok is True
