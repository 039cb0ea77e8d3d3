"""Application Auto Scaling of the ECS services is suspended for a deployment and put back exactly as it was."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bluegreen.domain.colors import Color
from bluegreen.domain.snapshot import Snapshot
from bluegreen.domain.steps import (
    Bake, RegisterTaskDefinition, ScalingSuspension, SuspendScaling, UpdateService, WaitTargetsHealthy, rollback_steps,
)
from bluegreen.planning.planner import make_plan
from support.builders import NOW, scalable_target
from test_dns_cutover import ECS, api_spec, ecs_world
from test_target_group_swap import web_spec, web_world
from test_task_definition_swap import worker_spec, worker_world

ALL = ScalingSuspension(dynamic_in=True, dynamic_out=True, scheduled=True)
NOTHING = ScalingSuspension()


def scaled(world: Snapshot, **targets) -> Snapshot:
    """Services (by name, `-` as `_`) with Application Auto Scaling targets."""
    return replace(world, ecs_services={n: replace(s, scaling=targets.get(n.replace("-", "_"), s.scaling))
                                        for n, s in world.ecs_services.items()})


def suspend(service: str, previous: ScalingSuspension = NOTHING) -> SuspendScaling:
    return SuspendScaling(id=f"suspend-scaling-{service}", phase="prepare", service=service,
                          resource_id=f"service/prod/{service}", dimension="ecs:service:DesiredCount",
                          suspended=ALL, previous=previous)


def restore(service: str, previous: ScalingSuspension = NOTHING) -> SuspendScaling:
    return SuspendScaling(id=f"restore-scaling-{service}", phase="verify", service=service,
                          resource_id=f"service/prod/{service}", dimension="ecs:service:DesiredCount",
                          suspended=previous, previous=ALL)


@pytest.mark.parametrize("live", list(Color))
def test_a_target_group_swap_suspends_both_services_first_and_restores_them_after_the_cutover(live):
    world = scaled(web_world(live), web_blue=scalable_target("web-blue", scheduled=True),
                   web_green=scalable_target("web-green"))
    old, new = f"web-{live}", f"web-{live.other}"
    was = {"web-blue": ScalingSuspension(scheduled=True), "web-green": NOTHING}

    plan = make_plan(web_spec(), world, image_tag="v2", now=NOW)

    assert plan.errors == []
    assert plan.steps[1:3] == [suspend(old, was[old]), suspend(new, was[new])]
    assert isinstance(plan.steps[3], RegisterTaskDefinition)
    verify = [i for i, s in enumerate(plan.steps) if isinstance(s, WaitTargetsHealthy) and s.phase == "verify"][-1]
    assert plan.steps[verify + 1:verify + 3] == [restore(old, was[old]), restore(new, was[new])]
    assert any("Application Auto Scaling of" in line for line in plan.rollback)


def test_a_service_already_fully_suspended_is_left_alone_and_one_without_scaling_gets_no_step():
    world = scaled(web_world(Color.BLUE), web_blue=scalable_target("web-blue", dynamic_in=True, dynamic_out=True,
                                                                   scheduled=True))

    plan = make_plan(web_spec(), world, image_tag="v2", now=NOW)

    assert not [s for s in plan.steps if isinstance(s, SuspendScaling)]


def test_a_task_definition_swap_suspends_the_service_before_the_update_and_restores_it_after_the_bake():
    world = scaled(worker_world(), worker=scalable_target("worker", dynamic_out=True))
    was = ScalingSuspension(dynamic_out=True)

    plan = make_plan(worker_spec(), world, image_tag="v2", now=NOW)

    kinds = [type(s).__name__ for s in plan.steps]
    assert kinds == ["CheckAlarms", "SuspendScaling", "RegisterTaskDefinition", "UpdateService", "WaitServiceStable",
                     "WaitTargetsHealthy", "Bake", "SuspendScaling"]
    assert plan.steps[1] == suspend("worker", was)
    assert plan.steps[-1] == restore("worker", was)
    assert isinstance(plan.steps[-2], Bake)


def test_a_dns_cutover_restores_scaling_after_the_records_moved():
    world = scaled(ecs_world(Color.BLUE), api_green=scalable_target("api-green"))

    plan = make_plan(api_spec(ECS), world, image_tag="v2", now=NOW)

    ids = [s.id for s in plan.steps]
    assert ids.index("suspend-scaling-api-green") < ids.index("register-task-definition")
    assert ids.index("restore-scaling-api-green") > ids.index("bake-100")


def test_a_rollback_at_any_point_puts_back_exactly_what_was_there():
    world = scaled(worker_world(), worker=scalable_target("worker", scheduled=True))
    plan = make_plan(worker_spec(), world, image_tag="v2", now=NOW)
    was = ScalingSuspension(scheduled=True)
    upto_update = plan.steps[:plan.steps.index(next(s for s in plan.steps if isinstance(s, UpdateService))) + 1]

    during = [s for s in rollback_steps(upto_update) if isinstance(s, SuspendScaling)]
    after_restore = [s for s in rollback_steps(plan.steps) if isinstance(s, SuspendScaling)]

    assert [(s.suspended, s.previous) for s in during] == [(was, ALL)]
    assert [s.suspended for s in after_restore] == [was]  # one change, to the original state


def test_the_step_says_old_and_new_and_its_inverse_swaps_them():
    step = suspend("web-green", ScalingSuspension(scheduled=True))

    assert step.describe() == ("Application Auto Scaling of web-green: scheduled suspended -> "
                               "scale-in, scale-out, scheduled suspended")
    assert step.inverse().describe() == ("Application Auto Scaling of web-green: scale-in, scale-out, scheduled "
                                         "suspended -> scheduled suspended")
    assert step.inverse().target_key() == step.target_key() == "scaling:service/prod/web-green"
