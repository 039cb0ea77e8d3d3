"""`ecs-native` through the CLI on the realistic emulator: ECS's built-in blue/green moves the listener
rules, bluegreen follows its lifecycle, answers its PAUSE hook after our gates, and rolls back through
ECS (StopServiceDeployment ROLLBACK in flight, a new deployment of the previous revision after it)."""

from __future__ import annotations

import json
import signal

from bluegreen.adapters.aws.native import NativeDeployments
from bluegreen.cli.main import main
from bluegreen.local.seed_controlled import NativeSeed
from bluegreen.state.local import LocalStore

from support.engines import (
    harness, healthy, production_rule, revision, rule_split, seeded, service_deployments, started,
)

CHECKOUT = {"checkout": 100, "checkout-alt": 0}  # the production rule with everything on the primary


def on_native(aws, workdir, **seed):
    return seeded(aws, workdir, "checkout", NativeSeed(**seed))


def history(capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["history", "checkout", "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_native_deploy_follows_ecs_through_its_stages_and_answers_the_pause_hook_after_our_gates(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = on_native(realistic_aws, workdir)
    rule = production_rule(realistic_aws, "checkout")

    assert main(["deploy", str(path), "--image-tag", "v2", "--events", "json"]) == 0

    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    stages = [e["stage"] for e in events if e["event"] == "ecs.stage"]
    assert stages[:1] == ["RECONCILE_SERVICE"] or stages[0] in ("PRE_SCALE_UP", "SCALE_UP")
    assert [s for s in ("POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP") if s in stages] \
        == ["POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"]
    assert any(e["event"] == "ecs.hook" and "CONTINUE" in e["message"] for e in events)
    assert rule_split(realistic_aws, rule) == {"checkout": 0, "checkout-alt": 100}
    assert revision(realistic_aws, "checkout") == "checkout:2" and healthy(realistic_aws, "checkout-alt") == 2
    newest = service_deployments(realistic_aws, "checkout")[0]
    assert newest["status"] == "SUCCESSFUL"
    assert [h["status"] for h in newest["lifecycleHookDetails"]] == ["SUCCEEDED"]
    assert history(capsys)[0]["result"] == "succeeded"


def test_an_alarm_firing_at_the_test_traffic_stage_rolls_ecs_back_and_exits_1(
        realistic_aws, workdir, product_on_virtual_clock, monkeypatch, capsys):
    path = on_native(realistic_aws, workdir)
    rule = production_rule(realistic_aws, "checkout")
    cloudwatch = realistic_aws.client("cloudwatch")
    describe = NativeDeployments.describe

    def alarm_once_ecs_waits_at_the_hook(self, arn):
        view = describe(self, arn)
        if view is not None and view.stage == "POST_TEST_TRAFFIC_SHIFT" and view.awaiting:
            cloudwatch.set_alarm_state(AlarmName="checkout-5xx", StateValue="ALARM", StateReason="test")
        return view

    monkeypatch.setattr(NativeDeployments, "describe", alarm_once_ecs_waits_at_the_hook)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    err = capsys.readouterr().err
    assert "alarm in ALARM: checkout-5xx" in err and "Traffic is back" in err
    assert rule_split(realistic_aws, rule) == CHECKOUT
    assert revision(realistic_aws, "checkout") == "checkout:1" and healthy(realistic_aws, "checkout") == 2
    newest = service_deployments(realistic_aws, "checkout")[0]
    assert newest["status"] == "ROLLBACK_SUCCESSFUL" and "ContinueServiceDeployment" in newest["rollback"]["reason"]
    assert history(capsys)[0]["result"] == "rolled-back"


def test_ecs_rolling_back_by_itself_on_its_deployment_alarm_fails_the_deploy_with_ecs_reason(
        realistic_aws, workdir, product_on_virtual_clock, monkeypatch, capsys):
    path = on_native(realistic_aws, workdir, pause_at=(), alarms=("checkout-latency",))
    realistic_aws.client("cloudwatch").put_metric_alarm(
        AlarmName="checkout-latency", MetricName="TargetResponseTime", Namespace="AWS/ApplicationELB",
        Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
    cloudwatch = realistic_aws.client("cloudwatch")
    describe = NativeDeployments.describe

    def latency_once_production_moves(self, arn):
        view = describe(self, arn)
        if view is not None and view.stage in ("POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME"):
            cloudwatch.set_alarm_state(AlarmName="checkout-latency", StateValue="ALARM", StateReason="test")
        return view

    monkeypatch.setattr(NativeDeployments, "describe", latency_once_production_moves)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    err = capsys.readouterr().err
    assert "ECS rolled the deployment back: CloudWatch alarm checkout-latency is in ALARM" in err
    assert rule_split(realistic_aws, production_rule(realistic_aws, "checkout")) == CHECKOUT
    assert revision(realistic_aws, "checkout") == "checkout:1"


def test_rollback_after_a_successful_native_deploy_deploys_the_previous_revision_through_ecs(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = on_native(realistic_aws, workdir)
    rule = production_rule(realistic_aws, "checkout")
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    assert main(["rollback", "checkout"]) == 0

    out = capsys.readouterr().out
    assert "redeploying" in out and "checkout:1" in out
    assert revision(realistic_aws, "checkout") == "checkout:1"
    assert rule_split(realistic_aws, rule) == CHECKOUT and healthy(realistic_aws, "checkout") == 2
    newest = service_deployments(realistic_aws, "checkout")[0]
    assert newest["status"] == "SUCCESSFUL" and newest["targetServiceRevision"]["arn"].endswith("checkout-1")


def test_plan_markdown_shows_ecs_stages_the_hook_and_the_bake_time_with_their_budgets(
        realistic_aws, workdir, capsys):
    path = on_native(realistic_aws, workdir, strategy="LINEAR", linear=(25, 2))

    assert main(["plan", str(path), "--image-tag", "v2", "--format", "markdown"]) == 0

    text = capsys.readouterr().out.replace("\\_", "_")  # Markdown escapes the stages' underscores
    for stage in ("POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"):
        assert f"ECS {stage}" in text, stage
    assert "ECS's PAUSE hook POST_TEST_TRAFFIC_SHIFT" in text and "linear: 25% every 2 min" in text
    assert "bake time 5m" in text and "StopServiceDeployment ROLLBACK" in text
    assert "ecs-native" in text


def test_auto_picks_ecs_native_for_such_a_service_and_says_why(realistic_aws, workdir, capsys):
    path = on_native(realistic_aws, workdir, strategy="CANARY", canary=(10, 3))
    text = path.read_text().replace("strategy: ecs-native", "strategy: auto")
    path.write_text(text)

    assert main(["plan", str(path), "--image-tag", "v2", "--format", "json"]) == 0

    plan = json.loads(capsys.readouterr().out)["plans"][0]
    assert plan["strategy"] == "ecs-native"
    assert "built-in CANARY" in plan["strategy_reasons"][0] and "checkout-alt" in plan["strategy_reasons"][0]


def test_a_native_service_given_a_task_definition_swap_is_refused_with_what_was_found(
        realistic_aws, workdir, capsys):
    path = on_native(realistic_aws, workdir)
    path.write_text(path.read_text().replace("strategy: ecs-native", "strategy: ecs-task-definition-swap"))

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 2

    err = capsys.readouterr().err
    assert "ECS's built-in BLUE_GREEN deployments" in err and "use strategy ecs-native" in err
    assert revision(realistic_aws, "checkout") == "checkout:1" and service_deployments(realistic_aws, "checkout") == []


# --- interrupted: SIGTERM, kill -9 (subprocesses on the scaled clock) ---------------------------------


def test_sigterm_mid_deploy_stops_ecs_deployment_with_rollback(scaled_aws, workdir):
    path = on_native(scaled_aws, workdir)
    deploy = started("deploy", str(path), "--image-tag", "v2")
    try:
        for line in deploy.stdout:  # type: ignore[union-attr]
            if line.startswith("{") and json.loads(line).get("step") == "ecs-bake-time":
                deploy.send_signal(signal.SIGTERM)
                break
        out, err = deploy.communicate(timeout=120)
    finally:
        deploy.kill()

    assert deploy.returncode == 1, err
    assert "interrupted" in err and "Traffic is back" in err
    assert rule_split(scaled_aws, production_rule(scaled_aws, "checkout")) == CHECKOUT
    assert revision(scaled_aws, "checkout") == "checkout:1"
    assert service_deployments(scaled_aws, "checkout")[0]["status"] == "ROLLBACK_SUCCESSFUL"
    assert LocalStore(".bluegreen").read("checkout") is None


def test_kill_9_after_the_hook_was_answered_then_rollback_stops_ecs_deployment(scaled_aws, workdir):
    path = on_native(scaled_aws, workdir)

    killed = harness("deploy", str(path), "--image-tag", "v2",
                     kill_after="bluegreen.execution.controlled:Controlled.answer_hook")
    assert killed.returncode == -signal.SIGKILL
    assert service_deployments(scaled_aws, "checkout")[0]["status"] == "IN_PROGRESS"

    recovered = harness("rollback", "checkout")

    assert recovered.returncode == 0, recovered.stderr
    assert "StopServiceDeployment ROLLBACK" in recovered.stdout
    assert rule_split(scaled_aws, production_rule(scaled_aws, "checkout")) == CHECKOUT
    assert revision(scaled_aws, "checkout") == "checkout:1"
    assert service_deployments(scaled_aws, "checkout")[0]["status"] == "ROLLBACK_SUCCESSFUL"
    assert LocalStore(".bluegreen").read("checkout") is None


def test_a_pause_before_the_shift_holds_ecs_at_its_pause_hook_until_promote(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = on_native(realistic_aws, workdir)
    rule = production_rule(realistic_aws, "checkout")

    assert main(["deploy", str(path), "--image-tag", "v2", "--pause-before-shift"]) == 0

    assert "paused before" in capsys.readouterr().out
    waiting = service_deployments(realistic_aws, "checkout")[0]
    assert (waiting["status"], waiting["lifecycleStage"]) == ("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT")
    assert [h["status"] for h in waiting["lifecycleHookDetails"]] == ["AWAITING_ACTION"]
    assert rule_split(realistic_aws, rule) == CHECKOUT

    assert main(["promote", "checkout"]) == 0

    assert rule_split(realistic_aws, rule) == {"checkout": 0, "checkout-alt": 100}
    assert service_deployments(realistic_aws, "checkout")[0]["status"] == "SUCCESSFUL"


def test_a_pause_before_the_shift_is_refused_when_ecs_has_no_pause_hook_to_hold_at(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = on_native(realistic_aws, workdir, pause_at=())

    assert main(["deploy", str(path), "--image-tag", "v2", "--pause-before-shift"]) == 2

    assert "nowhere to pause before production traffic moves" in capsys.readouterr().err
    assert service_deployments(realistic_aws, "checkout") == [] and revision(realistic_aws, "checkout") == "checkout:1"
