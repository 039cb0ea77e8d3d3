"""The compute side of seeding (see `seed`): ECS task definitions and services per color, and Auto
Scaling groups with a launch template whose user data runs the image."""

from __future__ import annotations

import base64
from typing import Any

from bluegreen.domain.spec import EcsServices, Spec, SsmParameterDelivery
from bluegreen.adapters.aws.session import Aws
from bluegreen.local import seed_extras
from bluegreen.local.seed_extras import Extras
from bluegreen.local.world import simulating
from bluegreen.local.seed_controlled import CodeDeploySeed, NativeSeed, codedeploy_wiring, native_wiring
from bluegreen.local.seed_parts import (
    COLORS, CONTAINER_PORT, Network, SeedResult, ecs_running, make_role, make_secret, tag_list,
)

# --- ECS ----------------------------------------------------------------------------------------


def register_task_definition(aws: Aws, *, family: str, container: str, image: str, cpu: int, memory: int,
                              environment: dict[str, str], secrets: dict[str, str], execution_role: str,
                              task_role: str, tags: dict[str, str], region: str) -> str:
    main: dict[str, Any] = {
        "name": container,
        "image": image,
        "essential": True,
        "portMappings": [{"containerPort": CONTAINER_PORT, "hostPort": CONTAINER_PORT, "protocol": "tcp",
                          "name": f"{container}-{CONTAINER_PORT}", "appProtocol": "http"}],
        "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secrets.items())],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": f"/ecs/{family}", "awslogs-region": region, "awslogs-stream-prefix": container}},
        "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/scratch", "readOnly": False}],
        "healthCheck": {"command": ["CMD-SHELL", f"wget -q -O /dev/null http://localhost:{CONTAINER_PORT}/ || exit 1"],
                        "interval": 10, "timeout": 5, "retries": 3, "startPeriod": 15},
        "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
        "stopTimeout": 30,
        "dockerLabels": {"bluegreen.family": family},
    }
    sidecar = {
        "name": "metrics-sidecar",
        "image": "public.ecr.aws/docker/library/busybox:1.36",
        "essential": False,
        "command": ["sh", "-c", "while true; do sleep 3600; done"],
        "memoryReservation": 32,
        "dependsOn": [{"containerName": container, "condition": "START"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": f"/ecs/{family}", "awslogs-region": region, "awslogs-stream-prefix": "sidecar"}},
    }
    return aws.client("ecs").register_task_definition(
        family=family,
        taskRoleArn=task_role,
        executionRoleArn=execution_role,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu=str(cpu),
        memory=str(memory),
        runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
        ephemeralStorage={"sizeInGiB": 21},
        volumes=[{"name": "scratch"}],
        containerDefinitions=[main, sidecar],
        tags=[{"key": k, "value": v} for k, v in tags.items()],
    )["taskDefinition"]["taskDefinitionArn"]


def create_service(aws: Aws, cluster: str, name: str, task_definition_arn: str, *, desired: int,
                    net: Network, container: str, target_group_arns: list[str], tags: dict[str, str],
                    controller: str = "ECS", load_balancers: list[dict[str, Any]] | None = None,
                    deployment_configuration: dict[str, Any] | None = None) -> str:
    kwargs: dict[str, Any] = {}
    if target_group_arns:
        kwargs["loadBalancers"] = load_balancers or [{"targetGroupArn": arn, "containerName": container,
                                                      "containerPort": CONTAINER_PORT} for arn in target_group_arns]
        kwargs["healthCheckGracePeriodSeconds"] = 30
    return aws.client("ecs").create_service(
        cluster=cluster, serviceName=name, taskDefinition=task_definition_arn, desiredCount=desired,
        launchType="FARGATE", platformVersion="LATEST",
        networkConfiguration={"awsvpcConfiguration": {"subnets": list(net.subnet_ids),
                                                      "securityGroups": [net.security_group_id],
                                                      "assignPublicIp": "DISABLED"}},
        deploymentConfiguration=deployment_configuration or {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}, "maximumPercent": 200,
            "minimumHealthyPercent": 100},
        deploymentController={"type": controller},
        schedulingStrategy="REPLICA",
        enableECSManagedTags=True, propagateTags="SERVICE",
        tags=[{"key": k, "value": v} for k, v in tags.items()],
        **kwargs,
    )["service"]["serviceArn"]


def seed_ecs(aws: Aws, spec: Spec, net: Network, result: SeedResult, color_tgs: dict[str, list[str]],
              live_color: str, image_tag: str, running: bool, controller: str = "ECS",
              engine: NativeSeed | CodeDeploySeed | None = None) -> None:
    ecs = spec.ecs
    assert ecs is not None and result.repository_uri is not None
    result.cluster_arn = aws.client("ecs").create_cluster(
        clusterName=ecs.cluster, tags=[{"key": "bluegreen:seed", "value": "true"}])["cluster"]["clusterArn"]
    execution_role = make_role(aws, f"ecsTaskExecutionRole-{spec.service}", spec.service)
    task_role = make_role(aws, f"ecsTaskRole-{spec.service}", spec.service)
    result.roles = {f"ecsTaskExecutionRole-{spec.service}": execution_role, f"ecsTaskRole-{spec.service}": task_role}
    for reference in ecs.secrets.values():
        result.secrets[reference] = make_secret(aws, reference, spec.service)
    family = ecs.task_definition_family or spec.service
    container = ecs.container
    result.task_definition_arn = register_task_definition(
        aws, family=family, container=container, image=f"{result.repository_uri}:{image_tag}",
        cpu=ecs.cpu or 256, memory=ecs.memory or 512, environment=dict(ecs.environment),
        secrets=dict(ecs.secrets), execution_role=execution_role, task_role=task_role,
        tags={"bluegreen:service": spec.service, **spec.tags}, region=aws.region)

    services = {c: ecs.services.of(c) for c in COLORS} if isinstance(ecs, EcsServices) else {live_color: ecs.service}
    elbv2 = aws.client("elbv2")
    for color, name in services.items():
        assert name is not None
        live = color == live_color or not isinstance(ecs, EcsServices)
        desired = 2 if live else 0
        tg_arns = [result.target_groups[tg] for tg in color_tgs[color]]
        balancers, configuration = (native_wiring(aws, spec, net, result, engine) if isinstance(engine, NativeSeed)
                                    else (None, None))
        with ecs_running(desired if running else 0):
            result.ecs_services[name] = create_service(
                aws, ecs.cluster, name, result.task_definition_arn, desired=desired, net=net,
                container=container, target_group_arns=tg_arns,
                tags={"bluegreen:service": spec.service, "bluegreen:color": color, **spec.tags},
                controller="CODE_DEPLOY" if isinstance(engine, CodeDeploySeed) else controller,
                load_balancers=balancers, deployment_configuration=configuration)
        if isinstance(engine, CodeDeploySeed):
            codedeploy_wiring(aws, spec, net, result, engine, desired)
            continue
        if live and running and simulating() is None:  # the tasks' awsvpc addresses, as ECS would register them
            for i, tg in enumerate(color_tgs[color]):
                ips = (f"10.0.0.{10 + i}", f"10.0.1.{10 + i}")
                elbv2.register_targets(TargetGroupArn=result.target_groups[tg],
                                       Targets=[{"Id": ip, "Port": CONTAINER_PORT} for ip in ips])
                result.targets[tg] = ips


def ecs_extras(aws: Aws, spec: Spec, strategy: str | None, scaling: dict[str, bool] | None) -> None:
    """A deployment strategy and Application Auto Scaling targets for the spec's ECS services."""
    ecs = spec.ecs
    assert ecs is not None
    for name in ecs.service_names:
        if strategy is not None:
            aws.client("ecs").update_service(cluster=ecs.cluster, service=name, deploymentConfiguration={
                "strategy": strategy, "bakeTimeInMinutes": 5, "maximumPercent": 200, "minimumHealthyPercent": 100})
        if scaling is not None:
            aws.client("application-autoscaling").register_scalable_target(
                ServiceNamespace="ecs", ResourceId=f"service/{ecs.cluster}/{name}",
                ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=4, SuspendedState=scaling)


# --- Auto Scaling -------------------------------------------------------------------------------


def find_ami(aws: Aws) -> str:
    """An Amazon Linux 2 image from moto's default set (any x86_64 image elsewhere)."""
    images = aws.client("ec2").describe_images(
        Owners=["amazon"], Filters=[{"Name": "name", "Values": ["amzn2-ami-hvm-*-x86_64-gp2"]},
                                    {"Name": "architecture", "Values": ["x86_64"]}])["Images"]
    if not images:
        raise RuntimeError("no Amazon Linux 2 image found to seed a launch template with")
    return sorted(images, key=lambda i: (i.get("CreationDate", ""), i["Name"]))[-1]["ImageId"]


def user_data_for(image: str, host_port: int, container_port: int) -> str:
    """Instance user data that runs `image` (plain text; base64 it for a launch template).
    The same shape as the planner's launch-template versions: only the image reference varies."""
    return ("#!/bin/bash\nset -euo pipefail\n"
            f"docker pull {image}\n"
            f"docker run -d --restart always --name app -p {host_port}:{container_port} {image}\n")


def user_data_from_parameter(parameter: str, host_port: int, container_port: int) -> str:
    """User data for `ssm-parameter` delivery: the image comes from the parameter (of the instance's color)."""
    name = parameter.replace("{color}", "${COLOR}")
    return ("#!/bin/bash\nset -euo pipefail\n"
            'TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token '
            '-H "X-aws-ec2-metadata-token-ttl-seconds: 60")\n'
            'COLOR=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" '
            'http://169.254.169.254/latest/meta-data/tags/instance/bluegreen-color)\n'
            f'IMAGE=$(aws ssm get-parameter --name "{name}" --query Parameter.Value --output text)\n'
            'docker pull "$IMAGE"\n'
            f'docker run -d --restart always --name app -p {host_port}:{container_port} "$IMAGE"\n')


def seed_asg(aws: Aws, spec: Spec, net: Network, result: SeedResult, color_tgs: dict[str, list[str]],
              live_color: str, extras: Extras | None = None) -> None:
    asg = spec.asg
    assert asg is not None and result.image is not None
    delivery = asg.image_delivery
    if isinstance(delivery, SsmParameterDelivery):
        text = user_data_from_parameter(delivery.parameter, delivery.host_port, delivery.container_port)
        names = {delivery.name_for(c) for c in COLORS}
        for name in sorted(names):
            aws.client("ssm").put_parameter(Name=name, Value=result.image, Type="String", Overwrite=True)
            result.image_parameters[name] = result.image
    else:
        text = user_data_for(result.image, delivery.host_port, delivery.container_port)
    template = aws.client("ec2").create_launch_template(
        LaunchTemplateName=asg.launch_template,
        VersionDescription=f"{spec.service} {result.image}",
        LaunchTemplateData={
            "ImageId": find_ami(aws), "InstanceType": "t3.micro",
            "UserData": base64.b64encode(text.encode()).decode(),
            "SecurityGroupIds": [net.security_group_id],
            "MetadataOptions": {"HttpTokens": "required", "InstanceMetadataTags": "enabled"},
            "TagSpecifications": [{"ResourceType": "instance", "Tags": tag_list({"bluegreen:service": spec.service})}],
        },
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": tag_list({"bluegreen:service": spec.service})}],
    )["LaunchTemplate"]
    result.launch_template_id = template["LaunchTemplateId"]
    autoscaling = aws.client("autoscaling")
    for color in COLORS:
        name = asg.group_name(color)
        live = color == live_color
        kwargs: dict[str, Any] = {}
        if live and color_tgs[color]:
            kwargs["TargetGroupARNs"] = [result.target_groups[tg] for tg in color_tgs[color]]
        if live and spec.classic_elb:
            kwargs["LoadBalancerNames"] = [spec.classic_elb]
        size = (2, 2, 4) if live else (0, 0, 0)
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            **seed_extras.group_launch(template["LaunchTemplateId"], extras),
            MinSize=size[0], DesiredCapacity=size[1], MaxSize=size[2],
            VPCZoneIdentifier=",".join(net.subnet_ids),
            HealthCheckType="ELB" if live else "EC2", HealthCheckGracePeriod=60,
            Tags=[{"Key": "bluegreen:service", "Value": spec.service, "PropagateAtLaunch": True},
                  {"Key": "bluegreen-color", "Value": color, "PropagateAtLaunch": True}],
            **kwargs)
    groups = autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[asg.group_name(c) for c in COLORS])["AutoScalingGroups"]
    for group in groups:
        result.asgs[group["AutoScalingGroupName"]] = group["AutoScalingGroupARN"]
        if group["AutoScalingGroupName"] == asg.group_name(live_color):
            ids = tuple(i["InstanceId"] for i in group["Instances"])
            for tg in color_tgs[live_color]:
                result.targets[tg] = ids


