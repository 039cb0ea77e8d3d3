"""The AppSpec bluegreen sends to CodeDeploy for an ECS deployment."""

import json

from bluegreen.domain.codedeploy import AppSpec, DeploymentProgress, LifecycleEvent


def test_the_appspec_names_the_revision_the_container_and_port_and_the_hooks_in_order():
    spec = AppSpec("arn:aws:ecs:us-east-1:1:task-definition/web:7", "web", 8080,
                   hooks=(("AfterAllowTestTraffic", "check-test"), ("BeforeAllowTraffic", "check-prod")))

    body = json.loads(spec.content())

    assert body["Resources"] == [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
        "TaskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/web:7",
        "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 8080}}}}]
    assert body["Hooks"] == [{"AfterAllowTestTraffic": "check-test"}, {"BeforeAllowTraffic": "check-prod"}]


def test_an_appspec_without_hooks_has_no_hooks_section():
    assert "Hooks" not in json.loads(AppSpec("td:1", "web", 80).content())


def test_progress_names_the_event_in_progress_and_knows_when_it_is_done():
    seen = DeploymentProgress("d-1", "InProgress", events=(LifecycleEvent("BeforeInstall", "Succeeded"),
                                                           LifecycleEvent("Install", "InProgress")))

    assert seen.current_event() == "Install" and not seen.done and not seen.ready
    assert DeploymentProgress("d-1", "Stopped").done
