"""Seeding a spec's one ECS service as AWS's own engines deploy it, so tests and the demo start from
the world such a team has:

- `NativeSeed`: ECS's built-in blue/green. Beside the spec's target group (the primary) an
  alternate one, a production rule on the :80 listener and a test rule on a :81 listener (both
  forwarding 100% to the primary), the infrastructure role, and the service created with
  `deploymentConfiguration.strategy`, its bake time, PAUSE lifecycle hooks and deployment alarms.
- `CodeDeploySeed`: the CODE_DEPLOY controller. The service registers its original task set in the
  spec's target group (the emulator runs no tasks of a CODE_DEPLOY service by itself, so seeding
  registers them, as `seed_codedeploy` does); a second target group, a :81 test listener, and a
  CodeDeploy application and ECS deployment group over the pair.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bluegreen.adapters.aws.session import Aws
from bluegreen.domain.spec import Spec
from bluegreen.local.seed_parts import CONTAINER_PORT, Network, SeedResult, make_target_group

TEST_PORT = 81


@dataclass(frozen=True)
class NativeSeed:
    strategy: str = "BLUE_GREEN"
    bake_minutes: int = 5
    pause_at: tuple[str, ...] = ("POST_TEST_TRAFFIC_SHIFT",)
    hook_timeout_minutes: int = 30
    alarms: tuple[str, ...] = ()  # deploymentConfiguration.alarms (ECS rolls back by itself on them)
    linear: tuple[int, int] | None = None  # (stepPercent, stepBakeTimeInMinutes)
    canary: tuple[int, int] | None = None  # (canaryPercent, canaryBakeTimeInMinutes)


@dataclass(frozen=True)
class CodeDeploySeed:
    wait_minutes: int | None = 60  # the reroute wait (None: CodeDeploy reroutes without waiting)
    termination_minutes: int = 5
    config: str = "CodeDeployDefault.ECSAllAtOnce"


def native_wiring(aws: Aws, spec: Spec, net: Network, result: SeedResult, seed: NativeSeed
                  ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The alternate target group and the two rules; (loadBalancers, deploymentConfiguration) for CreateService."""
    primary_name = spec.target_group
    assert primary_name is not None and spec.ecs is not None
    elbv2 = aws.client("elbv2")
    primary = result.target_groups[primary_name]
    alternate = make_target_group(aws, f"{primary_name}-alt", net, CONTAINER_PORT, "ip", result)
    lb_name = f"{spec.service}-alb"
    lb = result.load_balancers[lb_name]
    forward = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": primary, "Weight": 100}, {"TargetGroupArn": alternate, "Weight": 0}]}}]
    test = elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=TEST_PORT, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]["ListenerArn"]
    result.listeners[f"{lb_name}:{TEST_PORT}"] = test
    rules = {}
    for port, listener in ((80, result.listeners[f"{lb_name}:80"]), (TEST_PORT, test)):
        rules[port] = elbv2.create_rule(ListenerArn=listener, Priority=1, Actions=forward, Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}])["Rules"][0]["RuleArn"]
        result.rules[f"{lb_name}:{port}:1"] = rules[port]
    role = _role(aws, f"ecsInfrastructureRole-{spec.service}", "ecs.amazonaws.com")
    result.roles[f"ecsInfrastructureRole-{spec.service}"] = role
    balancers = [{"targetGroupArn": primary, "containerName": spec.ecs.container, "containerPort": CONTAINER_PORT,
                  "advancedConfiguration": {"alternateTargetGroupArn": alternate, "productionListenerRule": rules[80],
                                            "testListenerRule": rules[TEST_PORT], "roleArn": role}}]
    configuration: dict[str, Any] = {
        "strategy": seed.strategy, "bakeTimeInMinutes": seed.bake_minutes, "maximumPercent": 200,
        "minimumHealthyPercent": 100, "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": [stage], "timeoutConfiguration": {
            "timeoutInMinutes": seed.hook_timeout_minutes, "action": "ROLLBACK"}} for stage in seed.pause_at]}
    if seed.alarms:
        configuration["alarms"] = {"alarmNames": list(seed.alarms), "enable": True, "rollback": True}
    if seed.linear:
        configuration["linearConfiguration"] = {"stepPercent": seed.linear[0], "stepBakeTimeInMinutes": seed.linear[1]}
    if seed.canary:
        configuration["canaryConfiguration"] = {"canaryPercent": seed.canary[0],
                                                "canaryBakeTimeInMinutes": seed.canary[1]}
    return balancers, configuration


def codedeploy_wiring(aws: Aws, spec: Spec, net: Network, result: SeedResult, seed: CodeDeploySeed,
                      desired: int) -> None:
    """After the CODE_DEPLOY service exists: its original task set's targets, the second target group, the
    test listener, and the application and deployment group."""
    primary_name = spec.target_group
    assert primary_name is not None and spec.ecs is not None
    elbv2 = aws.client("elbv2")
    primary = result.target_groups[primary_name]
    elbv2.register_targets(TargetGroupArn=primary, Targets=[{"Id": f"10.0.3.{10 + i}", "Port": CONTAINER_PORT}
                                                            for i in range(desired)])
    second_name = f"{primary_name}-2"
    second = make_target_group(aws, second_name, net, CONTAINER_PORT, "ip", result)
    lb_name = f"{spec.service}-alb"
    test = elbv2.create_listener(LoadBalancerArn=result.load_balancers[lb_name], Protocol="HTTP", Port=TEST_PORT,
                                 DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                                     {"TargetGroupArn": primary, "Weight": 100},
                                     {"TargetGroupArn": second, "Weight": 0}]}}])["Listeners"][0]["ListenerArn"]
    result.listeners[f"{lb_name}:{TEST_PORT}"] = test
    production = result.listeners[f"{lb_name}:80"]
    elbv2.modify_listener(ListenerArn=production, DefaultActions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": primary, "Weight": 100}, {"TargetGroupArn": second, "Weight": 0}]}}])
    role = _role(aws, f"ecsCodeDeployRole-{spec.service}", "codedeploy.amazonaws.com")
    result.roles[f"ecsCodeDeployRole-{spec.service}"] = role
    codedeploy = aws.client("codedeploy")
    application = f"{spec.service}-app"
    codedeploy.create_application(applicationName=application, computePlatform="ECS")
    ready = ({"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": seed.wait_minutes}
             if seed.wait_minutes is not None else {"actionOnTimeout": "CONTINUE_DEPLOYMENT"})
    codedeploy.create_deployment_group(
        applicationName=application, deploymentGroupName=f"{spec.service}-dg", serviceRoleArn=role,
        deploymentConfigName=seed.config,
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        blueGreenDeploymentConfiguration={
            "deploymentReadyOption": ready,
            "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE",
                                                          "terminationWaitTimeInMinutes": seed.termination_minutes}},
        autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"]},
        ecsServices=[{"serviceName": spec.ecs.service_names[0], "clusterName": spec.ecs.cluster}],
        loadBalancerInfo={"targetGroupPairInfoList": [{
            "targetGroups": [{"name": primary_name}, {"name": second_name}],
            "prodTrafficRoute": {"listenerArns": [production]},
            "testTrafficRoute": {"listenerArns": [test]}}]})
    result.targets[primary_name] = tuple(f"10.0.3.{10 + i}" for i in range(desired))


def _role(aws: Aws, name: str, principal: str) -> str:
    iam = aws.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": principal},
                                                      "Action": "sts:AssumeRole"}]}
    try:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    except Exception:  # noqa: BLE001 - seeding twice in one emulator: the role is there already
        return iam.get_role(RoleName=name)["Role"]["Arn"]
