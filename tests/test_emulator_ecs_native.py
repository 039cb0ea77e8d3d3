"""The realistic emulator's ECS built-in blue/green: a service deployment walks ECS's lifecycle stages,
moves the listener rules' weights, waits at PAUSE hooks and rolls back (bluegreen.local.ecs_native;
divergences in bluegreen/local/DIVERGENCES.md)."""

from __future__ import annotations

from emulator_helpers import PAUSE_AT_TEST, deploy, described, error_of, native_web, run_until

def test_a_blue_green_deployment_walks_every_stage_and_ends_with_production_on_the_new_target_group(realistic_aws):
    n = native_web(realistic_aws)
    n.service(bake_minutes=5)
    realistic_aws.advance(60)
    arn = deploy(n)["arn"]

    stages = run_until(realistic_aws, n, arn, "never", step=5)

    assert stages == ["RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
                      "POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT",
                      "BAKE_TIME", "CLEAN_UP"]
    assert described(n, arn)["status"] == "SUCCESSFUL"
    assert n.weights() == {n.web.target_group: 0, n.alternate: 100}
    assert n.weights(n.test_rule)[n.alternate] == 100
    realistic_aws.advance(120)
    assert {t["taskDefinitionArn"] for t in n.web.tasks()} == {n.web.revision("repo:v2")}
    assert set(n.web.targets(n.alternate)) and not set(n.web.targets())


def test_the_old_revision_keeps_running_through_the_bake_time(realistic_aws):
    n = native_web(realistic_aws)
    n.service(bake_minutes=10)
    realistic_aws.advance(60)
    arn = deploy(n)["arn"]
    run_until(realistic_aws, n, arn, "BAKE_TIME")
    realistic_aws.advance(300)

    assert described(n, arn)["lifecycleStage"] == "BAKE_TIME"
    assert {t["taskDefinitionArn"] for t in n.web.tasks()} == {n.web.revision("repo:v1"), n.web.revision("repo:v2")}
    realistic_aws.advance(330)
    assert described(n, arn)["status"] == "SUCCESSFUL"


def test_the_next_deployment_goes_to_the_target_group_serving_no_production_traffic(realistic_aws):
    n = native_web(realistic_aws)
    n.service(bake_minutes=0)
    realistic_aws.advance(60)
    run_until(realistic_aws, n, deploy(n)["arn"], "never")
    realistic_aws.advance(60)
    run_until(realistic_aws, n, deploy(n, "repo:v3")["arn"], "never")

    assert n.weights() == {n.web.target_group: 100, n.alternate: 0}


def test_a_pause_hook_waits_for_continue_and_then_the_deployment_goes_on(realistic_aws):
    n = native_web(realistic_aws)
    n.service(hooks=PAUSE_AT_TEST, bake_minutes=0)
    realistic_aws.advance(60)
    arn = deploy(n)["arn"]
    run_until(realistic_aws, n, arn, "POST_TEST_TRAFFIC_SHIFT")
    realistic_aws.advance(600)

    d = described(n, arn)
    [hook] = d["lifecycleHookDetails"]
    assert d["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT" and hook["status"] == "AWAITING_ACTION"
    assert hook["timeoutAction"] == "ROLLBACK" and hook["expiresAt"]
    assert n.weights()[n.web.target_group] == 100 and n.weights(n.test_rule)[n.alternate] == 100

    n.web.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="CONTINUE")
    run_until(realistic_aws, n, arn, "never")
    assert described(n, arn)["status"] == "SUCCESSFUL"


