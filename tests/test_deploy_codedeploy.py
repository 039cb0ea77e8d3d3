"""`ecs-codedeploy` through the CLI on the realistic emulator: bluegreen starts CodeDeploy's deployment
with an AppSpec, follows its lifecycle events, continues the reroute wait after our gates, and rolls
back through CodeDeploy (StopDeployment with rollback in flight, a new deployment after success)."""

from __future__ import annotations

import json
import signal

from bluegreen.adapters.aws.codedeploy import CodeDeployEcs
from bluegreen.cli.main import main
from bluegreen.local.seed_controlled import CodeDeploySeed
from bluegreen.state.local import LocalStore

from support.engines import codedeploy_deployments, harness, healthy, listener_split, revision, seeded, started

BILLING = {"billing": 100, "billing-2": 0}  # the production listener with everything on the original


def on_codedeploy(aws, workdir, **seed):
    return seeded(aws, workdir, "billing", CodeDeploySeed(**seed))


def production_listener(aws) -> str:
    group = aws.client("codedeploy").get_deployment_group(applicationName="billing-app",
                                                          deploymentGroupName="billing-dg")["deploymentGroupInfo"]
    return group["loadBalancerInfo"]["targetGroupPairInfoList"][0]["prodTrafficRoute"]["listenerArns"][0]


def ours(aws) -> dict:
    """bluegreen's newest deployment of the group (CodeDeploy records its own rollbacks as deployments too)."""
    return next(d for d in codedeploy_deployments(aws, "billing-app", "billing-dg")
                if d.get("description", "").startswith("bluegreen"))


