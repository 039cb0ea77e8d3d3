"""Services AWS deploys itself, on the realistic emulator: seeding a spec as ECS's built-in blue/green
or CodeDeploy deploys it, reading where production traffic goes, and running the CLI in a
subprocess on the emulator's scaled clock (for SIGTERM and kill -9)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from bluegreen.adapters.aws.session import Aws
from bluegreen.local.seed import put_image, seed
from bluegreen.local.seed_controlled import CodeDeploySeed, NativeSeed
from bluegreen.specfiles.loader import load_spec

from deploy_helpers import REALISTIC, write_spec

# The CLI on the harness clock, SIGKILLed when KILL_AT (`module:Owner.function`) is called: before the
# call runs, or right after it returned (KILL_WHEN=after: the call was applied, its caller never knew).
KILL_AT = """
import importlib, os, signal, sys
module, _, path = os.environ["KILL_AT"].partition(":")
owner = importlib.import_module(module)
*parents, name = path.split(".")
for part in parents:
    owner = getattr(owner, part)
original = getattr(owner, name)
def killer(*args, **kwargs):
    if os.environ.get("KILL_WHEN") != "after":
        os.kill(os.getpid(), signal.SIGKILL)
    original(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
setattr(owner, name, killer)
from bluegreen.local.harness import main
main(sys.argv[1:])
"""


def seeded(aws: Any, workdir: Path, name: str, engine: NativeSeed | CodeDeploySeed, **overrides: Any) -> Path:
    """deployments/<name>.yaml on realistic timings, its world seeded as `engine` deploys it, image v2 pushed."""
    path = write_spec(workdir, name, timings=REALISTIC, **overrides)
    spec = load_spec(path).spec
    session = Aws(spec.region, endpoint_url=aws.endpoint_url)
    seed(session, spec, engine=engine, deregistration_delay=5)
    put_image(session, spec.image.repository, "v2")
    return path


def service(aws: Any, name: str, cluster: str = "prod") -> dict[str, Any]:
    return aws.client("ecs").describe_services(cluster=cluster, services=[name])["services"][0]


def revision(aws: Any, name: str) -> str:
    """`checkout:2`: the task definition the service is on."""
    return service(aws, name)["taskDefinition"].rsplit("/", 1)[-1]


def tg_name(arn: str) -> str:
    return arn.split("/")[-2]


def rule_split(aws: Any, rule_arn: str) -> dict[str, int]:
    """Target group name -> weight of a listener rule's forward action."""
    actions = aws.client("elbv2").describe_rules(RuleArns=[rule_arn])["Rules"][0]["Actions"]
    groups = next(a for a in actions if a["Type"] == "forward")["ForwardConfig"]["TargetGroups"]
    return {tg_name(g["TargetGroupArn"]): g["Weight"] for g in groups}


def listener_split(aws: Any, listener_arn: str) -> dict[str, int]:
    actions = aws.client("elbv2").describe_listeners(ListenerArns=[listener_arn])["Listeners"][0]["DefaultActions"]
    groups = next(a for a in actions if a["Type"] == "forward")["ForwardConfig"]["TargetGroups"]
    return {tg_name(g["TargetGroupArn"]): g["Weight"] for g in groups}


def production_rule(aws: Any, name: str) -> str:
    lb = service(aws, name)["loadBalancers"][0]
    return lb["advancedConfiguration"]["productionListenerRule"]


def service_deployments(aws: Any, name: str, cluster: str = "prod") -> list[dict[str, Any]]:
    """The service's service deployments, newest first, described."""
    ecs = aws.client("ecs")
    listed = ecs.list_service_deployments(cluster=cluster, service=name)["serviceDeployments"]
    if not listed:
        return []
    return ecs.describe_service_deployments(
        serviceDeploymentArns=[d["serviceDeploymentArn"] for d in listed])["serviceDeployments"]


def healthy(aws: Any, target_group: str) -> int:
    elbv2 = aws.client("elbv2")
    arn = elbv2.describe_target_groups(Names=[target_group])["TargetGroups"][0]["TargetGroupArn"]
    found = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    return sum(1 for d in found if d["TargetHealth"]["State"] == "healthy")


def codedeploy_deployments(aws: Any, application: str, group: str) -> list[dict[str, Any]]:
    """The group's deployments, newest first (moto lists them in creation order)."""
    client = aws.client("codedeploy")
    ids = client.list_deployments(applicationName=application, deploymentGroupName=group)["deployments"]
    infos = [client.get_deployment(deploymentId=i)["deploymentInfo"] for i in ids]
    return sorted(infos, key=lambda d: str(d.get("createTime", "")), reverse=True)


def harness(*args: str, kill_after: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess on the scaled clock; with `kill_after`, SIGKILLed once that call returned."""
    env = dict(os.environ)
    if kill_after:
        env |= {"KILL_AT": kill_after, "KILL_WHEN": "after"}
        command = [sys.executable, "-c", KILL_AT, *args]
    else:
        command = [sys.executable, "-m", "bluegreen.local.harness", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def terminated_at(step: str, *args: str) -> tuple[int, str]:
    """The CLI in a subprocess on the scaled clock, sent SIGTERM once `step` starts: (exit code, stderr)."""
    deploy = subprocess.Popen([sys.executable, "-m", "bluegreen.local.harness", *args, "--events", "json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        for line in deploy.stdout:  # type: ignore[union-attr]
            if line.startswith("{") and json.loads(line).get("step") == step:
                deploy.send_signal(signal.SIGTERM)
                break
        _, err = deploy.communicate(timeout=120)
    finally:
        deploy.kill()
    return deploy.returncode, err
