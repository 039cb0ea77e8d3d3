"""ECS target-group swap, planned from hand-built live state and compared step for step."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bluegreen.domain.colors import Color
from bluegreen.domain.snapshot import Snapshot
from bluegreen.domain.steps import (
    Bake, CheckAlarms, KeepWarm, Probe, ProbeHttp, RegisterTaskDefinition, SetWeights, UpdateService,
    WaitServiceStable, WaitTargetsHealthy,
)
from bluegreen.domain.spec import Spec
from bluegreen.planning.planner import make_plan
from support.builders import (
    NOW, by_name, ecs_service, listener, listener_arn, live_weights, pinned, route, rule_arn, snapshot, spec,
    target_group, task_definition, td_arn, tg_arn,
)

TD1 = td_arn("web", 1)
PROBE = Probe(url="http://127.0.0.1:8080/health", expected_status=[200])
ROUTES = [route("web-alb", 80, "web-blue", "web-green"), route("web-alb", 443, "web-blue", "web-green", priority=10)]


def web_spec(routes: list | None = None, **sections) -> Spec:
    """Two services behind a default action and a rule of a shared ALB, a test listener, a 10/100 canary."""
    sections.setdefault("shift", {"mode": "canary", "percentages": [10, 100]})
    sections.setdefault("health", {"alarms": ["web-5xx"], "http": {"url": PROBE.url},
                                   "deadline": "5m", "interval": "5s", "bake": "1m"})
    sections.setdefault("rollback", {"keep_blue_warm": "10m"})
    ecs = {"cluster": "prod", "services": {"blue": "web-blue", "green": "web-green"}, "container": "web",
           "environment": {"LOG_LEVEL": "debug"}} | sections.pop("ecs", {})
    traffic = {"routes": routes or ROUTES, "test_listener": {"port": 8080}} | sections.pop("traffic", {})
    return spec("web", {"ecs": ecs}, traffic, **sections)


def web_world(live: Color, *, image: str | None = "v1") -> Snapshot:
    """All traffic on `live` (both routes and the test listener); its service runs 2 tasks of web:1."""
    td = task_definition("web", 1, "web", f"web:{image}" if image else None, environment={"LOG_LEVEL": "info"})
    weights = live_weights("web-blue", "web-green", live)
    return snapshot(
        "web",
        listeners=(listener("web-alb", 80, weights), listener("web-alb", 443, {"web-blue": 100}, rules={10: weights}),
                   listener("web-alb", 8080, {f"web-{live}": 100})),
        target_groups=by_name(*(target_group(f"web-{c}", 2 if c is live else 0) for c in Color)),
        ecs_services=by_name(*(ecs_service(f"web-{c}", TD1, 2 if c is live else 0, target_groups=[f"web-{c}"])
                               for c in Color)),
        task_definitions={TD1: td}, alarms={"web-5xx": "OK"})


def expected_steps(live: Color) -> list:
    new = live.other
    old_arn, new_arn = tg_arn(f"web-{live}"), tg_arn(f"web-{new}")
    names = {tg_arn("web-blue"): "web-blue", tg_arn("web-green"): "web-green"}
    waits = dict(deadline=300.0, interval=5.0)
    bake = dict(phase="shift", duration=60.0, alarms=["web-5xx"], target_group_arns=[new_arn], probe=PROBE, interval=5.0)

    def shift(percent: int, before: int) -> list[SetWeights]:
        moved = dict(weights={old_arn: 100 - percent, new_arn: percent}, previous={old_arn: 100 - before, new_arn: before},
                     names=names)
        return [SetWeights(id=f"shift-{percent}-route0", phase="shift", listener_arn=listener_arn("web-alb", 80),
                           label="web-alb:80", **moved),
                SetWeights(id=f"shift-{percent}-route1", phase="shift", listener_arn=listener_arn("web-alb", 443),
                           rule_arn=rule_arn("web-alb", 443, 10), label="web-alb:443 rule 10", **moved)]

    return [
        CheckAlarms(id="check-alarms", phase="preflight", alarms=["web-5xx"]),
        RegisterTaskDefinition(id="register-task-definition", phase="prepare", family="web", base_arn=TD1,
                               container="web", image=pinned("web"), environment={"LOG_LEVEL": "debug"}),
        UpdateService(id=f"deploy-web-{new}", phase="prepare", cluster="prod", service=f"web-{new}",
                      task_definition="@register-task-definition", previous_task_definition=TD1,
                      desired_count=2, previous_desired_count=0),
        WaitServiceStable(id=f"wait-web-{new}-stable", phase="rollout", cluster="prod", service=f"web-{new}",
                          task_definition="@register-task-definition", desired_count=2, **waits),
        WaitTargetsHealthy(id=f"rollout-web-{new}-healthy", phase="rollout", target_group_arn=new_arn,
                           target_group=f"web-{new}", min_healthy=2, expected=30.0, **waits),
        SetWeights(id="open-test-listener", phase="rollout", listener_arn=listener_arn("web-alb", 8080),
                   label="web-alb:8080", weights={old_arn: 0, new_arn: 100}, previous={old_arn: 100, new_arn: 0},
                   names=names, production=False),
        ProbeHttp(id="probe-green", phase="rollout", probe=PROBE, **waits),
        *shift(10, 0),
        Bake(id="bake-10", **bake),
        *shift(100, 10),
        Bake(id="bake-100", **bake),
        WaitTargetsHealthy(id=f"verify-web-{new}-healthy", phase="verify", target_group_arn=new_arn,
                           target_group=f"web-{new}", min_healthy=2, expected=30.0, **waits),
        KeepWarm(id=f"keep-{live}-warm", phase="finalize", color=live, duration=600.0, drain_seconds=30.0),
        UpdateService(id=f"scale-down-web-{live}", phase="finalize", cluster="prod", service=f"web-{live}",
                      desired_count=0, previous_desired_count=2),
    ]


@pytest.mark.parametrize("live", list(Color))
def test_a_canary_through_a_test_listener_moves_every_route_from_the_live_color(live):
    plan = make_plan(web_spec(), web_world(live), image_tag="v2", now=NOW)

    assert plan.steps == expected_steps(live)
    assert (plan.live_color, plan.target_color) == (live, live.other)
    assert plan.errors == []
    assert plan.state == [
        f"listener web-alb:80: blue {100 if live is Color.BLUE else 0}% (web-blue), "
        f"green {100 if live is Color.GREEN else 0}% (web-green)",
        f"listener web-alb:443 rule 10: blue {100 if live is Color.BLUE else 0}% (web-blue), "
        f"green {100 if live is Color.GREEN else 0}% (web-green)",
        f"live color {live}: web-{live} runs 2/2 of web:1",
    ]
    assert plan.rollback == [
        f"during the shift: production listener(s) back to {live} 100% in one change each, "
        f"then web-{live.other} back to 0 task(s) of its previous revision",
        f"until 10m after the switch: one traffic change back to {live}, which is still running (bluegreen rollback web)",
    ]


def test_the_gates_say_what_is_checked_in_the_order_it_happens():
    plan = make_plan(web_spec(), web_world(Color.BLUE), image_tag="v2", now=NOW)

    assert plan.gates == [
        "before starting: alarms web-5xx must not be in ALARM",
        "web-green: 2 task(s) of the new revision running, deployment COMPLETED "
        "(an ECS circuit-breaker rollback counts as a failure)",
        "web-green: 2 healthy target(s) (health check 10s x 3 = 30s)",
        "test listener web-alb:8080 forwards to web-green before production does",
        f"HTTP probe {PROBE.url} answers 200",
        "after each traffic step: hold 1m while no alarm fires, target health holds, the probe passes",
    ]


def test_routes_with_their_own_target_groups_wait_for_each_and_drain_for_the_slowest():
    routes = [route("web-alb", 80, "web-blue", "web-green"),
              route("web-alb", 443, "internal-blue", "internal-green", priority=5)]
    world = web_world(Color.BLUE)
    world = replace(world, listeners=world.listeners[:1] + (
        listener("web-alb", 443, {"web-blue": 100}, rules={5: {"internal-blue": 100, "internal-green": 0}}),),
        target_groups={**world.target_groups, **by_name(target_group("internal-blue", 2, deregistration_delay=300),
                                                       target_group("internal-green", 0, deregistration_delay=300))},
        ecs_services=by_name(*(ecs_service(f"web-{c}", TD1, 2 if c is Color.BLUE else 0,
                                           target_groups=[f"web-{c}", f"internal-{c}"]) for c in Color)))
    spec_ = web_spec(routes, traffic={"test_listener": None}, health={"bake": "1m"}, shift={"mode": "all-at-once"})

    plan = make_plan(spec_, world, image_tag="v2", now=NOW)

    waits = [s for s in plan.steps if isinstance(s, WaitTargetsHealthy)]
    assert [(s.phase, s.target_group) for s in waits] == [
        ("rollout", "web-green"), ("rollout", "internal-green"), ("verify", "web-green"), ("verify", "internal-green")]
    assert [s.label for s in plan.steps if isinstance(s, SetWeights)] == ["web-alb:80", "web-alb:443 rule 5"]
    assert next(s for s in plan.steps if isinstance(s, Bake)).target_group_arns == [
        tg_arn("web-green"), tg_arn("internal-green")]
    assert next(s for s in plan.steps if isinstance(s, KeepWarm)).drain_seconds == 300.0


def test_the_spec_desired_count_and_size_go_into_the_new_revision_and_the_service():
    spec_ = web_spec(ecs={"desired_count": 3, "cpu": 512, "memory": 1024}, traffic={"test_listener": None},
                     health={"checks": ["ecs-steady-state"]}, shift={"mode": "all-at-once"})

    plan = make_plan(spec_, web_world(Color.GREEN), image_tag="v2", now=NOW)

    assert plan.steps[:3] == [
        RegisterTaskDefinition(id="register-task-definition", phase="prepare", family="web", base_arn=TD1,
                               container="web", image=pinned("web"), environment={"LOG_LEVEL": "debug"},
                               cpu=512, memory=1024),
        UpdateService(id="deploy-web-blue", phase="prepare", cluster="prod", service="web-blue",
                      task_definition="@register-task-definition", previous_task_definition=TD1,
                      desired_count=3, previous_desired_count=0),
        WaitServiceStable(id="wait-web-blue-stable", phase="rollout", cluster="prod", service="web-blue",
                          task_definition="@register-task-definition", desired_count=3, deadline=600.0, interval=10.0),
    ]
    assert [c.field for c in plan.changes] == ["image", "environment.LOG_LEVEL", "cpu", "memory"]


def test_nothing_to_change_plans_no_steps_and_no_error():
    spec_ = web_spec(ecs={"environment": {"LOG_LEVEL": "info"}})

    plan = make_plan(spec_, web_world(Color.BLUE), now=NOW)

    assert plan.steps == [] and plan.changes == [] and plan.errors == []
    assert plan.live_color == Color.BLUE and plan.target_color is None


def test_a_config_change_without_a_tag_redeploys_the_live_image():
    plan = make_plan(web_spec(), web_world(Color.BLUE), now=NOW)

    register = next(s for s in plan.steps if isinstance(s, RegisterTaskDefinition))
    assert register.image == "web:v1"
    assert [c.field for c in plan.changes] == ["environment.LOG_LEVEL"]


def test_a_config_change_with_the_live_image_unknown_is_an_error_not_a_plan():
    plan = make_plan(web_spec(), web_world(Color.BLUE, image=None), now=NOW)

    assert plan.steps == []
    assert plan.errors == ["the live image is unknown, so the new revision has no image; pass --image-tag"]


def _forward(snap: Snapshot, port: int, weights: dict[str, int], rules: dict | None = None) -> Snapshot:
    others = tuple(l for l in snap.listeners if l.port != port)
    return replace(snap, listeners=others + (listener("web-alb", port, weights, rules=rules),))


REFUSALS = {
    "no listener on the route's port": (
        lambda s: replace(s, listeners=tuple(l for l in s.listeners if l.port != 80)),
        "no listener on port 80 of load balancer web-alb"),
    "the rule is missing": (
        lambda s: _forward(s, 443, {"web-blue": 100}),
        "listener web-alb:443 rule 10 has no rule with priority 10"),
    # a listener forwarding elsewhere is a wiring check: tests/unit/planning/test_wiring_checks.py
    "a split weight": (
        lambda s: _forward(s, 80, {"web-blue": 90, "web-green": 10}),
        "listener web-alb:80 splits traffic blue 90 / green 10: a deployment is in flight; "
        "finish it (bluegreen promote) or roll it back (bluegreen rollback) first"),
    "no weight on either color": (
        lambda s: _forward(s, 80, {"web-blue": 0, "web-green": 0}),
        "listener web-alb:80 sends no traffic to blue or green"),
    "routes disagree on the live color": (
        lambda s: _forward(s, 443, {"web-blue": 100}, rules={10: {"web-blue": 0, "web-green": 100}}),
        "routes disagree on the live color: some forward to blue, others to green"),
    "a target group is not found": (
        lambda s: replace(s, target_groups={"web-blue": s.target_groups["web-blue"]}),
        "target group web-green not found"),
    "the idle service is not found": (
        lambda s: replace(s, ecs_services={"web-blue": s.ecs_services["web-blue"]}),
        "ECS service web-green not found in cluster prod"),
    "the live service is not found": (
        lambda s: replace(s, ecs_services={"web-green": s.ecs_services["web-green"]}),
        "ECS service web-blue not found in cluster prod"),
    "the live task definition is not found": (
        lambda s: replace(s, task_definitions={}),
        f"task definition {TD1} of web-blue not found"),
    "no test listener": (
        lambda s: replace(s, listeners=tuple(l for l in s.listeners if l.port != 8080)),
        "no test listener on port 8080 of load balancer web-alb"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_wiring_that_does_not_match_the_spec_is_refused_naming_both_sides(case):
    broken, message = REFUSALS[case]

    plan = make_plan(web_spec(), broken(web_world(Color.BLUE)), image_tag="v2", now=NOW)

    assert plan.steps == []
    assert plan.errors == [f"ecs-target-group-swap cannot be used: {message}"]


def test_a_container_missing_from_the_live_task_definition_is_refused():
    plan = make_plan(web_spec(ecs={"container": "app"}), web_world(Color.BLUE), image_tag="v2", now=NOW)

    assert plan.steps == []
    assert plan.errors == ["ecs-target-group-swap cannot be used: container app not found in web:1"]


def test_an_explicit_target_group_swap_of_auto_scaling_groups_is_refused():
    legacy = spec("web", {"asg": {"launch_template": "web", "name_pattern": "web-{color}"}}, {"routes": ROUTES},
                  strategy="ecs-target-group-swap")

    plan = make_plan(legacy, web_world(Color.BLUE), image_tag="v2", now=NOW)

    assert plan.errors == ["ecs-target-group-swap cannot be used: needs one ECS service per color and a listener route"]


def test_a_deregistration_delay_longer_than_a_bake_is_a_warning():
    world = web_world(Color.BLUE)
    world = replace(world, target_groups=by_name(target_group("web-blue", 2, deregistration_delay=300),
                                                 target_group("web-green", 0, deregistration_delay=300)))

    plan = make_plan(web_spec(), world, image_tag="v2", now=NOW)

    assert web_spec().drains
    assert [w for w in plan.warnings if w.startswith("deregistration delay 5m is longer than the bake time 1m")]
