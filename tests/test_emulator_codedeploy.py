"""The realistic emulator's CodeDeploy for ECS: a deployment runs its lifecycle events in order,
moves the test and production listeners, waits for ContinueDeployment when the group says so,
and rolls back on StopDeployment (bluegreen.local.codedeploy; divergences in DIVERGENCES.md)."""

from __future__ import annotations

import botocore.loaders
import pytest

from bluegreen.local.codedeploy import EVENTS
from bluegreen.local.seed_codedeploy import appspec_content, make_codedeploy_service
from bluegreen.local.world import UNHEALTHY

from emulator_helpers import error_of, web

INSTALLED_AFTER = 31  # the replacement's targets: interval 10 s x healthy threshold 3


def world_with(realistic_aws, **kwargs):
    w = web(realistic_aws)
    service = make_codedeploy_service(realistic_aws, vpc=w.vpc, subnets=w.subnets, security_group=w.security_group,
                                      load_balancer=w.load_balancer, task_definition=w.revision("repo:v1"), ports=(81, 8443),
                                      **kwargs)
    return w, service


def deploy(realistic_aws, w, service, image: str = "repo:v2") -> str:
    return realistic_aws.client("codedeploy").create_deployment(
        applicationName=service.application, deploymentGroupName=service.group,
        revision={"revisionType": "AppSpecContent", "appSpecContent": {
            "content": appspec_content(w.revision(image), service.container)}})["deploymentId"]


def deployment(realistic_aws, deployment_id: str) -> dict:
    return realistic_aws.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]


def weights(realistic_aws, listener: str) -> list[int]:
    action = realistic_aws.client("elbv2").describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"][0]
    return [g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]]


def events(realistic_aws, service, deployment_id: str) -> dict[str, str]:
    target = realistic_aws.client("codedeploy").get_deployment_target(
        deploymentId=deployment_id, targetId=f"{service.cluster}:{service.service}")["deploymentTarget"]["ecsTarget"]
    return {e["lifecycleEventName"]: e["status"] for e in target["lifecycleEvents"]}


def test_an_all_at_once_deployment_runs_every_lifecycle_event_moves_both_listeners_and_ends_after_termination_wait(realistic_aws):
    w, service = world_with(realistic_aws, termination_minutes=5)
    deployment_id = deploy(realistic_aws, w, service)

    assert deployment(realistic_aws, deployment_id)["status"] == "InProgress"
    realistic_aws.advance(1)  # BeforeInstall (no hook) passes
    assert events(realistic_aws, service, deployment_id)["Install"] == "InProgress"
    realistic_aws.advance(INSTALLED_AFTER + 10)
    assert weights(realistic_aws, service.test_listener) == [0, 100]
    assert weights(realistic_aws, service.prod_listener) == [0, 100]
    assert list(events(realistic_aws, service, deployment_id)) == list(EVENTS)
    assert set(events(realistic_aws, service, deployment_id).values()) == {"Succeeded"}
    assert deployment(realistic_aws, deployment_id)["status"] == "InProgress"  # the original task set is kept
    realistic_aws.advance(5 * 60)
    info = deployment(realistic_aws, deployment_id)
    assert info["status"] == "Succeeded" and info["instanceTerminationWaitTimeStarted"] is True
    assert w.targets(service.target_groups[0]) == {"10.0.0.10": "draining", "10.0.0.11": "draining"}


def test_a_group_that_waits_stands_ready_with_test_traffic_on_the_replacement_until_continue_deployment(realistic_aws):
    w, service = world_with(realistic_aws, wait_minutes=30)
    deployment_id = deploy(realistic_aws, w, service)
    realistic_aws.advance(INSTALLED_AFTER + 10)

    assert deployment(realistic_aws, deployment_id)["status"] == "Ready"
    assert weights(realistic_aws, service.test_listener) == [0, 100]
    assert weights(realistic_aws, service.prod_listener) == [100, 0]
    realistic_aws.client("codedeploy").continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    realistic_aws.advance(5)
    assert weights(realistic_aws, service.prod_listener) == [0, 100]


