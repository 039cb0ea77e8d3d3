"""Application Auto Scaling of the ECS services is suspended while a deployment runs, and afterwards it is
exactly what it was: after success, after a rollback, and after a crash finished by `bluegreen rollback`.

The seeded services have a scalable target (1-4 tasks) with scheduled scaling already suspended by
someone else: a restore must keep that, not resume everything.
"""

from __future__ import annotations

import signal
from typing import Any

import pytest

from bluegreen.adapters.aws.session import Aws
from bluegreen.cli.main import main
from bluegreen.local.seed import put_image, seed
from bluegreen.specfiles.loader import load_spec

from deploy_helpers import listener_weights, run_cli, write_spec

BEFORE = {"DynamicScalingInSuspended": False, "DynamicScalingOutSuspended": False, "ScheduledScalingSuspended": True}
FROZEN = {"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": True, "ScheduledScalingSuspended": True}
SERVICES = ("web-blue", "web-green")


def scaled_web(aws: Any, workdir, **health: Any):
    path = write_spec(workdir, "web", **({"health": health} if health else {}))
    spec = load_spec(path).spec
    emulator = Aws(spec.region, endpoint_url=aws.endpoint_url)
    seed(emulator, spec, image_tag="v1", deregistration_delay=1, scaling=BEFORE)
    put_image(emulator, "web", "v2")
    return path


def suspended(aws: Any) -> dict[str, dict[str, bool]]:
    targets = aws.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/prod/{s}" for s in SERVICES])["ScalableTargets"]
    return {t["ResourceId"].rsplit("/", 1)[-1]: t["SuspendedState"] for t in targets}


class ScalingChanges(list):
    """(service, SuspendedState) of every RegisterScalableTarget sent once `start` is called, in order."""

    def start(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call

        def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if operation == "RegisterScalableTarget":
                # an update of the existing target: capacity and role are never touched
                assert set(params) == {"ServiceNamespace", "ResourceId", "ScalableDimension", "SuspendedState"}
                self.append((params["ResourceId"].rsplit("/", 1)[-1], params["SuspendedState"]))
            return original(client, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)


@pytest.fixture
def scaling_changes() -> ScalingChanges:
    return ScalingChanges()


def test_a_deployment_freezes_scaling_of_both_services_and_restores_it_as_it_was(aws, workdir, placer, monkeypatch,
                                                                                 scaling_changes, capsys):
    path = scaled_web(aws, workdir)
    scaling_changes.start(monkeypatch)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    assert scaling_changes == [("web-blue", FROZEN), ("web-green", FROZEN), ("web-blue", BEFORE),
                               ("web-green", BEFORE)]
    assert suspended(aws) == {s: BEFORE for s in SERVICES}
    out = capsys.readouterr().out
    assert "service/prod/web-green scaling: scheduled suspended -> scale-in, scale-out, scheduled suspended" in out
    assert "service/prod/web-green scaling: scale-in, scale-out, scheduled suspended -> scheduled suspended" in out


def test_a_rolled_back_deployment_restores_scaling_as_it_was(aws, workdir, placer, failing_server, monkeypatch,
                                                             scaling_changes):
    path = scaled_web(aws, workdir, http={"url": failing_server}, deadline="2s")
    scaling_changes.start(monkeypatch)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    assert scaling_changes[:2] == [("web-blue", FROZEN), ("web-green", FROZEN)]
    assert sorted(scaling_changes[2:]) == [("web-blue", BEFORE), ("web-green", BEFORE)]
    assert suspended(aws) == {s: BEFORE for s in SERVICES}
    assert listener_weights(aws.client("elbv2"), "web-alb", 80) == {"web-blue": 100, "web-green": 0}


def test_after_a_crash_scaling_stays_frozen_until_rollback_restores_it(aws, workdir, placer, capsys):
    path = scaled_web(aws, workdir)

    killed = run_cli("deploy", str(path), "--image-tag", "v2", killer=3)  # alarms, then both suspended

    assert killed.returncode == -signal.SIGKILL
    assert suspended(aws) == {s: FROZEN for s in SERVICES}
    assert main(["rollback", "web"]) == 0, capsys.readouterr().err  # a new run, in this process
    assert suspended(aws) == {s: BEFORE for s in SERVICES}


def test_a_plan_shows_the_suspension_and_its_restore_as_steps(aws, workdir, capsys):
    path = scaled_web(aws, workdir)
    capsys.readouterr()

    assert main(["plan", str(path), "--image-tag", "v2"]) == 0

    out = capsys.readouterr().out
    assert "[prepare] Application Auto Scaling of web-blue: scheduled suspended -> scale-in, scale-out, scheduled " \
           "suspended" in out
    assert "[verify] Application Auto Scaling of web-green: scale-in, scale-out, scheduled suspended -> scheduled " \
           "suspended" in out
    assert "rollback: Application Auto Scaling of web-blue, web-green is suspended for the deployment" in out


def test_the_action_changes_only_what_differs_and_says_old_and_new(aws, workdir):
    from bluegreen.adapters.aws.actions import AwsActions

    scaled_web(aws, workdir)
    tool = Aws("us-east-1", endpoint_url=aws.endpoint_url)
    actions = AwsActions(tool)
    frozen = dict(dynamic_in=True, dynamic_out=True, scheduled=True)

    first = actions.set_scaling_suspension("service/prod/web-green", "ecs:service:DesiredCount", **frozen)
    again = actions.set_scaling_suspension("service/prod/web-green", "ecs:service:DesiredCount", **frozen)
    gone = actions.set_scaling_suspension("service/prod/web-nothing", "ecs:service:DesiredCount", **frozen)

    assert first == "service/prod/web-green scaling: scheduled suspended -> scale-in, scale-out, scheduled suspended"
    assert again == "service/prod/web-green scaling already scale-in, scale-out, scheduled suspended"
    assert gone == "service/prod/web-nothing has no scalable target any more: nothing to suspend or restore"
    assert tool.log.calls.count("application-autoscaling:RegisterScalableTarget") == 1
    assert suspended(aws) == {"web-blue": BEFORE, "web-green": FROZEN}
