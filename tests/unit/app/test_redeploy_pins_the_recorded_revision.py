"""`redeploy.pinned`: a fresh plan for an older image, rewritten to run the revision recorded with it
(registering nothing) with the recorded count; everything else in the plan is kept as planned."""

from __future__ import annotations

from bluegreen.app.redeploy import Recorded, live_before, pinned
from bluegreen.domain.deployment import started_record
from bluegreen.domain.steps import RegisterTaskDefinition, UpdateService, WaitServiceStable, WaitTargetsHealthy
from bluegreen.planning.planner import make_plan

from support.builders import NOW, by_name, ecs_service, snapshot, spec, target_group, task_definition, td_arn

TD1, TD4 = td_arn("worker", 1), td_arn("worker", 4)


def worker_plan(desired: int | None = None):
    ecs = {"cluster": "prod", "service": "worker", "container": "worker"}
    if desired is not None:
        ecs["desired_count"] = desired
    worker = spec("worker", {"ecs": ecs}, {"target_group": "worker"},
                  health={"checks": ["ecs-steady-state", "target-health"], "deadline": "15m", "bake": "1m"})
    world = snapshot("worker", target_groups=by_name(target_group("worker", 2)),
                     ecs_services=by_name(ecs_service("worker", TD4, 2, target_groups=["worker"])),
                     task_definitions={TD4: task_definition("worker", 4, "worker", "worker:v4")})
    return worker, make_plan(worker, world, image_tag="v2", now=NOW)


def test_the_recorded_revision_replaces_the_registration_and_the_recorded_count_the_planned_one():
    _, plan = worker_plan(desired=3)

    again = pinned(plan, Recorded(image="worker@sha256:" + "1" * 64, revision=TD1, desired_count=2))

    assert not any(isinstance(s, RegisterTaskDefinition) for s in again.steps)
    update = next(s for s in again.steps if isinstance(s, UpdateService))
    assert (update.task_definition, update.desired_count, update.previous_task_definition) == (TD1, 2, TD4)
    stable = next(s for s in again.steps if isinstance(s, WaitServiceStable))
    assert (stable.task_definition, stable.desired_count) == (TD1, 2)
    assert next(s for s in again.steps if isinstance(s, WaitTargetsHealthy)).min_healthy == 2
    assert not any(str(v).startswith("@") for s in again.steps for v in s.model_dump().values())
    assert len(again.steps) == len(plan.steps) - 1


def test_without_a_recorded_revision_the_plan_is_kept_as_it_is():
    _, plan = worker_plan()

    assert pinned(plan, Recorded(image="worker:v1")) == plan


def test_a_record_keeps_what_was_live_before_it_for_the_rollback_after_it():
    worker, plan = worker_plan(desired=3)
    record = started_record(deployment_id="worker-20261122T000000Z-abcdef", spec=worker, plan=plan,
                            spec_path="worker.yaml", who="ci", now=0.0, now_iso="2026-11-22T00:00:00+00:00")

    before = live_before(record)

    assert before is not None and before.revision == TD4 and before.desired_count == 2
    assert before.image == "worker:v4" and before.digest == "v4"