def test_a_ready_deployment_nobody_continues_is_stopped_after_the_wait_and_rolled_back(realistic_aws):
    w, service = world_with(realistic_aws, wait_minutes=10)
    deployment_id = deploy(realistic_aws, w, service)
    realistic_aws.advance(INSTALLED_AFTER + 10 * 60 + 10)

    info = deployment(realistic_aws, deployment_id)
    assert info["status"] == "Stopped" and info["errorInformation"]["code"] == "TIMEOUT"
    assert weights(realistic_aws, service.test_listener) == [100, 0]
    assert "rollbackDeploymentId" in info["rollbackInfo"]


def test_a_canary_deployment_sends_ten_percent_then_the_rest_after_five_minutes(realistic_aws):
    w, service = world_with(realistic_aws, config="CodeDeployDefault.ECSCanary10Percent5Minutes")
    deployment_id = deploy(realistic_aws, w, service)
    realistic_aws.advance(INSTALLED_AFTER + 10)

    assert weights(realistic_aws, service.prod_listener) == [90, 10]
    assert events(realistic_aws, service, deployment_id)["AllowTraffic"] == "InProgress"
    realistic_aws.advance(5 * 60)
    assert weights(realistic_aws, service.prod_listener) == [0, 100]


def test_stop_deployment_with_rollback_puts_traffic_back_on_the_original_and_deregisters_the_replacement(realistic_aws):
    w, service = world_with(realistic_aws, config="CodeDeployDefault.ECSLinear10PercentEvery1Minutes")
    deployment_id = deploy(realistic_aws, w, service)
    realistic_aws.advance(INSTALLED_AFTER + 70)
    assert weights(realistic_aws, service.prod_listener) == [80, 20]

    answer = realistic_aws.client("codedeploy").stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)

    assert answer["status"] in ("Pending", "Succeeded")
    info = deployment(realistic_aws, deployment_id)
    assert info["status"] == "Stopped" and info["errorInformation"]["code"] == "MANUAL_STOP"
    assert weights(realistic_aws, service.prod_listener) == [100, 0]
    assert weights(realistic_aws, service.test_listener) == [100, 0]
    assert set(w.targets(service.target_groups[1]).values()) == {"draining"}
    rollback = deployment(realistic_aws, info["rollbackInfo"]["rollbackDeploymentId"])
    assert rollback["creator"] == "codeDeployRollback" and rollback["status"] == "Succeeded"


def test_a_replacement_that_fails_its_health_checks_fails_install_and_rolls_back(realistic_aws):
    w, service = world_with(realistic_aws)
    realistic_aws.mark_image("repo:bad", UNHEALTHY)
    deployment_id = deploy(realistic_aws, w, service, image="repo:bad")
    realistic_aws.advance(60)

    info = deployment(realistic_aws, deployment_id)
    assert info["status"] == "Failed" and info["errorInformation"]["code"] == "ECS_UPDATE_ERROR"
    assert events(realistic_aws, service, deployment_id)["Install"] == "Failed"
    assert weights(realistic_aws, service.prod_listener) == [100, 0]


def test_continue_on_a_deployment_that_is_not_ready_is_rejected_with_botocores_error_code(realistic_aws):
    w, service = world_with(realistic_aws)
    deployment_id = deploy(realistic_aws, w, service)
    client = realistic_aws.client("codedeploy")

    error = error_of(client.continue_deployment, deploymentId=deployment_id, deploymentWaitType="READY_WAIT")

    assert error["Code"] == "DeploymentIsNotInReadyStateException"
    assert error["Code"] in _errors("ContinueDeployment")


@pytest.mark.parametrize("revision,code", [
    ({"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k", "bundleType": "zip"}}, "InvalidRevisionException"),
    ({"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec_content("nope:9", "web")}},
     "InvalidRevisionException"),
])
def test_an_ecs_deployment_needs_an_appspec_naming_a_registered_task_definition(realistic_aws, revision, code):
    w, service = world_with(realistic_aws)

    error = error_of(realistic_aws.client("codedeploy").create_deployment, applicationName=service.application,
                     deploymentGroupName=service.group, revision=revision)

    assert error["Code"] == code and code in _errors("CreateDeployment")


def _errors(operation: str) -> set[str]:
    model = botocore.loaders.Loader().load_service_model("codedeploy", "service-2")
    return {e["shape"] for e in model["operations"][operation].get("errors", [])}
