"""Hooks in the plan: each spec hook is a RunHook step at its stage, with its timeout (pure planner)."""

from __future__ import annotations

from bluegreen.domain.colors import Color
from bluegreen.domain.hook_steps import RunHook
from bluegreen.planning.planner import make_plan
from support.builders import NOW

from unit.planning.test_target_group_swap import web_spec, web_world
from unit.planning.test_task_definition_swap import worker_spec, worker_world

EVERY_STAGE = [
    {"name": "migrate", "kind": "ecs-task", "stage": "before-scale-up", "command": "./migrate up", "timeout": "10m"},
    {"name": "warm", "kind": "command", "stage": "after-healthy", "command": ["./warm-cache"]},
    {"name": "smoke", "kind": "lambda", "stage": "after-test-traffic", "function": "web-smoke", "timeout": "1m",
     "on_timeout": "continue"},
    {"name": "capacity", "kind": "command", "stage": "before-production-step", "command": ["./capacity"]},
    {"name": "announce", "kind": "command", "stage": "after-shift", "command": ["./announce"]},
    {"name": "page", "kind": "command", "stage": "after-rollback", "command": ["./page"]},
]


def ids(plan) -> list[str]:
    return [s.id for s in plan.steps]


def test_every_stage_of_a_target_group_swap_has_its_place_among_the_steps():
    plan = make_plan(web_spec(hooks=EVERY_STAGE), web_world(Color.BLUE), image_tag="v2", now=NOW)

    order = ids(plan)
    assert order.index("register-task-definition") < order.index("hook-migrate") < order.index("deploy-web-green")
    assert order.index("rollout-web-green-healthy") < order.index("hook-warm") < order.index("open-test-listener")
    assert order.index("probe-green") < order.index("hook-smoke") < order.index("hook-capacity-10")
    assert order.index("hook-capacity-10") + 1 == order.index("shift-10-route0")
    assert order.index("bake-10") < order.index("hook-capacity-100") < order.index("shift-100-route0")
    assert order.index("bake-100") < order.index("hook-announce") < order.index("verify-web-green-healthy")
    assert [s.id for s in plan.after_rollback] == ["hook-page"]
    assert not plan.errors


def test_a_hook_step_carries_its_timeout_its_action_and_what_it_runs():
    plan = make_plan(web_spec(hooks=EVERY_STAGE), web_world(Color.BLUE), image_tag="v2", now=NOW)

    migrate = plan.step("hook-migrate")
    assert isinstance(migrate, RunHook)
    assert (migrate.hook_kind, migrate.timeout, migrate.on_timeout) == ("ecs-task", 600.0, "fail")
    assert (migrate.cluster, migrate.service, migrate.container) == ("prod", "web-green", "web")
    assert migrate.task_definition == "@register-task-definition" and migrate.command == ["./migrate", "up"]
    assert migrate.describe() == ("hook migrate (before the new version is scaled up): one-off ECS task of the new "
                                  "revision in prod (web: `./migrate up`), timeout 10m, on timeout fail")
    smoke = plan.step("hook-smoke")
    assert "timeout 1m, on timeout continue" in smoke.describe()
    assert plan.step("hook-capacity-100").facts["traffic_percent"] == "100"
    assert plan.step("hook-capacity-10").facts | {"image": ""} == {
        "service": "web", "region": "us-east-1", "strategy": "ecs-target-group-swap", "stage": "before-production-step",
        "hook": "capacity", "image": "", "live_color": "blue", "target_color": "green", "traffic_percent": "10"}
    assert any("hook smoke (lambda, after-test-traffic) must succeed within 1m (on timeout: continue)" == g
               for g in plan.gates)
    assert any("hook page" in line and "cannot fail the rollback" in line for line in plan.rollback)


def test_hooks_change_nothing_a_plan_counts_as_a_change_and_never_get_an_inverse():
    plan = make_plan(web_spec(hooks=EVERY_STAGE), web_world(Color.BLUE), image_tag="v2", now=NOW)
    without = make_plan(web_spec(), web_world(Color.BLUE), image_tag="v2", now=NOW)

    hooks = [s for s in plan.steps if isinstance(s, RunHook)]
    assert all(not s.mutates and s.inverse() is None for s in hooks)
    assert [s for s in plan.steps if not isinstance(s, RunHook)] == without.steps


def test_in_a_task_definition_swap_the_migration_runs_before_the_service_update():
    hooks = [EVERY_STAGE[0], EVERY_STAGE[3]]
    plan = make_plan(worker_spec(hooks=hooks), worker_world(), image_tag="v2", now=NOW)

    order = ids(plan)
    assert order[order.index("register-task-definition") + 1:order.index("deploy-worker")] == [
        "hook-migrate", "hook-capacity-before-deploy-worker"]
    assert plan.step("hook-migrate").service == "worker"


def test_nothing_to_deploy_plans_no_hooks():
    plan = make_plan(web_spec(hooks=EVERY_STAGE, ecs={"environment": {"LOG_LEVEL": "info"}}), web_world(Color.BLUE),
                     image_tag=None, now=NOW)
    assert plan.steps == [] and plan.after_rollback == []
