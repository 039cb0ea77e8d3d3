"""DNS cutover on ECS and on Auto Scaling, planned from hand-built live state and compared step for step."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import pytest

from bluegreen.domain.colors import Color
from bluegreen.domain.snapshot import Snapshot
from bluegreen.domain.steps import (
    Bake, Capacity, CheckAlarms, CreateGroup, CreateLaunchTemplateVersion, KeepWarm, RegisterTaskDefinition,
    SetRecordWeights, SuspendProcesses, UpdateGroup, UpdateService, WaitGroupInService, WaitServiceStable,
    WaitTargetsHealthy,
)
from bluegreen.domain.spec import Spec
from bluegreen.planning.planner import make_plan
from support.builders import (
    NOW, ZONE_ID, asg, boot_script, by_name, ecs_service, launch_template, pinned, snapshot, spec, target_group,
    task_definition, td_arn, tg_arn, weighted_records,
)

ENDPOINTS = {Color.BLUE: "api-blue.lb.example.com", Color.GREEN: "api-green.lb.example.com"}
TD7 = td_arn("api", 7)
CAVEAT = "resolvers may keep answering the old weights for up to 60s, and some clients ignore TTLs"


def api_spec(platform: dict, **sections) -> Spec:
    dns = {"hosted_zone": "example.com", "record": "api.example.com", "ttl": "60s",
           "endpoints": {"blue": ENDPOINTS[Color.BLUE], "green": ENDPOINTS[Color.GREEN]}} | sections.pop("dns", {})
    sections.setdefault("shift", {"mode": "linear", "step_percent": 50})
    sections.setdefault("health", {"alarms": ["api-5xx"], "bake": "20s"})
    return spec("api", platform, {"dns": dns}, **sections)


ECS = {"ecs": {"cluster": "prod", "services": {"blue": "api-blue", "green": "api-green"}, "container": "api"}}
ASG = {"asg": {"launch_template": "api", "name_pattern": "api-{color}", "suspend_processes": []}}


def api_world(live: Color, *, ttl: int = 60, **fields) -> Snapshot:
    """Weighted CNAMEs with all weight on `live`; each stack has its own target group."""
    return snapshot("api", dns_zone_id=ZONE_ID, dns_records=weighted_records("api.example.com", ENDPOINTS, live, ttl),
                    target_groups=by_name(*(target_group(f"api-{c}", 2 if c is live else 0) for c in Color)),
                    alarms={"api-5xx": "OK"}, **fields)


def ecs_world(live: Color, **kw) -> Snapshot:
    td = task_definition("api", 7, "api", "api:v1")
    return api_world(live, ecs_services=by_name(*(ecs_service(f"api-{c}", TD7, 2 if c is live else 0,
                                                              target_groups=[f"api-{c}"]) for c in Color)),
                     task_definitions={TD7: td}, **kw)


def asg_world(live: Color, *, idle: bool = True, **kw) -> Snapshot:
    ud = boot_script("api:v1")
    groups = [asg(f"api-{live}", 2, launch_template_name="api", user_data=ud, target_groups=[f"api-{live}"])]
    if idle:
        groups.append(asg(f"api-{live.other}", 0, min_size=0, launch_template_name="api", user_data=ud,
                          target_groups=[f"api-{live.other}"]))
    return api_world(live, asgs=by_name(*groups), launch_templates=by_name(launch_template("api", 2, 2, ud)), **kw)


def record_steps(live: Color, watched: list[str], hold: float = 60.0) -> list:
    """Weights move 50 then 100, each step held at least the 60s TTL (longer than the 20s bake)."""
    new = live.other
    values = {"blue": ENDPOINTS[Color.BLUE], "green": ENDPOINTS[Color.GREEN]}
    record = dict(phase="shift", zone_id=ZONE_ID, record="api.example.com", type="CNAME", ttl=60, values=values)
    bake = dict(phase="shift", duration=hold, alarms=["api-5xx"], target_group_arns=watched, interval=10.0,
                reason=f"at least the record TTL of 60s; {CAVEAT}")
    return [
        SetRecordWeights(id="shift-50", weights={live: 50, new: 50}, previous={live: 100, new: 0}, **record),
        Bake(id="bake-50", **bake),
        SetRecordWeights(id="shift-100", weights={live: 0, new: 100}, previous={live: 50, new: 50}, **record),
        Bake(id="bake-100", **bake),
    ]


@pytest.mark.parametrize("live", list(Color))
def test_on_ecs_the_idle_stack_gets_the_new_revision_then_the_record_weights_move(live):
    spec_ = api_spec(ECS, dns={"target_groups": {"blue": "api-blue", "green": "api-green"}})

    plan = make_plan(spec_, ecs_world(live), image_tag="v2", now=NOW)

    new, waits = f"api-{live.other}", dict(deadline=600.0, interval=10.0)
    assert plan.steps == [
        CheckAlarms(id="check-alarms", phase="preflight", alarms=["api-5xx"]),
        RegisterTaskDefinition(id="register-task-definition", phase="prepare", family="api", base_arn=TD7,
                               container="api", image=pinned("api")),
        UpdateService(id=f"deploy-{new}", phase="prepare", cluster="prod", service=new,
                      task_definition="@register-task-definition", previous_task_definition=TD7,
                      desired_count=2, previous_desired_count=0),
        WaitServiceStable(id=f"wait-{new}-stable", phase="rollout", cluster="prod", service=new,
                          task_definition="@register-task-definition", desired_count=2, **waits),
        WaitTargetsHealthy(id=f"rollout-{new}-healthy", phase="rollout", target_group_arn=tg_arn(new),
                           target_group=new, min_healthy=2, expected=30.0, **waits),
        *record_steps(live, [tg_arn(new)]),
        KeepWarm(id=f"keep-{live}-warm", phase="finalize", color=live, duration=86400.0),
        UpdateService(id=f"scale-down-api-{live}", phase="finalize", cluster="prod", service=f"api-{live}",
                      desired_count=0, previous_desired_count=2),
    ]
    assert (plan.live_color, plan.target_color) == (live, live.other)
    assert plan.rollback[0] == (f"record weights back to {live} 100% in one change; clients may keep the new "
                                "answer for up to 60s")
    assert (f"resolvers may keep answering the old weights for up to the TTL (60s) after each step, and some "
            f"clients ignore TTLs altogether: {live} stays warm for 24h") in plan.warnings


@pytest.mark.parametrize("live", list(Color))
def test_on_auto_scaling_the_idle_stacks_group_gets_the_new_version_then_the_record_weights_move(live):
    plan = make_plan(api_spec(ASG), asg_world(live), image_tag="v2", now=NOW)

    new, old = f"api-{live.other}", f"api-{live}"
    assert plan.steps == [
        CheckAlarms(id="check-alarms", phase="preflight", alarms=["api-5xx"]),
        CreateLaunchTemplateVersion(id="create-launch-template-version", phase="prepare", template="api",
                                    source_version=2, image=pinned("api"),
                                    user_data=boot_script(pinned("api"), host_port=80, container_port=80)),
        UpdateGroup(id=f"scale-{new}", phase="prepare", group=new, capacity=Capacity(min=2, max=4, desired=2),
                    previous_capacity=Capacity(min=0, max=4, desired=0), launch_template="api",
                    launch_template_version="@create-launch-template-version", previous_launch_template_version="1"),
        WaitGroupInService(id=f"wait-{new}-in-service", phase="rollout", group=new, desired=2, deadline=600.0,
                           interval=10.0, expected=90.0),
        *record_steps(live, []),
        KeepWarm(id=f"keep-{live}-warm", phase="finalize", color=live, duration=86400.0),
        UpdateGroup(id=f"scale-down-{old}", phase="finalize", group=old, capacity=Capacity(min=0, max=4, desired=0),
                    previous_capacity=Capacity(min=2, max=4, desired=2)),
    ]


def test_a_recreated_dns_stack_group_is_attached_to_its_own_target_group_at_creation():
    spec_ = api_spec(ASG, dns={"target_groups": {"blue": "api-blue", "green": "api-green"}})

    plan = make_plan(spec_, asg_world(Color.GREEN, idle=False), image_tag="v2", now=NOW)

    create = next(s for s in plan.steps if isinstance(s, CreateGroup))
    assert create == CreateGroup(id="create-api-blue", phase="prepare", group="api-blue", copy_of="api-green",
                                 launch_template="api", launch_template_version="@create-launch-template-version",
                                 subnets=["subnet-a", "subnet-b"], health_check_type="ELB", health_check_grace=90,
                                 target_group_arns=[tg_arn("api-blue")])
    assert next(s for s in plan.steps if isinstance(s, Bake)).target_group_arns == [tg_arn("api-blue")]


def test_suspended_processes_on_a_dns_stack_are_resumed_after_the_cutover():
    spec_ = api_spec({"asg": ASG["asg"] | {"suspend_processes": ["AZRebalance"]}})

    plan = make_plan(spec_, asg_world(Color.BLUE), image_tag="v2", now=NOW)

    resumes = [s for s in plan.steps if isinstance(s, SuspendProcesses) and s.resume]
    assert [(s.id, s.phase) for s in resumes] == [("resume-api-green", "verify"), ("resume-api-blue", "verify")]
    assert plan.steps.index(resumes[0]) == plan.steps.index(next(s for s in plan.steps if s.id == "bake-100")) + 1


def test_a_live_ttl_longer_than_the_spec_holds_each_step_that_long():
    plan = make_plan(api_spec(ECS), ecs_world(Color.BLUE, ttl=300), image_tag="v2", now=NOW)

    shifts = [s for s in plan.steps if isinstance(s, SetRecordWeights)]
    bakes = [s for s in plan.steps if isinstance(s, Bake)]
    assert {s.ttl for s in shifts} == {300}
    assert [b.duration for b in bakes] == [300.0, 300.0]
    assert [t.hold for t in plan.traffic] == [300.0, 300.0]


def test_records_found_by_endpoint_keep_their_own_set_identifiers():
    world = ecs_world(Color.BLUE)
    world = replace(world, dns_records=tuple(replace(r, set_identifier=f"stack-{r.set_identifier}")
                                             for r in world.dns_records))

    plan = make_plan(api_spec(ECS), world, image_tag="v2", now=NOW)

    first = next(s for s in plan.steps if isinstance(s, SetRecordWeights))
    assert first.weights == {"stack-blue": 50, "stack-green": 50}
    assert first.values == {"stack-blue": ENDPOINTS[Color.BLUE], "stack-green": ENDPOINTS[Color.GREEN]}


def test_no_image_tag_means_no_changes():
    plan = make_plan(api_spec(ECS), ecs_world(Color.GREEN), now=NOW)

    assert plan.steps == [] and plan.errors == [] and plan.live_color == Color.GREEN


def _weights(blue: int, green: int) -> Callable[[Snapshot], Snapshot]:
    return lambda w: replace(w, dns_records=tuple(replace(r, weight=blue if r.set_identifier == "blue" else green)
                                                  for r in w.dns_records))


REFUSALS = {
    "the hosted zone is not found": (lambda w: replace(w, dns_zone_id=None), "hosted zone example.com not found"),
    "the green record is missing": (
        lambda w: replace(w, dns_records=tuple(r for r in w.dns_records if r.set_identifier != "green")),
        "no weighted record api.example.com for green in zone example.com"),
    "no weighted record at all": (
        lambda w: replace(w, dns_records=tuple(replace(r, weight=None) for r in w.dns_records)),
        "no weighted record api.example.com for blue and green in zone example.com"),
    "a split weight": (_weights(70, 30), "record api.example.com splits traffic blue 70 / green 30: a deployment "
                                         "is in flight; finish it (bluegreen promote) or roll it back (bluegreen "
                                         "rollback) first"),
    "no weight on either record": (_weights(0, 0), "record api.example.com sends no traffic to blue or green"),
    "a service is not found": (lambda w: replace(w, ecs_services={"api-blue": w.ecs_services["api-blue"]}),
                               "ECS service api-green not found in cluster prod"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_records_or_stacks_that_do_not_match_the_spec_are_refused(case):
    broken, message = REFUSALS[case]

    plan = make_plan(api_spec(ECS), broken(ecs_world(Color.BLUE)), image_tag="v2", now=NOW)

    assert plan.steps == []
    assert plan.errors == [f"dns-cutover cannot be used: {message}"]


def test_a_missing_idle_service_is_refused_even_without_changes():
    world = ecs_world(Color.BLUE)

    plan = make_plan(api_spec(ECS), replace(world, ecs_services={"api-blue": world.ecs_services["api-blue"]}), now=NOW)

    assert plan.errors == ["dns-cutover cannot be used: ECS service api-green not found in cluster prod"]


def test_a_stacks_target_group_not_found_is_refused():
    spec_ = api_spec(ECS, dns={"target_groups": {"blue": "api-blue", "green": "api-green"}})
    world = ecs_world(Color.BLUE)

    plan = make_plan(spec_, replace(world, target_groups={"api-blue": world.target_groups["api-blue"]}),
                     image_tag="v2", now=NOW)

    assert plan.errors == ["dns-cutover cannot be used: target group api-green not found"]


def test_one_ecs_service_for_two_dns_stacks_is_refused():
    one = {"ecs": {"cluster": "prod", "service": "api-blue", "container": "api"}}

    plan = make_plan(api_spec(one), ecs_world(Color.BLUE), image_tag="v2", now=NOW)

    assert plan.errors == ["dns-cutover cannot be used: on ECS needs one service per color (`services: {blue, green}`)"]


def test_an_auto_scaling_stack_without_its_launch_template_is_refused():
    plan = make_plan(api_spec(ASG), replace(asg_world(Color.BLUE), launch_templates={}), image_tag="v2", now=NOW)

    assert plan.errors == ["dns-cutover cannot be used: launch template api not found"]
