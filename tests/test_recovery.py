"""Rollback from every state, through the CLI on the realistic emulator (virtual clock): right after a
task-definition swap, after `finalize` of the very first deployment, and `--to` an image, each back to
the task-definition revision and count that really ran, read back from ECS."""

from __future__ import annotations

import pytest

from bluegreen.adapters.aws.session import Aws
from bluegreen.cli.main import main
from bluegreen.local.seed import put_image, seed
from bluegreen.specfiles.loader import load_spec
from bluegreen.state.local import LocalStore

from deploy_helpers import listener_weights, write_spec

REAL_WORLD = {"health": {"deadline": "10m", "interval": "10s", "bake": "1m"}, "rollback": {"keep_blue_warm": "30m"}}


def seeded_world(aws, workdir, name: str, **overrides):
    path = write_spec(workdir, name, **(REAL_WORLD | overrides))
    spec = load_spec(path).spec
    session = Aws(spec.region, endpoint_url=aws.endpoint_url)
    seed(session, spec, deregistration_delay=30)
    put_image(session, spec.image.repository, "v2")
    put_image(session, spec.image.repository, "v3")
    return str(path)


def service(aws, name: str) -> dict:
    return aws.client("ecs").describe_services(cluster="prod", services=[name])["services"][0]


def image_of(aws, task_definition: str) -> str:
    td = aws.client("ecs").describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    return td["containerDefinitions"][0]["image"]


def environment_of(aws, task_definition: str) -> dict[str, str]:
    td = aws.client("ecs").describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    return {e["name"]: e["value"] for e in td["containerDefinitions"][0].get("environment", [])}


def test_rollback_right_after_a_task_definition_swap_returns_to_the_previous_revision_and_its_count(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = seeded_world(realistic_aws, workdir, "worker", platform={"ecs": {
        "cluster": "prod", "service": "worker", "container": "worker", "desired_count": 3}})
    before = service(realistic_aws, "worker")
    assert main(["deploy", path, "--image-tag", "v2"]) == 0
    assert service(realistic_aws, "worker")["desiredCount"] == 3

    assert main(["rollback", "worker"]) == 0

    after = service(realistic_aws, "worker")
    assert after["taskDefinition"] == before["taskDefinition"]  # the very revision, not a copy of it
    assert after["desiredCount"] == before["desiredCount"] == 2
    assert after["runningCount"] == 2 and after["deployments"][0]["rolloutState"] == "COMPLETED"
    assert "redeploying" in capsys.readouterr().out


def test_rollback_after_the_first_deployment_is_finalized_redeploys_what_was_live_before(
        realistic_aws, workdir, product_on_virtual_clock):
    path = seeded_world(realistic_aws, workdir, "web")
    blue = service(realistic_aws, "web-blue")
    assert main(["deploy", path, "--image-tag", "v2"]) == 0
    assert main(["finalize", "web", "--now"]) == 0
    assert service(realistic_aws, "web-blue")["desiredCount"] == 0
    assert LocalStore(".bluegreen").history("web")[0]["result"] == "succeeded"  # the only deployment so far

    assert main(["rollback", "web"]) == 0

    assert listener_weights(realistic_aws.client("elbv2"), "web-alb", 80) == {"web-blue": 100, "web-green": 0}
    after = service(realistic_aws, "web-blue")
    assert after["taskDefinition"] == blue["taskDefinition"] and after["desiredCount"] == blue["desiredCount"]
    assert after["runningCount"] == blue["desiredCount"]


def test_rollback_to_an_image_redeploys_the_revision_recorded_with_it_not_the_current_spec(
        realistic_aws, workdir, product_on_virtual_clock):
    path = seeded_world(realistic_aws, workdir, "web")
    first = service(realistic_aws, "web-blue")["taskDefinition"]  # v1, as seeded
    assert main(["deploy", path, "--image-tag", "v2"]) == 0
    assert main(["deploy", path, "--image-tag", "v3"]) == 0  # supersedes: blue now runs v3
    assert main(["finalize", "web", "--now"]) == 0
    write_spec(workdir, "web", **REAL_WORLD, platform={"ecs": {
        "cluster": "prod", "services": {"blue": "web-blue", "green": "web-green"}, "container": "web",
        "environment": {"FEATURE_X": "on"}}})  # the spec moved on since v1 ran

    assert main(["rollback", "web", "--to", "v1"]) == 0

    assert listener_weights(realistic_aws.client("elbv2"), "web-alb", 80) == {"web-blue": 0, "web-green": 100}
    green = service(realistic_aws, "web-green")
    assert green["taskDefinition"] == first
    assert "FEATURE_X" not in environment_of(realistic_aws, green["taskDefinition"])


def test_rollback_to_an_image_never_recorded_deploys_it_with_the_current_spec(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = seeded_world(realistic_aws, workdir, "web")
    assert main(["deploy", path, "--image-tag", "v2"]) == 0
    assert main(["finalize", "web", "--now"]) == 0

    assert main(["rollback", "web", "--to", "v3"]) == 0

    blue = service(realistic_aws, "web-blue")
    assert image_of(realistic_aws, blue["taskDefinition"]).endswith(
        realistic_aws.client("ecr").describe_images(repositoryName="web", imageIds=[{"imageTag": "v3"}])[
            "imageDetails"][0]["imageDigest"])
    assert "with the current spec" in capsys.readouterr().out
