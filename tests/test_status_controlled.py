"""`status` and `history` of services AWS deploys itself: status names AWS's own deployment (the ECS
service deployment ARN or the CodeDeploy deployment id the journal holds) and where it stands, read
live; when that read fails it says so and status still answers. History lines name the strategy."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from bluegreen.adapters.aws.native import NativeDeployments
from bluegreen.cli.main import main
from bluegreen.local.seed_controlled import CodeDeploySeed, NativeSeed

from support.engines import codedeploy_deployments, seeded


def status(capsys, service: str) -> tuple[str, dict]:
    capsys.readouterr()
    assert main(["status", service]) == 0
    text = capsys.readouterr().out
    assert main(["status", service, "--format", "json"]) == 0
    return text, json.loads(capsys.readouterr().out)


def history_text(capsys, service: str) -> str:
    capsys.readouterr()
    assert main(["history", service]) == 0
    return capsys.readouterr().out


def test_status_of_a_native_deploy_paused_at_the_hook_shows_ecs_waiting_there_then_its_success(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = seeded(realistic_aws, workdir, "checkout", NativeSeed(bake_minutes=1))
    assert main(["deploy", str(path), "--image-tag", "v2", "--pause-before-shift"]) == 0

    text, data = status(capsys, "checkout")

    engine = data["aws_deployment"]
    assert engine["engine"] == "ECS service deployment" and engine["id"].startswith("arn:aws:ecs:")
    assert engine["state"] == "IN_PROGRESS at POST_TEST_TRAFFIC_SHIFT, PAUSE hook awaiting action"
    assert f"  ECS service deployment: {engine['id']}: IN_PROGRESS at POST_TEST_TRAFFIC_SHIFT" in text

    assert main(["promote", "checkout"]) == 0
    text, data = status(capsys, "checkout")

    assert data["aws_deployment"]["state"] == "SUCCESSFUL" and data["aws_deployment"]["id"] == engine["id"]
    assert f"ECS service deployment: {engine['id']}: SUCCESSFUL" in text
    lines = history_text(capsys, "checkout").splitlines()
    assert len(lines) == 1 and "succeeded" in lines[0] and lines[0].endswith("[ecs-native]")


def test_status_of_a_codedeploy_deploy_paused_at_the_reroute_wait_shows_it_ready_then_succeeded(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = seeded(realistic_aws, workdir, "billing", CodeDeploySeed(termination_minutes=1))
    assert main(["deploy", str(path), "--image-tag", "v2", "--pause-before-shift"]) == 0

    text, data = status(capsys, "billing")

    engine = data["aws_deployment"]
    started = codedeploy_deployments(realistic_aws, "billing-app", "billing-dg")[0]["deploymentId"]
    assert engine["engine"] == "CodeDeploy deployment" and engine["id"] == started
    assert engine["state"] == "Ready, waiting for the reroute"
    assert f"  CodeDeploy deployment: {engine['id']}: Ready, waiting for the reroute" in text

    assert main(["promote", "billing"]) == 0
    _, data = status(capsys, "billing")

    assert data["aws_deployment"] == engine | {"state": "Succeeded"}
    assert history_text(capsys, "billing").rstrip().endswith("[ecs-codedeploy]")


def test_status_says_when_the_aws_deployment_cannot_be_read_and_still_answers(
        realistic_aws, workdir, product_on_virtual_clock, monkeypatch, capsys):
    path = seeded(realistic_aws, workdir, "checkout", NativeSeed(bake_minutes=1))
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    def denied(self, arn):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform "
                                     "ecs:DescribeServiceDeployments"}}, "DescribeServiceDeployments")

    monkeypatch.setattr(NativeDeployments, "describe", denied)

    text, data = status(capsys, "checkout")

    assert data["aws_deployment"]["read"] is False and data["aws_deployment"]["id"].startswith("arn:aws:ecs:")
    assert "could not be read" in data["aws_deployment"]["state"]
    assert "AccessDeniedException" in data["aws_deployment"]["state"]
    assert data["deployment"]["status"] == "succeeded" and "ECS service deployment: arn:aws:ecs:" in text
