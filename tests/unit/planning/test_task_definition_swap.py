"""ECS task-definition swap: one service updated in place, planned from hand-built live state."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bluegreen.domain.snapshot import Snapshot
from bluegreen.domain.steps import (
    Bake, CheckAlarms, Probe, ProbeHttp, RegisterTaskDefinition, UpdateService, WaitServiceStable, WaitTargetsHealthy,
)
from bluegreen.domain.spec import Spec
from bluegreen.planning.planner import make_plan
from support.builders import NOW, by_name, ecs_service, pinned, route, snapshot, spec, target_group, task_definition, td_arn, tg_arn

TD4 = td_arn("worker", 4)


def worker_spec(traffic: dict | None = None, **sections) -> Spec:
    ecs = {"cluster": "prod", "service": "worker", "container": "worker", "cpu": 512, "memory": 1024,
           "environment": {"QUEUE_NAME": "jobs"}} | sections.pop("ecs", {})
    sections.setdefault("health", {"checks": ["ecs-steady-state", "target-health", "alarms"],
                                   "alarms": ["worker-dlq"], "deadline": "15m", "bake": "1m"})
    return spec("worker", {"ecs": {**ecs}}, traffic or {"target_group": "worker"}, **sections)


def worker_world(*, circuit_breaker: bool = False, classic_elbs: tuple[str, ...] = ()) -> Snapshot:
    td = task_definition("worker", 4, "worker", "worker:v1", environment={"QUEUE_NAME": "jobs"}, cpu=256, memory=1024)
    return snapshot("worker", target_groups=by_name(target_group("worker", 2)),
                    ecs_services=by_name(ecs_service("worker", TD4, 2, target_groups=["worker"],
                                                     circuit_breaker=circuit_breaker, classic_elbs=classic_elbs)),
                    task_definitions={TD4: td}, alarms={"worker-dlq": "OK"})


def test_the_one_service_gets_a_new_revision_gated_on_its_target_group_then_one_bake():
    plan = make_plan(worker_spec(), worker_world(), image_tag="v2", now=NOW)

    waits = dict(deadline=900.0, interval=10.0)
    assert plan.steps == [
        CheckAlarms(id="check-alarms", phase="preflight", alarms=["worker-dlq"]),
        RegisterTaskDefinition(id="register-task-definition", phase="prepare", family="worker", base_arn=TD4,
                               container="worker", image=pinned("worker"), environment={"QUEUE_NAME": "jobs"},
                               cpu=512, memory=1024),
        UpdateService(id="deploy-worker", phase="shift", cluster="prod", service="worker",
                      task_definition="@register-task-definition", previous_task_definition=TD4,
                      desired_count=2, previous_desired_count=2),
        WaitServiceStable(id="wait-worker-stable", phase="rollout", cluster="prod", service="worker",
                          task_definition="@register-task-definition", desired_count=2, **waits),
        WaitTargetsHealthy(id="rollout-worker-healthy", phase="rollout", target_group_arn=tg_arn("worker"),
                           target_group="worker", min_healthy=2, expected=30.0, **waits),
        Bake(id="bake", phase="verify", duration=60.0, alarms=["worker-dlq"], target_group_arns=[tg_arn("worker")],
             interval=10.0),
    ]
    assert plan.live_color is None and plan.target_color is None
    assert plan.state == ["worker runs 2/2 of worker:4"]
    assert plan.rollback == ["update worker back to worker:4 with 2 task(s) and wait for it to be stable"]
    assert [c.field for c in plan.changes] == ["image", "cpu"]


def test_an_ecs_circuit_breaker_is_named_as_a_gate():
    plan = make_plan(worker_spec(), worker_world(circuit_breaker=True), image_tag="v2", now=NOW)

    assert plan.gates[-1] == "the ECS deployment circuit breaker is on: an ECS-side rollback fails the deployment"


def test_behind_a_classic_elb_there_is_no_target_health_to_wait_for_but_the_probe_and_alarms_gate():
    health = {"alarms": ["worker-dlq"], "http": {"url": "http://127.0.0.1:9000/ok", "body_contains": "ok"}}
    plan = make_plan(worker_spec({"classic_elb": "worker-elb"}, health=health), worker_world(classic_elbs=("worker-elb",)),
                     image_tag="v2", now=NOW)

    probe = Probe(url="http://127.0.0.1:9000/ok", expected_status=[200], body_contains="ok")
    assert plan.steps[3:] == [
        WaitServiceStable(id="wait-worker-stable", phase="rollout", cluster="prod", service="worker",
                          task_definition="@register-task-definition", desired_count=2, deadline=600.0, interval=10.0),
        ProbeHttp(id="probe-green", phase="rollout", probe=probe, deadline=600.0, interval=10.0),
        Bake(id="bake", phase="verify", duration=60.0, alarms=["worker-dlq"], probe=probe, interval=10.0),
    ]


def test_nothing_to_change_plans_no_steps():
    plan = make_plan(worker_spec(ecs={"cpu": 256}), worker_world(), now=NOW)

    assert plan.steps == [] and plan.changes == [] and plan.errors == []


REFUSALS = {
    "the service is not found": (lambda s: replace(s, ecs_services={}), "ECS service worker not found in cluster prod"),
    "its task definition is not found": (lambda s: replace(s, task_definitions={}),
                                         f"task definition {TD4} of worker not found"),
    "the target group is not found": (lambda s: replace(s, target_groups={}), "target group worker not found"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_missing_live_resources_are_refused(case):
    broken, message = REFUSALS[case]

    plan = make_plan(worker_spec(), broken(worker_world()), image_tag="v2", now=NOW)

    assert plan.steps == []
    assert plan.errors == [f"ecs-task-definition-swap cannot be used: {message}"]


def test_a_container_not_in_the_task_definition_is_refused():
    plan = make_plan(worker_spec(ecs={"container": "sidecar"}), worker_world(), image_tag="v2", now=NOW)

    assert plan.errors == ["ecs-task-definition-swap cannot be used: container sidecar not found in worker:4"]


def test_one_service_behind_listener_routes_is_refused_rather_than_ignoring_the_routes():
    routes = {"routes": [route("worker-alb", 80, "worker-blue", "worker-green")]}

    plan = make_plan(worker_spec(routes), worker_world(), image_tag="v2", now=NOW)

    assert plan.strategy == "ecs-task-definition-swap" and plan.steps == []
    assert plan.errors == ["ecs-task-definition-swap cannot be used: updates the service behind its own target "
                           "group or classic ELB; listener routes or a DNS record need one ECS service per color "
                           "(`services: {blue, green}`)"]


def test_nothing_drains_so_the_deregistration_delay_warns_of_nothing():
    # discovery does not read the delay of a group that stays attached: it is ELB's default (300 s) here
    world = worker_world()
    world = replace(world, target_groups=by_name(target_group("worker", 2, deregistration_delay=300)))

    plan = make_plan(worker_spec(), world, image_tag="v2", now=NOW)

    assert not worker_spec().drains
    assert not [w for w in plan.warnings if "deregistration delay" in w]
