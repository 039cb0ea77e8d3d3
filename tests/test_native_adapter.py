"""The adapter `ecs-native` steers ECS's built-in blue/green with, against the realistic emulator."""

from __future__ import annotations

from bluegreen.adapters.aws.native import NativeDeployments, view
from bluegreen.adapters.aws.session import Aws

from emulator_helpers import PAUSE_AT_TEST, native_web, run_until


def adapter(realistic_aws) -> NativeDeployments:
    return NativeDeployments(Aws(realistic_aws.region, endpoint_url=realistic_aws.endpoint_url))


def test_a_service_that_never_deployed_natively_has_no_service_deployment(realistic_aws):
    n = native_web(realistic_aws)
    n.service()

    assert adapter(realistic_aws).latest("c", "web") is None


def test_the_adapter_sees_the_awaiting_hook_and_continuing_it_finishes_the_deployment(realistic_aws):
    n = native_web(realistic_aws)
    n.service(hooks=PAUSE_AT_TEST, bake_minutes=0)
    realistic_aws.advance(60)
    n.web.ecs.update_service(cluster="c", service="web", taskDefinition=n.web.revision("repo:v2"))
    native = adapter(realistic_aws)
    arn = native.latest("c", "web").arn
    run_until(realistic_aws, n, arn, "POST_TEST_TRAFFIC_SHIFT")

    paused = native.describe(arn)
    assert paused.stage == "POST_TEST_TRAFFIC_SHIFT" and len(paused.awaiting) == 1 and paused.production_weight == 0
    native.resume(arn, paused.awaiting[0])
    run_until(realistic_aws, n, arn, "never")
    done = native.describe(arn)
    assert done.finished and not done.rolled_back and done.production_weight == 100


def test_rolling_back_a_finished_deployment_says_there_was_nothing_to_stop(realistic_aws):
    n = native_web(realistic_aws)
    n.service(bake_minutes=0)
    realistic_aws.advance(60)
    n.web.ecs.update_service(cluster="c", service="web", taskDefinition=n.web.revision("repo:v2"))
    native = adapter(realistic_aws)
    arn = native.latest("c", "web").arn
    run_until(realistic_aws, n, arn, "never")

    assert native.roll_back(arn) is False


def test_ecs_own_rollback_is_read_with_its_reason():
    found = view({"serviceDeploymentArn": "arn:sd", "status": "ROLLBACK_SUCCESSFUL", "lifecycleStage": "BAKE_TIME",
                  "rollback": {"reason": "CloudWatch alarm web-5xx is in ALARM."},
                  "lifecycleHookDetails": [{"hookId": "h", "status": "SUCCEEDED"}]})

    assert found.rolled_back and found.finished and found.rollback_reason.endswith("in ALARM.") and found.awaiting == ()
