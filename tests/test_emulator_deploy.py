"""bluegreen against the realistic emulator: real-world waits (10 m deadlines, 2 m bakes, a 300 s
deregistration delay) on a virtual clock, and ECS rolling a bad image back by itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bluegreen.adapters.aws.session import Aws
from bluegreen.cli.main import main
from bluegreen.local.seed import put_image, seed
from bluegreen.local.world import EXITS
from bluegreen.specfiles.loader import load_spec
from bluegreen.state.local import LocalStore

from deploy_helpers import listener_weights, write_spec

# The waits deployments/*.yaml really use; on the virtual clock they cost nothing.
REAL_WORLD = {"health": {"deadline": "10m", "interval": "10s", "bake": "2m"}, "rollback": {"keep_blue_warm": "30m"}}


def seeded_world(aws, workdir, name: str, **overrides):
    path = write_spec(workdir, name, **(REAL_WORLD | overrides))
    spec = load_spec(path).spec
    session = Aws(spec.region, endpoint_url=aws.endpoint_url)
    result = seed(session, spec, deregistration_delay=300)
    return path, result, put_image(session, spec.image.repository, "v2")


def service(aws, name: str, cluster: str = "prod") -> dict:
    return aws.client("ecs").describe_services(cluster=cluster, services=[name])["services"][0]


def healthy_targets(aws, arn: str) -> dict[str, str]:
    found = aws.client("elbv2").describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    return {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in found}


def test_seeding_leaves_the_live_color_running_healthy_and_completed(realistic_aws, workdir):
    _, seeded, _ = seeded_world(realistic_aws, workdir, "web")

    blue = service(realistic_aws, "web-blue")
    assert blue["runningCount"] == 2 and blue["deployments"][0]["rolloutState"] == "COMPLETED"
    assert set(healthy_targets(realistic_aws, seeded.target_groups["web-blue"]).values()) == {"healthy"}
    assert sorted(healthy_targets(realistic_aws, seeded.target_groups["web-blue"])) == sorted(seeded.targets["web-blue"])
    assert healthy_targets(realistic_aws, seeded.target_groups["web-green"]) == {}


def test_a_target_group_swap_waits_for_green_to_start_and_pass_health_checks_then_moves_all_traffic(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path, seeded, digest = seeded_world(realistic_aws, workdir, "web")
    started = product_on_virtual_clock.time()

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    assert listener_weights(realistic_aws.client("elbv2"), "web-alb", 80) == {"web-blue": 0, "web-green": 100}
    green = service(realistic_aws, "web-green")
    assert green["runningCount"] == 2 and green["deployments"][0]["rolloutState"] == "COMPLETED"
    assert set(healthy_targets(realistic_aws, seeded.target_groups["web-green"]).values()) == {"healthy"}
    assert set(healthy_targets(realistic_aws, seeded.target_groups["web-blue"]).values()) == {"healthy"}  # kept warm
    events = [e["message"] for e in green["events"]]
    assert any("registered 2 targets in (target-group" in e for e in events)
    # three 2-minute bakes and green's start and health checks passed on the virtual clock
    assert product_on_virtual_clock.time() - started >= 3 * 120 + 15 + 30
    assert "ECS service web-green: web-green: running 0/2" in capsys.readouterr().out


def test_finalize_drains_blue_for_the_300_second_deregistration_delay_on_the_virtual_clock(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path, seeded, _ = seeded_world(realistic_aws, workdir, "web")
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0
    blue_targets = seeded.target_groups["web-blue"]
    before = product_on_virtual_clock.time()
    wall = time.monotonic()

    assert main(["finalize", "web", "--now"]) == 0

    assert product_on_virtual_clock.time() - before >= 300
    assert time.monotonic() - wall < 30  # 300 s of draining, not slept for real
    assert healthy_targets(realistic_aws, blue_targets) == {}
    assert service(realistic_aws, "web-blue")["runningCount"] == 0
    assert any("has begun draining connections on 2 tasks." in e["message"]
               for e in service(realistic_aws, "web-blue")["events"])


def test_a_bad_image_is_rolled_back_by_ecs_itself_and_the_deployment_fails_with_exit_1(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path, seeded, digest = seeded_world(realistic_aws, workdir, "worker")
    before = service(realistic_aws, "worker")["taskDefinition"]
    realistic_aws.mark_image(digest, EXITS)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    worker = service(realistic_aws, "worker")
    assert worker["taskDefinition"] == before
    out = capsys.readouterr().out
    assert "ECS rolled worker back" in out
    assert "Essential container in task exited" in out  # the stopped tasks' reason
    assert "deployment failed: tasks failed to start" in out  # the service's events
    assert LocalStore(".bluegreen").history("worker")[0]["result"] == "rolled-back"


def test_a_bad_green_in_a_target_group_swap_never_gets_traffic(realistic_aws, workdir, product_on_virtual_clock, capsys):
    path, _, digest = seeded_world(realistic_aws, workdir, "web")
    realistic_aws.mark_image(digest, EXITS)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    assert listener_weights(realistic_aws.client("elbv2"), "web-alb", 80) == {"web-blue": 100, "web-green": 0}
    assert "ECS rolled web-green back" in capsys.readouterr().out


# --- a CLI subprocess on the scaled clock --------------------------------------------------------


def test_a_cli_subprocess_follows_the_harness_scaled_clock(scaled_aws, workdir):
    path = write_spec(workdir, "worker", health={"deadline": "15m", "interval": "10s", "bake": "1m"})
    spec = load_spec(path).spec
    session = Aws(spec.region, endpoint_url=scaled_aws.endpoint_url)
    seed(session, spec, deregistration_delay=300)
    put_image(session, "worker", "v2")
    wall = time.monotonic()

    done = subprocess.run([sys.executable, "-m", "bluegreen.local.harness", "deploy", str(path), "--image-tag", "v2"],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))

    assert done.returncode == 0, done.stdout + done.stderr
    # ECS start (15 s), health checks (30 s), a 1 m bake: over 100 s of the world's time
    assert "held 1m with every gate passing" in done.stdout
    assert time.monotonic() - wall < 60
    assert service(scaled_aws, "worker")["deployments"][0]["rolloutState"] == "COMPLETED"


def test_an_asg_swap_waits_for_green_instances_to_boot_and_pass_health_checks_and_blue_drains(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path, seeded, _ = seeded_world(realistic_aws, workdir, "legacy")
    blue_instances = set(seeded.targets["legacy"])

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    out = capsys.readouterr().out
    assert "Pending" in out and "initial (Elb.InitialHealthChecking)" in out  # what the gates waited for
    green = realistic_aws.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=["legacy-green"])["AutoScalingGroups"][0]["Instances"]
    targets = healthy_targets(realistic_aws, seeded.target_groups["legacy"])
    assert {targets[i["InstanceId"]] for i in green} == {"healthy"}
    assert {targets.get(i) for i in blue_instances} == {"draining"}  # detached 2 m ago; the delay is 300 s