def test_a_codedeploy_deploy_gates_the_reroute_wait_then_continues_and_follows_to_success(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = on_codedeploy(realistic_aws, workdir)

    assert main(["deploy", str(path), "--image-tag", "v2", "--events", "json"]) == 0

    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    seen = [e["lifecycle_event"] for e in events if e["event"] == "codedeploy.event"]
    assert [x for x in ("Install", "BeforeAllowTraffic", "termination wait", "Succeeded") if x in seen] == \
        ["Install", "BeforeAllowTraffic", "termination wait", "Succeeded"]
    assert any(e["event"] == "codedeploy.reroute" for e in events)
    assert listener_split(realistic_aws, production_listener(realistic_aws)) == {"billing": 0, "billing-2": 100}
    assert revision(realistic_aws, "billing") == "billing:2" and healthy(realistic_aws, "billing-2") == 2
    deployment = ours(realistic_aws)
    assert deployment["status"] == "Succeeded"
    content = json.loads(deployment["revision"]["appSpecContent"]["content"])
    props = content["Resources"][0]["TargetService"]["Properties"]
    assert props["TaskDefinition"].endswith("billing:2")
    assert props["LoadBalancerInfo"] == {"ContainerName": "billing", "ContainerPort": 8080}


def test_an_alarm_firing_at_the_test_traffic_stage_stops_codedeploy_with_rollback_and_exits_1(
        realistic_aws, workdir, product_on_virtual_clock, monkeypatch, capsys):
    path = on_codedeploy(realistic_aws, workdir)
    cloudwatch = realistic_aws.client("cloudwatch")
    progress = CodeDeployEcs.progress

    def alarm_once_codedeploy_waits(self, deployment_id, cluster, service):
        seen = progress(self, deployment_id, cluster, service)
        if seen.ready:
            cloudwatch.set_alarm_state(AlarmName="billing-5xx", StateValue="ALARM", StateReason="test")
        return seen

    monkeypatch.setattr(CodeDeployEcs, "progress", alarm_once_codedeploy_waits)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    err = capsys.readouterr().err
    assert "alarm in ALARM: billing-5xx" in err and "Traffic is back" in err
    assert listener_split(realistic_aws, production_listener(realistic_aws)) == BILLING
    assert revision(realistic_aws, "billing") == "billing:1" and healthy(realistic_aws, "billing") == 2
    assert healthy(realistic_aws, "billing-2") == 0
    assert ours(realistic_aws)["status"] == "Stopped"


def test_a_replacement_that_never_turns_healthy_fails_with_codedeploy_error_and_restores(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = on_codedeploy(realistic_aws, workdir)
    v2 = realistic_aws.client("ecr").describe_images(repositoryName="billing", imageIds=[{"imageTag": "v2"}])
    realistic_aws.mark_image(v2["imageDetails"][0]["imageDigest"], "unhealthy")

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    err = capsys.readouterr().err
    assert "CodeDeploy deployment" in err and "failed" in err
    assert listener_split(realistic_aws, production_listener(realistic_aws)) == BILLING
    assert revision(realistic_aws, "billing") == "billing:1"


def test_rollback_after_a_successful_codedeploy_deploy_deploys_the_previous_revision_through_codedeploy(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = on_codedeploy(realistic_aws, workdir)
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    assert main(["rollback", "billing"]) == 0

    assert revision(realistic_aws, "billing") == "billing:1"
    assert listener_split(realistic_aws, production_listener(realistic_aws)) == BILLING
    assert healthy(realistic_aws, "billing") == 2
    assert ours(realistic_aws)["status"] == "Succeeded"


def test_plan_markdown_shows_codedeploy_events_the_reroute_gate_and_the_termination_wait(
        realistic_aws, workdir, capsys):
    path = on_codedeploy(realistic_aws, workdir, config="CodeDeployDefault.ECSLinear10PercentEvery1Minutes")

    assert main(["plan", str(path), "--image-tag", "v2", "--format", "markdown"]) == 0

    text = capsys.readouterr().out
    for event in ("CodeDeploy Install", "CodeDeploy AfterAllowTestTraffic", "CodeDeploy Ready",
                  "CodeDeploy AfterAllowTraffic", "CodeDeploy Succeeded"):
        assert event in text, event
    assert "reroute wait" in text and "ContinueDeployment" in text and "kept 5m" in text
    assert "ECSLinear10PercentEvery1Minutes" in text and "ecs-codedeploy" in text


def test_auto_picks_ecs_codedeploy_and_a_target_group_swap_is_refused_with_what_was_found(
        realistic_aws, workdir, capsys):
    path = on_codedeploy(realistic_aws, workdir)
    path.write_text(path.read_text().replace("strategy: ecs-codedeploy", "strategy: auto"))
    assert main(["plan", str(path), "--image-tag", "v2", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)["plans"][0]
    assert plan["strategy"] == "ecs-codedeploy" and "billing-app/billing-dg" in plan["strategy_reasons"][0]

    path.write_text(path.read_text().replace("strategy: auto", "strategy: ecs-task-definition-swap"))
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 2

    err = capsys.readouterr().err
    assert "CODE_DEPLOY deployment controller" in err and "use strategy ecs-codedeploy" in err
    assert codedeploy_deployments(realistic_aws, "billing-app", "billing-dg") == []


# --- interrupted: SIGTERM, kill -9 (subprocesses on the scaled clock) ---------------------------------


def test_sigterm_mid_deploy_stops_codedeploy_deployment_with_rollback(scaled_aws, workdir):
    path = on_codedeploy(scaled_aws, workdir)
    deploy = started("deploy", str(path), "--image-tag", "v2")
    try:
        for line in deploy.stdout:  # type: ignore[union-attr]
            if line.startswith("{") and json.loads(line).get("step") == "continue-codedeploy-deployment":
                deploy.send_signal(signal.SIGTERM)
                break
        out, err = deploy.communicate(timeout=120)
    finally:
        deploy.kill()

    assert deploy.returncode == 1, err
    assert "interrupted" in err and "Traffic is back" in err
    assert listener_split(scaled_aws, production_listener(scaled_aws)) == BILLING
    assert ours(scaled_aws)["status"] == "Stopped"
    assert LocalStore(".bluegreen").read("billing") is None


def test_kill_9_during_the_reroute_then_rollback_stops_codedeploy_and_production_stays_on_the_original(
        scaled_aws, workdir):
    path = on_codedeploy(scaled_aws, workdir, termination_minutes=30)

    killed = harness("deploy", str(path), "--image-tag", "v2",
                     kill_after="bluegreen.execution.controlled:Controlled.continue_codedeploy")
    assert killed.returncode == -signal.SIGKILL
    assert ours(scaled_aws)["status"] == "InProgress"

    recovered = harness("rollback", "billing")

    assert recovered.returncode == 0, recovered.stderr
    assert "StopDeployment with rollback" in recovered.stdout
    assert listener_split(scaled_aws, production_listener(scaled_aws)) == BILLING
    assert revision(scaled_aws, "billing") == "billing:1"
    assert ours(scaled_aws)["status"] == "Stopped"
    assert LocalStore(".bluegreen").read("billing") is None
