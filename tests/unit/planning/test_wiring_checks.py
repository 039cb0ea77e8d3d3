"""Wiring checks and deployment controllers, per strategy: the live wiring must be what the spec claims.

Each wrong wiring is refused with one error line naming both sides (what the spec says, what AWS has),
no steps are laid out, and the plan still shows each check on its own line. The worlds are the
strategies' own (from their planner tests), with one thing broken.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import pytest

from bluegreen.domain.colors import Color
from bluegreen.domain.snapshot import LoadBalancer, Snapshot
from bluegreen.domain.spec import Spec
from bluegreen.planning.planner import make_plan
from support.builders import NOW, by_name, ecs_service, lb_arn, listener, target_group, tg_arn
from test_asg_swap import legacy_spec, legacy_world
from test_dns_cutover import ECS, api_spec, ecs_world
from test_target_group_swap import web_spec, web_world
from test_task_definition_swap import TD4, worker_spec, worker_world

TG_LEGACY = tg_arn("legacy")


def with_tg(world: Snapshot, *groups) -> Snapshot:
    return replace(world, target_groups={**world.target_groups, **by_name(*groups)})


def registers(world: Snapshot, service: str, target_groups: list[str]) -> Snapshot:
    """`service` registering its tasks into `target_groups` instead."""
    found = world.ecs_services[service]
    return replace(world, ecs_services={**world.ecs_services, service: replace(
        found, target_group_arns=tuple(tg_arn(t) for t in target_groups))})


def controller(world: Snapshot, controller_type: str = "ECS", strategy: str = "ROLLING") -> Snapshot:
    return replace(world, ecs_services={n: replace(s, deployment_controller=controller_type,
                                                   deployment_strategy=strategy)
                                        for n, s in world.ecs_services.items()})


def on_lb(world: Snapshot, name: str, lb: str) -> Snapshot:
    """Target group `name` associated with load balancer `lb` only."""
    return replace(world, target_groups={**world.target_groups,
                                         name: replace(world.target_groups[name], load_balancer_arns=(lb_arn(lb),))})


def web_lbs(world: Snapshot) -> Snapshot:
    return replace(world, load_balancers={"web-alb": LoadBalancer(lb_arn("web-alb"), "web-alb", "web-alb.example", "application")})


def forward(world: Snapshot, lb: str, port: int, weights: dict[str, int]) -> Snapshot:
    kept = tuple(l for l in world.listeners if l.port != port)
    return replace(world, listeners=kept + (listener(lb, port, weights),))


CODE_DEPLOY = ("CODE_DEPLOY deployment controller: CodeDeploy swaps it, and ECS refuses a task-definition update "
               "from anyone else; use strategy ecs-codedeploy (or auto), which drives CodeDeploy, or move the "
               "service to the ECS controller")
BLUE_GREEN = ("ECS's built-in BLUE_GREEN deployments: ECS moves its listener rules itself, and editing them too "
              "would fight it; use strategy ecs-native (or auto), which lets ECS deploy it and gates it, or set "
              "its deploymentConfiguration.strategy to ROLLING")

Case = tuple[Callable[[], Spec], Callable[[], Snapshot], str, str]  # spec, world, the failing check, its one line

CASES: dict[str, Case] = {
    # ECS target-group swap
    "tg swap: the spec's green target group is not the one green registers into": (
        lambda: web_spec([{"load_balancer": "web-alb", "port": 80, "blue_target_group": "web-blue",
                           "green_target_group": "web-other"}], traffic={"test_listener": None}),
        lambda: with_tg(web_world(Color.BLUE), target_group("web-other")),
        "target groups are the ones each color uses",
        "green_target_group web-other, but ECS service web-green registers into web-green"),
    "tg swap: green's target group belongs to another load balancer": (
        web_spec, lambda: on_lb(web_lbs(web_world(Color.BLUE)), "web-green", "other-alb"),
        "target groups belong to the load balancer",
        f"green_target_group web-green belongs to load balancer other-alb, not web-alb"),
    "tg swap: the listener forwards to a third group": (
        web_spec, lambda: with_tg(forward(web_world(Color.BLUE), "web-alb", 80,
                                          {"web-blue": 90, "web-green": 0, "web-third": 10}), target_group("web-third")),
        "routes forward only to blue and green",
        f"listener web-alb:80 forwards to web-third (weight 10), which is neither blue_target_group "
        f"web-blue nor green_target_group web-green"),
    "tg swap: the listener forwards elsewhere": (
        web_spec, lambda: with_tg(forward(web_world(Color.BLUE), "web-alb", 80, {"legacy": 100}), target_group("legacy")),
        "routes forward only to blue and green",
        "listener web-alb:80 forwards to legacy (weight 100), which is neither blue_target_group web-blue nor "
        "green_target_group web-green"),
    "tg swap: the listener also forwards to a stranger": (
        web_spec, lambda: forward(web_world(Color.BLUE), "web-alb", 80, {"web-blue": 90, "legacy": 10}),
        "routes forward only to blue and green",
        "listener web-alb:80 forwards to legacy (weight 10), which is neither blue_target_group web-blue nor "
        "green_target_group web-green"),
    "tg swap: both services register into blue's group": (
        web_spec, lambda: registers(web_world(Color.BLUE), "web-green", ["web-blue"]),
        "target groups are the ones each color uses",
        f"green_target_group web-green, but ECS service web-green registers into web-blue"),
    "tg swap: green registers into blue's group as well as its own": (
        web_spec, lambda: registers(web_world(Color.BLUE), "web-green", ["web-green", "web-blue"]),
        "blue and green differ",
        f"ECS service web-green (green) registers into web-blue too, which is blue's blue_target_group"),
    "tg swap: CODE_DEPLOY services": (
        web_spec, lambda: controller(web_world(Color.BLUE), "CODE_DEPLOY"), "deployment controller",
        f"ECS services web-blue and web-green use the {CODE_DEPLOY}"),
    "tg swap: BLUE_GREEN services": (
        web_spec, lambda: controller(web_world(Color.BLUE), strategy="BLUE_GREEN"), "deployment controller",
        f"ECS services web-blue and web-green use {BLUE_GREEN}"),
    # ECS task-definition swap
    "td swap: the target group is not the one the service registers into": (
        lambda: worker_spec({"target_group": "worker-other"}),
        lambda: with_tg(worker_world(), target_group("worker-other", 2)),
        "target groups are the ones each color uses",
        "target_group worker-other, but ECS service worker registers into worker"),
    "td swap: the classic ELB is not the one the service registers with": (
        lambda: worker_spec({"classic_elb": "worker-elb"}), worker_world,
        "target groups are the ones each color uses",
        "classic_elb worker-elb, but ECS service worker registers with no classic load balancer"),
    "td swap: a CODE_DEPLOY service": (
        worker_spec, lambda: controller(worker_world(), "CODE_DEPLOY"), "deployment controller",
        f"ECS service worker uses the {CODE_DEPLOY}"),
    "td swap: a LINEAR service": (
        worker_spec, lambda: controller(worker_world(), strategy="LINEAR"), "deployment controller",
        f"ECS service worker uses {BLUE_GREEN.replace('BLUE_GREEN', 'LINEAR')}"),
    "td swap: an EXTERNAL service": (
        worker_spec, lambda: controller(worker_world(), "EXTERNAL"), "deployment controller",
        "ECS service worker uses the EXTERNAL deployment controller: its task sets belong to another tool, and "
        "ECS takes no task-definition update through UpdateService; deploy it with that tool or move it to the "
        "ECS controller"),
    # ASG swap
    "asg swap: the serving group is attached elsewhere": (
        legacy_spec, lambda: with_tg(replace(legacy_world(Color.BLUE), asgs={
            **legacy_world(Color.BLUE).asgs,
            "legacy-blue": replace(legacy_world(Color.BLUE).asgs["legacy-blue"],
                                   target_group_arns=(tg_arn("legacy-old"),))}), target_group("legacy-old", 2)),
        "target groups are the ones each color uses",
        "target_group legacy, but Auto Scaling group legacy-blue (2 instance(s)) is attached to legacy-old"),
    "asg swap: the serving group is attached to nothing": (
        legacy_spec, lambda: replace(legacy_world(Color.BLUE), asgs={
            **legacy_world(Color.BLUE).asgs,
            "legacy-blue": replace(legacy_world(Color.BLUE).asgs["legacy-blue"], target_group_arns=())}),
        "target groups are the ones each color uses",
        "target_group legacy, but Auto Scaling group legacy-blue (2 instance(s)) is attached to no target group"),
    "asg swap: the routes forward elsewhere": (
        lambda: legacy_spec("routes"),
        lambda: replace(legacy_world(Color.BLUE, "routes"), listeners=(listener("legacy-alb", 80, {"legacy": 100}),)),
        "routes forward only to blue and green",
        "listener legacy-alb:80 forwards to legacy (weight 100), which is neither blue_target_group legacy-blue "
        "nor green_target_group legacy-green"),
    "asg swap behind routes: the live group is attached to the wrong target group": (
        lambda: legacy_spec("routes"),
        lambda: replace(legacy_world(Color.BLUE, "routes"), asgs={
            **legacy_world(Color.BLUE, "routes").asgs,
            "legacy-blue": replace(legacy_world(Color.BLUE, "routes").asgs["legacy-blue"], target_group_arns=(TG_LEGACY,))}),
        "target groups are the ones each color uses",
        "blue_target_group legacy-blue, but Auto Scaling group legacy-blue is attached to legacy"),
    "asg swap behind routes: the idle group is attached to the live color's group": (
        lambda: legacy_spec("routes"),
        lambda: replace(legacy_world(Color.BLUE, "routes"), asgs={
            **legacy_world(Color.BLUE, "routes").asgs,
            "legacy-green": replace(legacy_world(Color.BLUE, "routes").asgs["legacy-green"],
                                    target_group_arns=(tg_arn("legacy-blue"),))}),
        "blue and green differ",
        "Auto Scaling group legacy-green (green) is attached to legacy-blue too, which is blue's blue_target_group"),
    # DNS cutover
    "dns: a stack's target group is not the one its service registers into": (
        lambda: api_spec(ECS, dns={"target_groups": {"blue": "api-blue", "green": "api-other"}}),
        lambda: with_tg(ecs_world(Color.BLUE), target_group("api-other")),
        "target groups are the ones each color uses",
        "dns.target_groups.green api-other, but ECS service api-green registers into api-green"),
    "dns: BLUE_GREEN services": (
        lambda: api_spec(ECS), lambda: controller(ecs_world(Color.BLUE), strategy="BLUE_GREEN"),
        "deployment controller", f"ECS services api-blue and api-green use {BLUE_GREEN}"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_wrong_wiring_is_refused_with_one_line_naming_both_sides(case):
    make_spec, make_world, check, line = CASES[case]

    plan = make_plan(make_spec(), make_world(), image_tag="v2", now=NOW)

    assert plan.errors == [f"pre-flight check failed: {line}"]
    assert plan.steps == [] and not plan.applicable
    failed = [(c.name, c.detail) for c in plan.checks if c.ok is False]
    assert failed == [(check, line)]


WIRED = {
    "ecs-target-group-swap": (web_spec, lambda: web_world(Color.BLUE),
                              ["routes forward only to blue and green", "target groups are the ones each color uses",
                               "blue and green differ", "deployment controller"]),
    "ecs-task-definition-swap": (worker_spec, worker_world,
                                 ["target groups are the ones each color uses", "deployment controller"]),
    "asg-swap": (legacy_spec, lambda: legacy_world(Color.BLUE),
                 ["target groups are the ones each color uses"]),
    "asg-swap behind routes": (lambda: legacy_spec("routes"), lambda: legacy_world(Color.BLUE, "routes"),
                               ["routes forward only to blue and green", "target groups are the ones each color uses",
                                "blue and green differ"]),
    "dns-cutover": (lambda: api_spec(ECS, dns={"target_groups": {"blue": "api-blue", "green": "api-green"}}),
                    lambda: ecs_world(Color.BLUE),
                    ["target groups are the ones each color uses", "blue and green differ", "deployment controller"]),
}


@pytest.mark.parametrize("strategy", list(WIRED))
def test_right_wiring_passes_each_check_on_its_own_line(strategy):
    make_spec, make_world, names = WIRED[strategy]

    plan = make_plan(make_spec(), make_world(), image_tag="v2", now=NOW)

    assert plan.errors == [] and plan.steps
    wiring = [c for c in plan.checks if c.name in names]
    assert [c.name for c in wiring] == names
    assert all(c.ok is True and c.detail for c in wiring)


def test_the_passing_lines_say_what_was_compared():
    plan = make_plan(web_spec(), web_lbs(web_world(Color.BLUE)), image_tag="v2", now=NOW)

    details = {c.name: c.detail for c in plan.checks}
    assert details["routes forward only to blue and green"] == ("web-alb:80 -> web-blue 100% / web-green 0%; "
                                                                "web-alb:443 rule 10 -> web-blue 100% / web-green 0%")
    assert details["target groups are the ones each color uses"] == "web-blue -> web-blue, web-green -> web-green"
    assert details["target groups belong to the load balancer"] == "web-blue, web-green on web-alb"
    assert details["blue and green differ"] == "blue: web-blue; green: web-green"
    assert details["deployment controller"] == "web-blue, web-green: ECS controller, rolling updates"


def test_routes_that_share_a_pair_name_the_field_once_and_others_by_their_index():
    routes = [{"load_balancer": "web-alb", "port": 80, "blue_target_group": "web-blue", "green_target_group": "web-green"},
              {"load_balancer": "web-alb", "port": 443, "rule_priority": 5, "blue_target_group": "internal-blue",
               "green_target_group": "internal-green"}]
    world = with_tg(web_world(Color.BLUE), target_group("internal-blue", 2), target_group("internal-green"))
    world = forward(world, "web-alb", 443, {"web-blue": 100})
    world = replace(world, listeners=tuple(l for l in world.listeners if l.port != 443) + (
        listener("web-alb", 443, {"web-blue": 100}, rules={5: {"internal-blue": 100, "internal-green": 0}}),))

    plan = make_plan(web_spec(routes, traffic={"test_listener": None}), world, image_tag="v2", now=NOW)

    assert plan.errors == [
        "pre-flight check failed: routes[1].blue_target_group internal-blue, but ECS service web-blue registers into "
        "web-blue",
        "pre-flight check failed: routes[1].green_target_group internal-green, but ECS service web-green registers "
        "into web-green",
    ]


def test_an_idle_group_behind_routes_not_attached_yet_is_fine_it_is_attached_when_brought_up():
    world = legacy_world(Color.BLUE, "routes")
    idle = replace(world.asgs["legacy-green"], target_group_arns=())

    plan = make_plan(legacy_spec("routes"), replace(world, asgs={**world.asgs, "legacy-green": idle}),
                     image_tag="v2", now=NOW)

    assert plan.errors == [] and plan.steps


def test_a_target_group_not_yet_on_any_load_balancer_may_be_added_to_the_route():
    plan = make_plan(web_spec(), web_lbs(web_world(Color.BLUE)), image_tag="v2", now=NOW)  # builders: no association

    assert plan.errors == []


def test_a_wiring_refusal_also_holds_without_a_new_image():
    plan = make_plan(web_spec(), controller(web_world(Color.BLUE), "CODE_DEPLOY"), now=NOW)

    assert plan.errors == [f"pre-flight check failed: ECS services web-blue and web-green use the {CODE_DEPLOY}"]


def test_two_distinct_causes_are_two_lines():
    world = controller(registers(web_world(Color.BLUE), "web-green", ["web-blue"]), "CODE_DEPLOY")

    plan = make_plan(web_spec(), world, image_tag="v2", now=NOW)

    assert plan.errors == [
        f"pre-flight check failed: green_target_group web-green, but ECS service web-green registers into web-blue",
        f"pre-flight check failed: ECS services web-blue and web-green use the {CODE_DEPLOY}",
    ]


def test_a_service_registering_into_no_target_group_is_named():
    world = worker_world()
    lost = replace(world, ecs_services=by_name(ecs_service("worker", TD4, 2)))

    plan = make_plan(worker_spec(), lost, image_tag="v2", now=NOW)

    assert plan.errors == ["pre-flight check failed: target_group worker, but ECS service worker registers into "
                           "no target group"]
