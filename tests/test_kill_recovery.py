"""Recovery after kill -9, through the CLI in subprocesses on the emulator's scaled clock (100x): a
deploy SIGKILLed at a few fixed points (before it recorded anything, inside a call, mid-shift), then
`rollback` or `resume` leaves production on one running, healthy color with the lock free; and
`status` while a deploy runs says where it is."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from bluegreen.adapters.aws.session import Aws
from bluegreen.cli.main import main
from bluegreen.local.seed import put_image, seed
from bluegreen.specfiles.loader import load_spec
from bluegreen.state.local import LocalStore

from deploy_helpers import listener_weights, write_spec
from support.engines import KILL_AT

WAITS = {"health": {"deadline": "10m", "interval": "10s", "bake": "1m"}, "rollback": {"keep_blue_warm": "30m"}}



def bluegreen(*args: str, kill_at: str | None = None, when: str = "before") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if kill_at:
        env |= {"KILL_AT": kill_at, "KILL_WHEN": when}
        command = [sys.executable, "-c", KILL_AT, *args]
    else:
        command = [sys.executable, "-m", "bluegreen.local.harness", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def seeded(aws, workdir, name: str, **overrides) -> str:
    path = write_spec(workdir, name, **(WAITS | overrides))
    spec = load_spec(path).spec
    session = Aws(spec.region, endpoint_url=aws.endpoint_url)
    seed(session, spec, deregistration_delay=30)
    put_image(session, spec.image.repository, "v2")
    return str(path)


def service(aws, name: str) -> dict:
    return aws.client("ecs").describe_services(cluster="prod", services=[name])["services"][0]


def web_on_one_healthy_color(aws) -> str:
    weights = listener_weights(aws.client("elbv2"), "web-alb", 80)
    assert sorted(weights.values()) == [0, 100], weights
    live = max(weights, key=weights.get)
    running = service(aws, live)
    assert running["runningCount"] == running["desiredCount"] >= 1
    arn = aws.client("elbv2").describe_target_groups(Names=[live])["TargetGroups"][0]["TargetGroupArn"]
    health = aws.client("elbv2").describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    assert sum(d["TargetHealth"]["State"] == "healthy" for d in health) >= 1
    return live


@pytest.mark.parametrize("recovery", ["rollback", "resume"])
def test_a_deploy_killed_after_taking_the_lock_and_before_its_record_leaves_a_lock_recovery_clears(
        scaled_aws, workdir, recovery):
    path = seeded(scaled_aws, workdir, "web")

    killed = bluegreen("deploy", path, "--image-tag", "v2", kill_at="bluegreen.app.deploy:plan_specs")
    assert killed.returncode == -signal.SIGKILL
    assert LocalStore(".bluegreen").read("web") is not None and LocalStore(".bluegreen").current("web") is None

    shown = bluegreen("status", path)
    assert shown.returncode == 0 and "its holder process is dead" in shown.stdout

    recovered = bluegreen(recovery, "web")

    assert recovered.returncode == 0, recovered.stderr
    assert "nothing to undo" in recovered.stdout
    assert LocalStore(".bluegreen").read("web") is None
    assert web_on_one_healthy_color(scaled_aws) == "web-blue"
    assert service(scaled_aws, "web-green")["desiredCount"] == 0


def test_a_task_definition_swap_killed_inside_its_update_then_rollback_runs_the_old_revision(scaled_aws, workdir):
    path = seeded(scaled_aws, workdir, "worker")
    before = service(scaled_aws, "worker")

    killed = bluegreen("deploy", path, "--image-tag", "v2", when="after",
                       kill_at="bluegreen.adapters.aws.actions:AwsActions.update_service")
    assert killed.returncode == -signal.SIGKILL
    assert service(scaled_aws, "worker")["taskDefinition"] != before["taskDefinition"]  # the update was applied

    recovered = bluegreen("rollback", "worker")

    assert recovered.returncode == 0, recovered.stderr
    after = service(scaled_aws, "worker")
    assert (after["taskDefinition"], after["desiredCount"]) == (before["taskDefinition"], before["desiredCount"])
    assert LocalStore(".bluegreen").read("worker") is None


def test_a_deploy_killed_inside_a_traffic_shift_then_resume_finishes_it_on_green(scaled_aws, workdir):
    path = seeded(scaled_aws, workdir, "web")

    killed = bluegreen("deploy", path, "--image-tag", "v2", when="after",
                       kill_at="bluegreen.adapters.aws.actions:AwsActions.set_weights")
    assert killed.returncode == -signal.SIGKILL

    resumed = bluegreen("resume", "web")

    assert resumed.returncode == 0, resumed.stderr
    assert web_on_one_healthy_color(scaled_aws) == "web-green"
    assert LocalStore(".bluegreen").read("web") is None


def test_status_during_a_healthy_deploy_shows_the_weights_the_step_in_flight_and_no_promote(
        scaled_aws, workdir, capsys):
    path = seeded(scaled_aws, workdir, "web", health={"deadline": "10m", "interval": "10s", "bake": "30m"})
    deploy = subprocess.Popen([sys.executable, "-m", "bluegreen.local.harness", "deploy", path, "--image-tag", "v2",
                               "--events", "json"], stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        for line in deploy.stdout:  # type: ignore[union-attr]
            if line.startswith("{") and json.loads(line).get("step") == "bake-10" and "started" in line:
                break
        capsys.readouterr()
        assert main(["status", path]) == 0
        text = capsys.readouterr().out
        assert main(["status", path, "--format", "json"]) == 0
        data = json.loads(capsys.readouterr().out)
    finally:
        deploy.kill()
        deploy.wait()

    assert data["live_color"] == "blue" and data["deployment"]["status"] == "running"
    assert "bake" in data["in_flight"] and data["in_flight"].startswith("step ")
    assert any("blue 90%" in line and "green 10%" in line for line in data["state"]), data
    assert data["problems"] == [] and data["commands"] == []
    assert "promote" not in text and "live color: blue" in text and "in flight: step" in text
