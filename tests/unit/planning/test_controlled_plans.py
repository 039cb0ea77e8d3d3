"""ecs-native and ecs-codedeploy planned from hand-built live state: which strategy `auto` picks and
why, the steps AWS's engine is followed through (and where bluegreen's gates answer it), the live
color, refusals, hooks, inverses and budgets (pure planner, no AWS)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bluegreen.cli.render.markdown import markdown
from bluegreen.domain.codedeploy import DeploymentGroup
from bluegreen.domain.controlled_steps import (
    AnswerLifecycleHook, ContinueCodeDeployDeployment, FollowServiceDeployment, RollBackServiceDeployment,
    StartCodeDeployDeployment, StartServiceDeployment, StopCodeDeployDeployment,
)
from bluegreen.domain.hook_steps import RunHook
from bluegreen.domain.native import NativeHook, NativeLoadBalancer, NativeSetup
from bluegreen.domain.plan import Plan
from bluegreen.domain.snapshot import Snapshot
from bluegreen.domain.spec import Spec
from bluegreen.planning.planner import make_plan
from support.builders import (
    NOW, by_name, ecs_service, forward, listener_arn, rule_arn, snapshot, spec, target_group, task_definition, td_arn,
    tg_arn, with_sections,
)

CHECKOUT_TD = td_arn("checkout", 3)
BILLING_TD = td_arn("billing", 7)
PRODUCTION_RULE = rule_arn("shop", 80, 1)
TEST_RULE = rule_arn("shop", 8080, 1)
PROD_LISTENER = listener_arn("pay", 80)
HEALTH = {"checks": ["target-health", "alarms"], "deadline": "10m", "bake": "1m"}
AT_TEST_TRAFFIC = NativeHook(stages=("POST_TEST_TRAFFIC_SHIFT",), target_type="PAUSE", timeout_minutes=30,
                             timeout_action="ROLLBACK")


def ids(plan: Plan) -> list[str]:
    return [s.id for s in plan.steps]


def budget(plan: Plan, phase: str) -> float:
    return next(b.seconds for b in plan.budgets if b.phase == phase)


# --- ECS's built-in blue/green: the checkout service -------------------------------------------------


def checkout_spec(**sections) -> Spec:
    sections.setdefault("health", HEALTH | {"alarms": ["checkout-5xx"]})
    return spec("checkout", {"ecs": {"cluster": "prod", "service": "checkout", "container": "checkout"}},
                {"target_group": "checkout"}, **sections)


def native(strategy: str = "BLUE_GREEN", *, hooks: tuple[NativeHook, ...] = (AT_TEST_TRAFFIC,),
           production: dict[str, int] | None = None, **fields) -> NativeSetup:
    """checkout's pair: checkout (ECS's primary) and checkout-alt, the production rule all on `production`."""
    weights = forward(production or {"checkout": 100, "checkout-alt": 0})
    lb = NativeLoadBalancer(target_group_arn=tg_arn("checkout"), alternate_target_group_arn=tg_arn("checkout-alt"),
                            production_rule=PRODUCTION_RULE, test_rule=TEST_RULE, role_arn="arn:aws:iam::1:role/ecs-lb",
                            container="checkout", port=8080, production_weights=weights, test_weights=weights)
    return NativeSetup(strategy=strategy, bake_minutes=5, hooks=hooks, load_balancers=(lb,), **fields)


def checkout_world(setup: NativeSetup | None = None, *, strategy: str | None = None) -> Snapshot:
    setup = native() if setup is None else setup
    live = replace(ecs_service("checkout", CHECKOUT_TD, 2, target_groups=["checkout"],
                               strategy=strategy or setup.strategy),
                   native=None if strategy == "ROLLING" else setup, containers=(("checkout", 8080),))
    return snapshot("checkout", target_groups=by_name(target_group("checkout", 2), target_group("checkout-alt")),
                    ecs_services=by_name(live), alarms={"checkout-5xx": "OK"},
                    task_definitions={CHECKOUT_TD: task_definition("checkout", 3, "checkout", "checkout:v1")})


def checkout_plan(setup: NativeSetup | None = None, **sections) -> Plan:
    return make_plan(checkout_spec(**sections), checkout_world(setup), image_tag="v2", now=NOW)


def test_auto_picks_ecs_native_for_a_service_ecs_deploys_itself_and_says_why():
    plan = checkout_plan(strategy="auto")

    assert plan.strategy == "ecs-native" and not plan.errors
    assert plan.strategy_reasons == [
        "ECS service checkout is deployed by ECS's built-in BLUE_GREEN (alternate target group checkout-alt): ECS "
        "moves its listener rules itself, bluegreen follows and gates it -> ecs-native"]


def test_blue_green_with_a_pause_hook_after_test_traffic_is_followed_stage_by_stage_and_gated_at_the_hook():
    plan = checkout_plan()

    assert ids(plan) == ["check-alarms", "register-task-definition", "start-service-deployment", "ecs-post-scale-up",
                         "ecs-to-post-test-traffic-shift-hook", "answer-post-test-traffic-shift-hook",
                         "ecs-post-production-traffic-shift", "ecs-bake-time", "ecs-clean-up"]
    start = plan.step("start-service-deployment")
    assert start == StartServiceDeployment(
        id="start-service-deployment", phase="rollout", cluster="prod", service="checkout",
        task_definition="@register-task-definition", previous_task_definition=CHECKOUT_TD, desired_count=2,
        previous_desired_count=2, strategy="BLUE_GREEN", production_rules=[PRODUCTION_RULE], deadline=600.0,
        interval=10.0)
    answer = plan.step("answer-post-test-traffic-shift-hook")
    assert isinstance(answer, AnswerLifecycleHook) and answer.pausable
    assert (answer.stage, answer.timeout, answer.timeout_action) == ("POST_TEST_TRAFFIC_SHIFT", 1800.0, "ROLLBACK")
    assert answer.gate.alarms == ["checkout-5xx"] and answer.gate.target_group_arns == [tg_arn("checkout-alt")]
    assert answer.gate.hold == 60.0 and answer.deployment == "@start-service-deployment"
    followed = [s for s in plan.steps if isinstance(s, FollowServiceDeployment)]
    assert all(not s.pausable and s.deployment == "@start-service-deployment" for s in followed)
    assert plan.step("ecs-to-post-test-traffic-shift-hook").at_hook
    assert plan.step("ecs-post-production-traffic-shift").watch.target_group_arns == [tg_arn("checkout-alt")]
    assert (plan.live_color, plan.target_color) == ("blue", "green")
    assert plan.traffic == [] and not plan.warnings
    assert plan.state == ["checkout runs 2/2 of checkout:3; ECS's built-in BLUE_GREEN: the production rule sends 100% "
                          "to checkout (blue); the new revision starts in checkout-alt (green)"]
    assert "at ECS's PAUSE hook POST_TEST_TRAFFIC_SHIFT: alarms checkout-5xx, target health for 1m, then CONTINUE " \
           "(ROLLBACK on a failure)" in plan.gates


def test_without_a_pause_hook_ecs_moves_production_by_itself_so_nothing_before_the_shift_can_hold_it():
    plan = checkout_plan(native(hooks=()))

    assert ids(plan)[2:] == ["start-service-deployment", "ecs-post-scale-up", "ecs-post-test-traffic-shift",
                             "ecs-post-production-traffic-shift", "ecs-bake-time", "ecs-clean-up"]
    after_start = plan.steps[ids(plan).index("start-service-deployment") + 1:]
    assert not any(s.pausable for s in after_start)
    assert plan.warnings == [
        "ECS service checkout has no PAUSE lifecycle hook: ECS moves production traffic without waiting for "
        "bluegreen's gates (they still watch, and a failure rolls back); a PAUSE hook at POST_TEST_TRAFFIC_SHIFT lets "
        "them decide before production traffic moves"]


def test_a_linear_shift_budgets_ecs_s_step_waits():
    plan = checkout_plan(native("LINEAR", linear=(25.0, 2.0)))

    shift = plan.step("ecs-post-production-traffic-shift")
    assert "linear: 25% every 2 min" in shift.describe()
    assert shift.budget() == 3 * 120.0 + 10.0 and shift.deadline == 3 * 120.0 + 600.0
    assert budget(plan, "shift") == 60.0 + 370.0 + 300.0  # the hook's hold, the shift, ECS's bake time


def test_hooks_before_scale_up_and_after_the_production_shift_are_each_followed_to_and_answered():
    hook = NativeHook(stages=("PRE_SCALE_UP", "POST_PRODUCTION_TRAFFIC_SHIFT"), target_type="PAUSE",
                      timeout_minutes=20, timeout_action="CONTINUE")
    plan = checkout_plan(native(hooks=(hook,)))

    assert ids(plan)[2:] == ["start-service-deployment", "ecs-to-pre-scale-up-hook", "answer-pre-scale-up-hook",
                             "ecs-post-scale-up", "ecs-post-test-traffic-shift",
                             "ecs-to-post-production-traffic-shift-hook", "answer-post-production-traffic-shift-hook",
                             "ecs-bake-time", "ecs-clean-up"]
    early = plan.step("answer-pre-scale-up-hook")
    assert early.gate.hold == 0.0 and early.gate.target_group_arns == []  # nothing of the new revision runs yet
    late = plan.step("answer-post-production-traffic-shift-hook")
    assert late.gate.hold == 60.0 and late.gate.target_group_arns == [tg_arn("checkout-alt")]
    assert (late.timeout, late.timeout_action) == (1200.0, "CONTINUE")


def test_following_ecs_to_a_hook_after_the_production_shift_watches_what_production_is_moving_to():
    plan = checkout_plan(native("LINEAR", linear=(25.0, 2.0), hooks=(
        NativeHook(stages=("POST_PRODUCTION_TRAFFIC_SHIFT",), target_type="PAUSE", timeout_minutes=20,
                   timeout_action="ROLLBACK"),)))

    through_shift = plan.step("ecs-to-post-production-traffic-shift-hook")
    assert through_shift.phase == "shift"
    assert through_shift.watch.target_group_arns == [tg_arn("checkout-alt")]
    assert through_shift.budget() >= 3 * 120.0  # ECS's linear steps happen in this stretch


def test_when_the_production_rule_already_forwards_to_the_alternate_green_is_live_and_the_primary_gets_the_new_revision():
    plan = checkout_plan(native(production={"checkout": 0, "checkout-alt": 100}))

    assert (plan.live_color, plan.target_color) == ("green", "blue")
    assert plan.state[0].endswith("the production rule sends 100% to checkout-alt (green); the new revision starts "
                                  "in checkout (blue)")
    assert plan.step("answer-post-test-traffic-shift-hook").gate.target_group_arns == [tg_arn("checkout")]
    assert "ECS moves the production rule to checkout (all at once)" in plan.step(
        "ecs-post-production-traffic-shift").describe()


def test_a_split_production_rule_means_a_deployment_is_under_way_and_is_refused():
    plan = checkout_plan(native(production={"checkout": 60, "checkout-alt": 40}))

    assert plan.steps == []
    assert plan.errors == [f"ecs-native cannot be used: the production rule {PRODUCTION_RULE} forwards checkout=60, "
                           "checkout-alt=40: a service deployment is under way (let it finish, or roll it back) "
                           "before the next one"]


@pytest.mark.parametrize("strategy", ["ecs-target-group-swap", "ecs-task-definition-swap"])
def test_editing_the_rules_of_a_service_ecs_swaps_itself_is_refused_with_what_was_found(strategy):
    plan = checkout_plan(strategy=strategy)

    assert plan.strategy == strategy and plan.steps == []
    assert plan.errors == ["pre-flight check failed: ECS service checkout uses ECS's built-in BLUE_GREEN deployments: "
                           "ECS moves its listener rules itself, and editing them too would fight it; use strategy "
                           "ecs-native (or auto), which lets ECS deploy it and gates it, or set its "
                           "deploymentConfiguration.strategy to ROLLING"]


def test_ecs_native_on_a_rolling_service_is_refused():
    plan = make_plan(checkout_spec(strategy="ecs-native"), checkout_world(strategy="ROLLING"), image_tag="v2", now=NOW)

    assert plan.steps == []
    assert plan.errors == ["pre-flight check failed: ECS service checkout uses ECS's ROLLING deployments; strategy "
                           "ecs-native needs ECS's built-in blue/green (deploymentConfiguration.strategy BLUE_GREEN, "
                           "LINEAR or CANARY): use ecs-task-definition-swap or ecs-target-group-swap (or strategy auto)"]


def test_the_start_s_inverse_is_ecs_s_rollback_to_the_previous_revision():
    start = checkout_plan().step("start-service-deployment")

    assert start.inverse() == RollBackServiceDeployment(
        id="undo-start-service-deployment", phase="rollout", cluster="prod", service="checkout",
        task_definition="@register-task-definition", previous_task_definition=CHECKOUT_TD, desired_count=2,
        production_rules=[PRODUCTION_RULE], deployment="@start-service-deployment", deadline=600.0, interval=10.0)
    assert checkout_plan().rollback == [
        "while ECS's deployment is in flight or baking: StopServiceDeployment ROLLBACK (ECS puts the production rule "
        "back on checkout); after it finished: a new deployment of checkout:3"]


def test_budgets_per_phase_add_up_ecs_s_stages():
    plan = checkout_plan()

    assert [(b.phase, b.seconds) for b in plan.budgets] == [
        ("preflight", 0.5), ("prepare", 2.0),
        ("rollout", 2.0 + 45.0 + 10.0),     # start; scale-up (health checks x threshold + 15 s); test traffic to the hook
        ("shift", 60.0 + 10.0 + 300.0),     # the hook's hold; the production shift; ECS's bake time (5 min)
        ("verify", 10.0)]                   # ECS's clean-up


def test_the_plan_renders_as_markdown_with_ecs_s_stages():
    text = markdown([checkout_plan()]).replace("\\_", "_")

    for stage in ("POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"):
        assert f"ECS {stage}" in text, stage
    assert "at ECS's PAUSE hook POST_TEST_TRAFFIC_SHIFT" in text and "StopServiceDeployment ROLLBACK" in text
    assert "| checkout | ecs-native | blue -\\> green |" in markdown([checkout_plan()])


def test_an_in_flight_hook_of_the_spec_cannot_run_in_step_with_ecs():
    hooks = [{"name": "smoke", "kind": "command", "stage": "after-test-traffic", "command": ["./smoke"]}]

    plan = checkout_plan(hooks=hooks)

    assert any(e.startswith("hooks[0] (smoke, after-test-traffic): ECS moves traffic by itself") for e in plan.errors)
    assert "hook-smoke" not in ids(plan)


# --- CodeDeploy: the billing service -------------------------------------------------------------------


def billing_spec(**sections) -> Spec:
    sections.setdefault("health", HEALTH | {"alarms": ["billing-5xx"]})
    return spec("billing", {"ecs": {"cluster": "prod", "service": "billing", "container": "billing"}},
                {"target_group": "billing"}, **sections)


def billing_group(**fields) -> DeploymentGroup:
    return replace(DeploymentGroup(
        application="billing", name="billing-dg", cluster="prod", service="billing",
        config="CodeDeployDefault.ECSAllAtOnce", waits_for_reroute=True, ready_wait_minutes=30,
        termination_wait_minutes=5, target_groups=("billing", "billing-alt"), prod_listeners=(PROD_LISTENER,),
        test_listeners=(listener_arn("pay", 8080),), rollback_on_stop=True,
        service_role_arn="arn:aws:iam::1:role/codedeploy"), **fields)


def billing_world(group: DeploymentGroup | None = None, production: dict[str, int] | None = None) -> Snapshot:
    live = replace(ecs_service("billing", BILLING_TD, 3, target_groups=["billing"], controller="CODE_DEPLOY"),
                   codedeploy=group or billing_group(), containers=(("billing", 8080),),
                   codedeploy_weights=forward(production or {"billing": 100, "billing-alt": 0}))
    return snapshot("billing", target_groups=by_name(target_group("billing", 3), target_group("billing-alt")),
                    ecs_services=by_name(live), alarms={"billing-5xx": "OK"},
                    task_definitions={BILLING_TD: task_definition("billing", 7, "billing", "billing:v1")})


def billing_plan(group: DeploymentGroup | None = None, **sections) -> Plan:
    return make_plan(billing_spec(**sections), billing_world(group), image_tag="v2", now=NOW)


def test_auto_picks_ecs_codedeploy_for_a_code_deploy_service_and_says_why():
    plan = billing_plan(strategy="auto")

    assert plan.strategy == "ecs-codedeploy" and not plan.errors
    assert plan.strategy_reasons == [
        "ECS service billing uses the CODE_DEPLOY controller (CodeDeploy billing/billing-dg, "
        "CodeDeployDefault.ECSAllAtOnce): CodeDeploy swaps it, bluegreen drives and gates the deployment "
        "-> ecs-codedeploy"]


def test_a_group_that_waits_for_the_reroute_is_gated_there_before_production_moves():
    plan = billing_plan()

    assert ids(plan) == ["check-alarms", "register-task-definition", "start-codedeploy-deployment",
                         "codedeploy-install", "codedeploy-test-traffic", "codedeploy-ready",
                         "continue-codedeploy-deployment", "codedeploy-production-traffic",
                         "codedeploy-termination-wait"]
    reroute = plan.step("continue-codedeploy-deployment")
    assert isinstance(reroute, ContinueCodeDeployDeployment) and reroute.pausable and reroute.phase == "shift"
    assert reroute.gate.hold == 60.0 and reroute.gate.target_group_arns == [tg_arn("billing-alt")]
    assert reroute.timeout == 1800.0 and not plan.warnings
    start = plan.step("start-codedeploy-deployment")
    assert (start.application, start.group, start.container, start.port) == ("billing", "billing-dg", "billing", 8080)
    assert start.production_listeners == [PROD_LISTENER] and start.hooks == []
    assert (plan.live_color, plan.target_color) == ("blue", "green")


def test_a_group_that_does_not_wait_is_followed_without_a_gate_and_warned_about():
    plan = billing_plan(billing_group(waits_for_reroute=False))

    assert "codedeploy-ready" not in ids(plan) and "continue-codedeploy-deployment" not in ids(plan)
    assert not any(s.pausable for s in plan.steps[ids(plan).index("start-codedeploy-deployment") + 1:])
    assert plan.warnings == [
        "CodeDeploy group billing-dg does not wait for a reroute (deploymentReadyOption CONTINUE_DEPLOYMENT): "
        "production traffic moves without waiting for bluegreen's gates (they still watch, and a failure stops the "
        "deployment with rollback)"]


def test_lambda_hooks_go_into_the_appspec_and_a_before_scale_up_hook_still_runs_before_the_start():
    hooks = [{"name": "smoke", "kind": "lambda", "stage": "after-test-traffic", "function": "billing-smoke"},
             {"name": "ready", "kind": "lambda", "stage": "before-production-step", "function": "billing-ready"},
             {"name": "announce", "kind": "lambda", "stage": "after-shift", "function": "billing-announce"},
             {"name": "migrate", "kind": "command", "stage": "before-scale-up", "command": ["./migrate"]}]

    plan = billing_plan(hooks=hooks)

    assert not plan.errors
    assert plan.step("start-codedeploy-deployment").hooks == [
        ("AfterAllowTestTraffic", "billing-smoke"), ("BeforeAllowTraffic", "billing-ready"),
        ("AfterAllowTraffic", "billing-announce")]
    assert [s.id for s in plan.steps if isinstance(s, RunHook)] == ["hook-migrate"]
    assert ids(plan).index("hook-migrate") + 1 == ids(plan).index("start-codedeploy-deployment")


def test_a_command_hook_while_codedeploy_moves_traffic_is_an_error_naming_the_hook():
    plan = billing_plan(hooks=[{"name": "smoke", "kind": "command", "stage": "after-test-traffic",
                                "command": ["./smoke"]}])

    assert plan.errors == [
        "hooks[0] (smoke, after-test-traffic): CodeDeploy moves traffic by itself, so bluegreen cannot run a command "
        "hook in step with it; give it as a Lambda hook (CodeDeploy runs it from the AppSpec), or use before-scale-up "
        "or after-rollback"]


def test_a_codedeploy_listener_on_the_second_target_group_makes_green_live():
    plan = make_plan(billing_spec(), billing_world(production={"billing": 0, "billing-alt": 100}), image_tag="v2",
                     now=NOW)

    assert (plan.live_color, plan.target_color) == ("green", "blue")
    assert plan.step("continue-codedeploy-deployment").gate.target_group_arns == [tg_arn("billing")]


def test_a_split_codedeploy_listener_is_refused():
    plan = make_plan(billing_spec(), billing_world(production={"billing": 50, "billing-alt": 50}), image_tag="v2",
                     now=NOW)

    assert plan.steps == []
    assert plan.errors == ["ecs-codedeploy cannot be used: the production listener of CodeDeploy group billing-dg "
                           "forwards billing=50, billing-alt=50: a deployment is under way (let it finish, or stop it) "
                           "before the next one"]


def test_the_codedeploy_start_s_inverse_stops_it_with_rollback_to_the_previous_revision():
    start = billing_plan().step("start-codedeploy-deployment")

    assert isinstance(start, StartCodeDeployDeployment)
    assert start.inverse() == StopCodeDeployDeployment(
        id="undo-start-codedeploy-deployment", phase="rollout", application="billing", group="billing-dg",
        cluster="prod", service="billing", deployment="@start-codedeploy-deployment",
        task_definition="@register-task-definition", previous_task_definition=BILLING_TD, container="billing",
        port=8080, production_listeners=[PROD_LISTENER], deadline=600.0, interval=10.0)


def test_codedeploy_budgets_count_the_reroute_gate_and_the_termination_wait():
    plan = billing_plan()

    assert [(b.phase, b.seconds) for b in plan.budgets] == [
        ("preflight", 0.5), ("prepare", 2.0),
        ("rollout", 2.0 + 45.0 + 10.0 + 5.0),   # start; the replacement set healthy; test traffic; to Ready
        ("shift", 60.0 + 15.0),                 # the gates held at the reroute wait; the production reroute
        ("verify", 300.0 + 5.0)]                # the group's termination wait (5 min)


def test_an_explicit_task_definition_swap_of_a_code_deploy_service_is_refused():
    plan = make_plan(with_sections(billing_spec(), strategy="ecs-task-definition-swap"), billing_world(),
                     image_tag="v2", now=NOW)

    assert plan.steps == []
    assert any("uses the CODE_DEPLOY deployment controller: CodeDeploy swaps it" in e for e in plan.errors)