def test_rollback_at_a_pause_hook_puts_traffic_back_and_stops_the_new_tasks(realistic_aws):
    n = native_web(realistic_aws)
    n.service(hooks=PAUSE_AT_TEST)
    realistic_aws.advance(60)
    arn = deploy(n)["arn"]
    run_until(realistic_aws, n, arn, "POST_TEST_TRAFFIC_SHIFT")
    hook = described(n, arn)["lifecycleHookDetails"][0]["hookId"]

    n.web.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook, action="ROLLBACK")
    realistic_aws.advance(120)

    d = described(n, arn)
    assert d["status"] == "ROLLBACK_SUCCESSFUL" and "ContinueServiceDeployment" in d["rollback"]["reason"]
    assert n.weights() == {n.web.target_group: 100, n.alternate: 0}
    assert n.weights(n.test_rule)[n.web.target_group] == 100
    assert {t["taskDefinitionArn"] for t in n.web.tasks()} == {n.web.revision("repo:v1")}
    assert n.web.describe()["taskDefinition"] == n.web.revision("repo:v1")


def test_a_pause_hook_that_times_out_takes_its_timeout_action(realistic_aws):
    n = native_web(realistic_aws)
    n.service(hooks=PAUSE_AT_TEST)
    realistic_aws.advance(60)
    arn = deploy(n)["arn"]
    run_until(realistic_aws, n, arn, "POST_TEST_TRAFFIC_SHIFT")
    realistic_aws.advance(31 * 60)

    d = described(n, arn)
    assert d["status"] == "ROLLBACK_SUCCESSFUL" and d["lifecycleHookDetails"][0]["status"] == "TIMED_OUT"


def test_stop_service_deployment_rollback_during_the_bake_restores_the_old_revision(realistic_aws):
    n = native_web(realistic_aws)
    n.service(bake_minutes=30)
    realistic_aws.advance(60)
    arn = deploy(n)["arn"]
    run_until(realistic_aws, n, arn, "BAKE_TIME")
    assert n.weights()[n.alternate] == 100

    n.web.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")

    assert described(n, arn)["status"] == "ROLLBACK_SUCCESSFUL"
    assert n.weights() == {n.web.target_group: 100, n.alternate: 0}
    assert error_of(n.web.ecs.stop_service_deployment, serviceDeploymentArn=arn)["Code"] == "ConflictException"


def test_a_deployment_alarm_in_alarm_rolls_back_with_its_name_as_the_reason(realistic_aws):
    n = native_web(realistic_aws)
    cloudwatch = realistic_aws.client("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName="web-5xx", MetricName="x", Namespace="n", Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    n.service(alarms=["web-5xx"], bake_minutes=10)
    realistic_aws.advance(60)
    arn = deploy(n)["arn"]
    run_until(realistic_aws, n, arn, "BAKE_TIME")
    cloudwatch.set_alarm_state(AlarmName="web-5xx", StateValue="ALARM", StateReason="test")
    realistic_aws.advance(30)

    d = described(n, arn)
    assert d["status"] == "ROLLBACK_SUCCESSFUL" and "web-5xx" in d["rollback"]["reason"]


def test_linear_shifts_production_traffic_in_steps(realistic_aws):
    n = native_web(realistic_aws)
    n.service(strategy="LINEAR", extra={"linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 1}})
    realistic_aws.advance(60)
    arn = deploy(n)["arn"]
    run_until(realistic_aws, n, arn, "PRODUCTION_TRAFFIC_SHIFT")
    seen = set()
    for _ in range(10):
        seen.add(n.weights()[n.alternate])
        realistic_aws.advance(30)

    assert {25, 50, 75, 100} <= seen


def test_unknown_service_deployments_and_hooks_are_answered_with_ecs_errors(realistic_aws):
    n = native_web(realistic_aws)
    n.service()
    realistic_aws.advance(60)
    arn = deploy(n)["arn"]
    missing = arn[:-4] + "zzzz"

    assert error_of(n.web.ecs.stop_service_deployment, serviceDeploymentArn=missing)["Code"] == \
        "ServiceDeploymentNotFoundException"
    assert error_of(n.web.ecs.continue_service_deployment, serviceDeploymentArn=arn, hookId="nope")["Code"] == \
        "InvalidParameterException"
    assert n.web.ecs.describe_service_deployments(serviceDeploymentArns=[missing])["failures"][0]["reason"] == "MISSING"
