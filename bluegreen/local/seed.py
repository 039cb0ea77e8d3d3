"""Create, in the emulator (or any endpoint), the infrastructure a spec refers to.

Tests, the demo and the benchmarks all seed through `seed` (one spec) and `seed_fleet` (many
small ECS services), so they all start from the same, realistic world:

- image: the ECR repository with one image (a valid docker v2 manifest, so it has a digest);
- ECS: cluster, execution/task roles, a task definition with every commonly used field, and one
  service per color (live: 2 tasks, idle: 0) on FARGATE/awsvpc in a VPC with DNS hostnames on;
- traffic: ALB + target groups + a weighted listener (or a rule at `rule_priority`), a test
  listener, a single target group, a classic ELB, or a weighted Route53 record;
- ASG: a launch template whose user data runs the image, and the two groups (live attached);
- alarms in state OK; secret references (SSM parameters, Secrets Manager secrets) that exist.

`live_color="green"` builds the mirror image, so tests can prove that the live color is read from
weights and attachments, never from names.

moto specifics (harmless against a real endpoint, see MOTO.md): the ECS running count is taken
from MOTO_ECS_SERVICE_RUNNING when a service is created, so `seed` sets it around each creation
(an in-process server sees it); a Secrets Manager ARN's random suffix is requested through moto's
`_custom_id_` tag so the secret's ARN equals the spec's reference.

On the realistic emulator (an active `World` in this process) ECS starts the live color's tasks
and registers them itself, so `seed` registers no made-up targets; everything is created an hour
in the past (`world.seeding`), so the live color is running, healthy and COMPLETED when `seed`
returns, and `SeedResult.targets` lists the targets ECS (or Auto Scaling) registered.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from bluegreen.domain.spec import EcsServices, Spec, SsmParameterDelivery
from bluegreen.adapters.aws.session import Aws
from bluegreen.local import seed_extras
from bluegreen.local.seed_extras import Extras
from bluegreen.local.world import seeding, simulating

COLORS = ("blue", "green")
CONTAINER_PORT = 8080
SEED_TAG = "bluegreen-seed"
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
WEIGHTED_TTL = 60

_env_lock = threading.Lock()


@dataclass
class SeedResult:
    """What `seed` created: ids and ARNs by name, for tests to poke at."""

    service: str
    region: str
    account: str
    live_color: str
    vpc_id: str = ""
    subnet_ids: tuple[str, ...] = ()
    security_group_id: str = ""
    repository_uri: str | None = None
    image: str | None = None  # full reference with the tag
    image_digest: str | None = None
    cluster_arn: str | None = None
    task_definition_arn: str | None = None
    ecs_services: dict[str, str] = field(default_factory=dict)  # service name -> ARN
    roles: dict[str, str] = field(default_factory=dict)  # role name -> ARN
    secrets: dict[str, str] = field(default_factory=dict)  # spec reference -> ARN created
    image_parameters: dict[str, str] = field(default_factory=dict)  # SSM parameter -> image (ssm delivery)
    load_balancers: dict[str, str] = field(default_factory=dict)  # name -> ARN
    target_groups: dict[str, str] = field(default_factory=dict)  # name -> ARN
    listeners: dict[str, str] = field(default_factory=dict)  # "lb:port" -> ARN
    rules: dict[str, str] = field(default_factory=dict)  # "lb:port:priority" -> ARN
    targets: dict[str, tuple[str, ...]] = field(default_factory=dict)  # target group name -> ids
    launch_template_id: str | None = None
    asgs: dict[str, str] = field(default_factory=dict)  # name -> ARN
    classic_elb: str | None = None
    hosted_zone_id: str | None = None
    records: dict[str, str] = field(default_factory=dict)  # set identifier -> value
    health_checks: dict[str, str] = field(default_factory=dict)  # color -> Route53 health check id (extras)
    certificate_arn: str | None = None  # the HTTPS listeners' certificate (extras)
    alarms: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Network:
    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_id: str


# --- public -------------------------------------------------------------------------------------


def seed(aws: Aws, spec: Spec, *, live_color: str = "blue", image_tag: str = "v1",
         running: bool = True, deregistration_delay: int = 30, controller: str = "ECS",
         ecs_strategy: str | None = None, scaling: dict[str, bool] | None = None,
         extras: Extras | None = None) -> SeedResult:
    """Create everything `spec` refers to, with `live_color` serving 100% of the traffic.

    ECS services only: `controller` is their deployment controller type (ECS, CODE_DEPLOY, EXTERNAL),
    `ecs_strategy` their deployment strategy (ROLLING, BLUE_GREEN, LINEAR, CANARY; set with an update,
    which moto keeps where create drops it), and `scaling`, when given, the SuspendedState of an
    Application Auto Scaling target registered for each service (1 to 4 tasks). With `extras`, the
    attributes a traffic shift must keep (see `seed_extras`).
    """
    with seeding():
        result = _seed(aws, spec, live_color=live_color, image_tag=image_tag, running=running,
                       deregistration_delay=deregistration_delay, controller=controller,
                       ecs_strategy=ecs_strategy, scaling=scaling, extras=extras)
    if simulating() is not None:
        _record_targets(aws.for_region(spec.region), result)
    return result


def _seed(aws: Aws, spec: Spec, *, live_color: str, image_tag: str, running: bool, deregistration_delay: int,
          controller: str, ecs_strategy: str | None, scaling: dict[str, bool] | None,
          extras: Extras | None) -> SeedResult:
    if live_color not in COLORS:
        raise ValueError(f"live_color must be blue or green, not {live_color!r}")
    aws = aws.for_region(spec.region)
    idle_color = "green" if live_color == "blue" else "blue"
    result = SeedResult(spec.service, aws.region, _account(aws), live_color)
    net = _network(aws)
    result.vpc_id, result.subnet_ids, result.security_group_id = net.vpc_id, net.subnet_ids, net.security_group_id

    uri = _repository(aws, spec.image.repository, immutable=spec.image.tag_immutable,
                      scan_on_push=spec.image.scan_on_push)
    result.repository_uri = uri
    result.image = f"{uri}:{image_tag}"
    result.image_digest = put_image(aws, spec.image.repository, image_tag)

    ecs, asg, traffic = spec.ecs, spec.asg, spec
    target_type = "ip" if ecs else "instance"
    port = CONTAINER_PORT if ecs else (asg.image_delivery.host_port if asg else 80)
    # color -> target group names that color's workload is registered in
    color_tgs: dict[str, list[str]] = {c: [] for c in COLORS}

    if traffic.routes:
        for route in traffic.routes:
            lb_arn = _alb(aws, route.load_balancer, net, result)
            tg_arns = {c: _target_group(aws, getattr(route, f"{c}_target_group"), net, port, target_type, result,
                                   deregistration_delay=deregistration_delay)
                       for c in COLORS}
            for c in COLORS:
                color_tgs[c].append(getattr(route, f"{c}_target_group"))
            weights = [(tg_arns[live_color], 100), (tg_arns[idle_color], 0)]
            _forward_listener(aws, lb_arn, route.load_balancer, route.port, weights, route.rule_priority,
                              spec.service, result)
        if traffic.test_listener:
            first = traffic.routes[0]
            tg = {c: result.target_groups[getattr(first, f"{c}_target_group")] for c in COLORS}
            _forward_listener(aws, result.load_balancers[first.load_balancer], first.load_balancer,
                              traffic.test_listener.port, [(tg[live_color], 100), (tg[idle_color], 0)],
                              None, spec.service, result)
        if extras is not None:
            seed_extras.routes(aws, spec, result, live_color, extras)
    elif traffic.target_group:
        lb_name = f"{spec.service}-alb"
        lb_arn = _alb(aws, lb_name, net, result)
        tg_arn = _target_group(aws, traffic.target_group, net, port, target_type, result,
                                   deregistration_delay=deregistration_delay)
        _forward_listener(aws, lb_arn, lb_name, 80, [(tg_arn, 100)], None, spec.service, result)
        color_tgs[live_color].append(traffic.target_group)
    elif traffic.dns:
        dns = traffic.dns
        for c in COLORS:
            name = dns.target_groups.of(c) if dns.target_groups else f"{spec.service}-{c}"
            lb_name = f"{spec.service}-{c}"
            lb_arn = _alb(aws, lb_name, net, result)
            tg_arn = _target_group(aws, name, net, port, target_type, result,
                                   deregistration_delay=deregistration_delay)
            _forward_listener(aws, lb_arn, lb_name, 80, [(tg_arn, 100)], None, spec.service, result)
            color_tgs[c].append(name)
    if traffic.classic_elb:
        _classic_elb(aws, traffic.classic_elb, net, port, spec.service, result)

    if ecs:
        _seed_ecs(aws, spec, net, result, color_tgs, live_color, image_tag, running, controller)
        _ecs_extras(aws, spec, ecs_strategy, scaling)
    if asg:
        _seed_asg(aws, spec, net, result, color_tgs, live_color, extras)
    if traffic.dns:
        _seed_dns(aws, spec, result, live_color, extras)
    if spec.health.alarms:
        _alarms(aws, spec.health.alarms, spec.service)
        result.alarms = tuple(spec.health.alarms)
    return result


def seed_fleet(aws: Aws, n: int, *, cluster: str = "fleet", workers: int = 8) -> list[Spec]:
    """`n` ECS task-definition-swap services in one cluster (one shared ECR repository, one image
    tag per service, one target group each) and their specs, for the many-services benchmark."""
    account = _account(aws)
    net = _network(aws)
    repo = cluster
    uri = _repository(aws, repo, immutable=True, scan_on_push=False)
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    execution_role = _role(aws, f"ecsTaskExecutionRole-{cluster}", cluster)
    task_role = _role(aws, f"ecsTaskRole-{cluster}", cluster)
    width = max(3, len(str(n)))
    names = [f"{cluster}-svc-{i:0{width}d}" for i in range(1, n + 1)]
    scratch = SeedResult(cluster, aws.region, account, "blue")

    def one(name: str) -> dict[str, Any]:
        tag = f"{name}-v1"
        put_image(aws, repo, tag)
        # AWS's default deregistration delay (300 s) is kept: one call less per service
        tg_arn = _target_group(aws, name, net, CONTAINER_PORT, "ip", scratch, deregistration_delay=None)
        td = _register_task_definition(
            aws, family=name, container="app", image=f"{uri}:{tag}", cpu=256, memory=512,
            environment={"SERVICE": name}, secrets={}, execution_role=execution_role, task_role=task_role,
            tags={"bluegreen:service": name}, region=aws.region)
        _create_service(aws, cluster, name, td, desired=2, net=net, container="app",
                        target_group_arns=[tg_arn], tags={"bluegreen:service": name})
        return {
            "service": name,
            "region": aws.region,
            "strategy": "ecs-task-definition-swap",
            "image": {"repository": repo},
            "platform": {"ecs": {"cluster": cluster, "service": name, "container": "app"}},
            "traffic": {"target_group": name},
        }

    with seeding(), _ecs_running(2), ThreadPoolExecutor(max_workers=workers) as pool:
        raw = list(pool.map(one, names))
    return [Spec.model_validate(item) for item in raw]


def _record_targets(aws: Aws, result: SeedResult) -> None:
    """The targets ECS or Auto Scaling registered while seeding (the realistic emulator)."""
    elbv2 = aws.client("elbv2")
    for name, arn in result.target_groups.items():
        found = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        ids = tuple(sorted(d["Target"]["Id"] for d in found if d["TargetHealth"]["State"] != "draining"))
        if ids:
            result.targets[name] = ids


# --- shared pieces ------------------------------------------------------------------------------


def _account(aws: Aws) -> str:
    return aws.client("sts").get_caller_identity()["Account"]


def _tags(pairs: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def _network(aws: Aws) -> _Network:
    """One VPC (DNS hostnames on, two subnets, one security group) shared by every seed call."""
    ec2 = aws.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [SEED_TAG]}])["Vpcs"]
    if vpcs:
        vpc_id = vpcs[0]["VpcId"]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                       {"Name": "group-name", "Values": [SEED_TAG]}])
        return _Network(vpc_id, tuple(sorted(s["SubnetId"] for s in subnets)),
                        groups["SecurityGroups"][0]["GroupId"])
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": _tags({"Name": SEED_TAG})}])["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnet_ids = []
    for i, zone in enumerate("ab"):
        subnet_ids.append(ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{i}.0/24",
                                            AvailabilityZone=f"{aws.region}{zone}")["Subnet"]["SubnetId"])
    sg = ec2.create_security_group(GroupName=SEED_TAG, Description="bluegreen seeded services",
                                   VpcId=vpc_id)["GroupId"]
    return _Network(vpc_id, tuple(sorted(subnet_ids)), sg)


def _repository(aws: Aws, name: str, *, immutable: bool, scan_on_push: bool) -> str:
    ecr = aws.client("ecr")
    try:
        repo = ecr.create_repository(
            repositoryName=name, imageTagMutability="IMMUTABLE" if immutable else "MUTABLE",
            imageScanningConfiguration={"scanOnPush": scan_on_push})["repository"]
    except ecr.exceptions.RepositoryAlreadyExistsException:
        repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    return repo["repositoryUri"]


def put_image(aws: Aws, repository: str, tag: str) -> str:
    """Put a valid docker v2 manifest under `tag`; distinct per repository and tag. Returns the digest."""
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Labels": {"bluegreen.image": f"{repository}:{tag}"}},
                         "rootfs": {"type": "layers", "diff_ids": []}}, sort_keys=True).encode()
    layer = f"layer of {repository}:{tag}".encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_V2,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                   "digest": "sha256:" + hashlib.sha256(config).hexdigest()},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer),
                    "digest": "sha256:" + hashlib.sha256(layer).hexdigest()}],
    }
    ecr = aws.client("ecr")
    try:
        image = ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag,
                              imageManifestMediaType=MANIFEST_V2)["image"]
        return image["imageId"]["imageDigest"]
    except (ecr.exceptions.ImageAlreadyExistsException, ecr.exceptions.ImageTagAlreadyExistsException):
        found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])["imageDetails"]
        return found[0]["imageDigest"]


def _role(aws: Aws, name: str, service: str) -> str:
    iam = aws.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    try:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                               Tags=_tags({"bluegreen:service": service}))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        return iam.get_role(RoleName=name)["Role"]["Arn"]


def _secret(aws: Aws, reference: str, service: str) -> str:
    """Make the SSM parameter / Secrets Manager secret a reference points at (placeholder value)."""
    parts = reference.split(":")
    if parts[2] == "ssm":
        rest = parts[5].split("/", 1)[1]  # parameter/NAME
        name = "/" + rest if "/" in rest else rest
        ssm = aws.client("ssm")
        try:
            ssm.put_parameter(Name=name, Value="seeded-placeholder", Type="SecureString",
                              Tags=_tags({"bluegreen:service": service}))
        except ssm.exceptions.ParameterAlreadyExists:
            pass
        return reference
    secret_id = parts[6]  # secret:NAME-XXXXXX
    name, _, suffix = secret_id.rpartition("-")
    if not name or len(suffix) != 6:
        name, suffix = secret_id, ""
    sm = aws.client("secretsmanager")
    tags = {"bluegreen:service": service}
    if suffix:
        tags["_custom_id_"] = suffix  # moto: use this suffix so the ARN equals the reference
    try:
        return sm.create_secret(Name=name, SecretString="seeded-placeholder", Tags=_tags(tags))["ARN"]
    except sm.exceptions.ResourceExistsException:
        return sm.describe_secret(SecretId=name)["ARN"]


@contextmanager
def _ecs_running(count: int) -> Iterator[None]:
    """moto reads MOTO_ECS_SERVICE_RUNNING when a service is created (in-process server only)."""
    with _env_lock:
        old = os.environ.get("MOTO_ECS_SERVICE_RUNNING")
        os.environ["MOTO_ECS_SERVICE_RUNNING"] = str(count)
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("MOTO_ECS_SERVICE_RUNNING", None)
            else:
                os.environ["MOTO_ECS_SERVICE_RUNNING"] = old


# --- load balancing -----------------------------------------------------------------------------


def _alb(aws: Aws, name: str, net: _Network, result: SeedResult) -> str:
    if name in result.load_balancers:
        return result.load_balancers[name]
    elbv2 = aws.client("elbv2")
    found = elbv2.describe_load_balancers()["LoadBalancers"]
    existing = next((lb for lb in found if lb["LoadBalancerName"] == name), None)
    if existing is None:
        existing = elbv2.create_load_balancer(
            Name=name, Subnets=list(net.subnet_ids), SecurityGroups=[net.security_group_id],
            Scheme="internet-facing", Type="application", IpAddressType="ipv4",
            Tags=_tags({"bluegreen:service": result.service}))["LoadBalancers"][0]
    result.load_balancers[name] = existing["LoadBalancerArn"]
    return existing["LoadBalancerArn"]


def _target_group(aws: Aws, name: str, net: _Network, port: int, target_type: str, result: SeedResult,
                  *, deregistration_delay: int | None = 30) -> str:
    if name in result.target_groups:
        return result.target_groups[name]
    elbv2 = aws.client("elbv2")
    arn = elbv2.create_target_group(
        Name=name, Protocol="HTTP", Port=port, VpcId=net.vpc_id, TargetType=target_type,
        HealthCheckProtocol="HTTP", HealthCheckPath="/", HealthCheckIntervalSeconds=10,
        HealthCheckTimeoutSeconds=5, HealthyThresholdCount=3, UnhealthyThresholdCount=2,
        Matcher={"HttpCode": "200"}, Tags=_tags({"bluegreen:service": result.service}),
    )["TargetGroups"][0]["TargetGroupArn"]
    if deregistration_delay is not None:
        elbv2.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": str(deregistration_delay)}])
    result.target_groups[name] = arn
    return arn


def _forward(weights: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": arn, "Weight": w} for arn, w in weights],
        "TargetGroupStickinessConfig": {"Enabled": False}}}]


def _forward_listener(aws: Aws, lb_arn: str, lb_name: str, port: int, weights: list[tuple[str, int]],
                      priority: int | None, service: str, result: SeedResult) -> str:
    """The listener on `port` forwarding with `weights`, or a rule at `priority` doing so."""
    elbv2 = aws.client("elbv2")
    key = f"{lb_name}:{port}"
    listener_arn = result.listeners.get(key)
    if listener_arn is None:
        existing = elbv2.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
        listener_arn = next((l["ListenerArn"] for l in existing if l["Port"] == port), None)
    if listener_arn is None:
        default = _forward(weights) if priority is None else [{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "no route"}}]
        listener_arn = elbv2.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=port,
                                             DefaultActions=default)["Listeners"][0]["ListenerArn"]
    elif priority is None:
        elbv2.modify_listener(ListenerArn=listener_arn, DefaultActions=_forward(weights))
    result.listeners[key] = listener_arn
    if priority is not None:
        rule = elbv2.create_rule(
            ListenerArn=listener_arn, Priority=priority, Actions=_forward(weights),
            Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": [f"{service}.example.com"]}}],
        )["Rules"][0]
        result.rules[f"{key}:{priority}"] = rule["RuleArn"]
    return listener_arn


def _classic_elb(aws: Aws, name: str, net: _Network, port: int, service: str, result: SeedResult) -> None:
    aws.client("elb").create_load_balancer(
        LoadBalancerName=name, Subnets=list(net.subnet_ids), SecurityGroups=[net.security_group_id],
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": port}],
        Tags=_tags({"bluegreen:service": service}))
    aws.client("elb").configure_health_check(LoadBalancerName=name, HealthCheck={
        "Target": f"HTTP:{port}/", "Interval": 10, "Timeout": 5, "UnhealthyThreshold": 2, "HealthyThreshold": 3})
    result.classic_elb = name


# --- ECS ----------------------------------------------------------------------------------------


def _register_task_definition(aws: Aws, *, family: str, container: str, image: str, cpu: int, memory: int,
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


def _create_service(aws: Aws, cluster: str, name: str, task_definition_arn: str, *, desired: int,
                    net: _Network, container: str, target_group_arns: list[str], tags: dict[str, str],
                    controller: str = "ECS") -> str:
    kwargs: dict[str, Any] = {}
    if target_group_arns:
        kwargs["loadBalancers"] = [{"targetGroupArn": arn, "containerName": container,
                                    "containerPort": CONTAINER_PORT} for arn in target_group_arns]
        kwargs["healthCheckGracePeriodSeconds"] = 30
    return aws.client("ecs").create_service(
        cluster=cluster, serviceName=name, taskDefinition=task_definition_arn, desiredCount=desired,
        launchType="FARGATE", platformVersion="LATEST",
        networkConfiguration={"awsvpcConfiguration": {"subnets": list(net.subnet_ids),
                                                      "securityGroups": [net.security_group_id],
                                                      "assignPublicIp": "DISABLED"}},
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                 "maximumPercent": 200, "minimumHealthyPercent": 100},
        deploymentController={"type": controller},
        schedulingStrategy="REPLICA",
        enableECSManagedTags=True, propagateTags="SERVICE",
        tags=[{"key": k, "value": v} for k, v in tags.items()],
        **kwargs,
    )["service"]["serviceArn"]


def _seed_ecs(aws: Aws, spec: Spec, net: _Network, result: SeedResult, color_tgs: dict[str, list[str]],
              live_color: str, image_tag: str, running: bool, controller: str = "ECS") -> None:
    ecs = spec.ecs
    assert ecs is not None and result.repository_uri is not None
    result.cluster_arn = aws.client("ecs").create_cluster(
        clusterName=ecs.cluster, tags=[{"key": "bluegreen:seed", "value": "true"}])["cluster"]["clusterArn"]
    execution_role = _role(aws, f"ecsTaskExecutionRole-{spec.service}", spec.service)
    task_role = _role(aws, f"ecsTaskRole-{spec.service}", spec.service)
    result.roles = {f"ecsTaskExecutionRole-{spec.service}": execution_role, f"ecsTaskRole-{spec.service}": task_role}
    for reference in ecs.secrets.values():
        result.secrets[reference] = _secret(aws, reference, spec.service)
    family = ecs.task_definition_family or spec.service
    container = ecs.container
    result.task_definition_arn = _register_task_definition(
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
        with _ecs_running(desired if running else 0):
            result.ecs_services[name] = _create_service(
                aws, ecs.cluster, name, result.task_definition_arn, desired=desired, net=net,
                container=container, target_group_arns=tg_arns,
                tags={"bluegreen:service": spec.service, "bluegreen:color": color, **spec.tags}, controller=controller)
        if live and running and simulating() is None:  # the tasks' awsvpc addresses, as ECS would register them
            for i, tg in enumerate(color_tgs[color]):
                ips = (f"10.0.0.{10 + i}", f"10.0.1.{10 + i}")
                elbv2.register_targets(TargetGroupArn=result.target_groups[tg],
                                       Targets=[{"Id": ip, "Port": CONTAINER_PORT} for ip in ips])
                result.targets[tg] = ips


def _ecs_extras(aws: Aws, spec: Spec, strategy: str | None, scaling: dict[str, bool] | None) -> None:
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


def _ami(aws: Aws) -> str:
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


def _seed_asg(aws: Aws, spec: Spec, net: _Network, result: SeedResult, color_tgs: dict[str, list[str]],
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
            "ImageId": _ami(aws), "InstanceType": "t3.micro",
            "UserData": base64.b64encode(text.encode()).decode(),
            "SecurityGroupIds": [net.security_group_id],
            "MetadataOptions": {"HttpTokens": "required", "InstanceMetadataTags": "enabled"},
            "TagSpecifications": [{"ResourceType": "instance", "Tags": _tags({"bluegreen:service": spec.service})}],
        },
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": _tags({"bluegreen:service": spec.service})}],
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


# --- DNS and alarms -----------------------------------------------------------------------------


def _seed_dns(aws: Aws, spec: Spec, result: SeedResult, live_color: str, extras: Extras | None = None) -> None:
    dns = spec.dns
    assert dns is not None
    route53 = aws.client("route53")
    if "." in dns.hosted_zone:
        wanted = dns.hosted_zone.rstrip(".") + "."
        zones = route53.list_hosted_zones_by_name(DNSName=wanted)["HostedZones"]
        zone = next((z for z in zones if z["Name"] == wanted), None)
        if zone is None:
            zone = route53.create_hosted_zone(Name=wanted, CallerReference=f"bluegreen-seed-{spec.service}",
                                              HostedZoneConfig={"Comment": "bluegreen seed",
                                                                "PrivateZone": False})["HostedZone"]
        zone_id = zone["Id"]
    else:
        zone_id = dns.hosted_zone
    result.hosted_zone_id = zone_id.rsplit("/", 1)[-1]
    ttl = int(dns.ttl)
    changes = []
    for color in COLORS:
        record: dict[str, Any] = {
            "Name": dns.record, "Type": "CNAME", "SetIdentifier": color,
            "Weight": 100 if color == live_color else 0, "TTL": ttl,
            "ResourceRecords": [{"Value": dns.endpoints.of(color)}],
        }
        if dns.health_check_ids:
            record["HealthCheckId"] = dns.health_check_ids.of(color)
        result.records[color] = dns.endpoints.of(color)
        record = seed_extras.dns_record(aws, spec, result, color, record, extras)
        changes.append({"Action": "UPSERT", "ResourceRecordSet": record})
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Comment": f"bluegreen seed: {live_color} live", "Changes": changes})


def _alarms(aws: Aws, names: list[str], service: str) -> None:
    cloudwatch = aws.client("cloudwatch")
    for name in names:
        cloudwatch.put_metric_alarm(
            AlarmName=name, AlarmDescription=f"{service} health gate", Namespace="AWS/ApplicationELB",
            MetricName="HTTPCode_Target_5XX_Count", Statistic="Sum", Period=60, EvaluationPeriods=3,
            DatapointsToAlarm=2, Threshold=5, ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching", Tags=_tags({"bluegreen:service": service}))
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="seeded healthy")
