"""Seeding an ECS service that CodeDeploy deploys: the CODE_DEPLOY service, its two target groups,
the production and test listeners, a CodeDeploy application and an ECS deployment group.

The original task set's tasks are registered in the first target group (healthy: seeding is
backdated), since the emulator runs no tasks for a CODE_DEPLOY service by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bluegreen.local.world import seeding

PORT = 8080


@dataclass(frozen=True)
class CodeDeployService:
    application: str
    group: str
    cluster: str
    service: str
    container: str
    target_groups: tuple[str, str]  # ARNs: the original (production) one first
    prod_listener: str
    test_listener: str


def make_codedeploy_service(aws: Any, *, vpc: str, subnets: list[str], security_group: str, load_balancer: str,
                            task_definition: str, name: str = "web", cluster: str = "c", container: str = "web",
                            desired: int = 2, ports: tuple[int, int] = (80, 8443), config: str = "CodeDeployDefault.ECSAllAtOnce",
                            wait_minutes: int | None = None, termination_minutes: int = 5,
                            role_arn: str = "arn:aws:iam::123456789012:role/ecsCodeDeployRole") -> CodeDeployService:
    """`ports`: the production and the test listener's. `wait_minutes` set: the group waits that long for ContinueDeployment before the reroute."""
    elbv2, ecs = aws.client("elbv2"), aws.client("ecs")
    with seeding():
        tgs = tuple(elbv2.create_target_group(
            Name=f"{name}-{suffix}", Protocol="HTTP", Port=PORT, VpcId=vpc, TargetType="ip",
            HealthCheckIntervalSeconds=10, HealthyThresholdCount=3, UnhealthyThresholdCount=2,
        )["TargetGroups"][0]["TargetGroupArn"] for suffix in ("blue", "green"))
        listeners = [elbv2.create_listener(LoadBalancerArn=load_balancer, Protocol="HTTP", Port=port, DefaultActions=[
            {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": tgs[0], "Weight": 100},
                                                                   {"TargetGroupArn": tgs[1], "Weight": 0}]}}],
        )["Listeners"][0]["ListenerArn"] for port in ports]
        ecs.create_service(
            cluster=cluster, serviceName=name, taskDefinition=task_definition, desiredCount=desired,
            launchType="FARGATE", deploymentController={"type": "CODE_DEPLOY"},
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [security_group]}},
            loadBalancers=[{"targetGroupArn": tgs[0], "containerName": container, "containerPort": PORT}])
        elbv2.register_targets(TargetGroupArn=tgs[0], Targets=[{"Id": f"10.0.0.{10 + i}", "Port": PORT}
                                                                for i in range(desired)])
    codedeploy = aws.client("codedeploy")
    application = f"{name}-app"
    codedeploy.create_application(applicationName=application, computePlatform="ECS")
    ready = ({"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": wait_minutes} if wait_minutes is not None
             else {"actionOnTimeout": "CONTINUE_DEPLOYMENT"})
    codedeploy.create_deployment_group(
        applicationName=application, deploymentGroupName=f"{name}-dg", serviceRoleArn=role_arn,
        deploymentConfigName=config,
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        blueGreenDeploymentConfiguration={
            "deploymentReadyOption": ready,
            "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE",
                                                          "terminationWaitTimeInMinutes": termination_minutes}},
        autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"]},
        ecsServices=[{"serviceName": name, "clusterName": cluster}],
        loadBalancerInfo={"targetGroupPairInfoList": [{
            "targetGroups": [{"name": f"{name}-blue"}, {"name": f"{name}-green"}],
            "prodTrafficRoute": {"listenerArns": [listeners[0]]},
            "testTrafficRoute": {"listenerArns": [listeners[1]]}}]})
    return CodeDeployService(application, f"{name}-dg", cluster, name, container, (tgs[0], tgs[1]),
                             listeners[0], listeners[1])


def appspec_content(task_definition: str, container: str, port: int = PORT,
                    hooks: list[dict[str, str]] | None = None) -> str:
    """An ECS AppSpec (JSON) as CreateDeployment's `revision.appSpecContent.content`."""
    import json

    spec: dict[str, Any] = {"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
        "TaskDefinition": task_definition,
        "LoadBalancerInfo": {"ContainerName": container, "ContainerPort": port}}}}]}
    if hooks:
        spec["Hooks"] = hooks
    return json.dumps(spec)
