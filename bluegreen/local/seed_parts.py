"""The pieces every seeding is made of (see `seed`): the shared network, ECR images, IAM roles,
secret references, load balancers, target groups and weighted listeners, Route53 records and alarms.

Each creates one thing the way a team would have it in AWS and records its id or ARN in the
`SeedResult`; none decides what a spec needs (that is `seed`'s job).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from bluegreen.domain.spec import Spec
from bluegreen.adapters.aws.session import Aws
from bluegreen.local import seed_extras
from bluegreen.local.seed_extras import Extras

COLORS = ("blue", "green")
CONTAINER_PORT = 8080
SEED_TAG = "bluegreen-seed"
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
WEIGHTED_TTL = 60

env_lock = threading.Lock()


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
class Network:
    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_id: str


# --- shared pieces ------------------------------------------------------------------------------


def account_of(aws: Aws) -> str:
    return aws.client("sts").get_caller_identity()["Account"]


def tag_list(pairs: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def shared_network(aws: Aws) -> Network:
    """One VPC (DNS hostnames on, two subnets, one security group) shared by every seed call."""
    ec2 = aws.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [SEED_TAG]}])["Vpcs"]
    if vpcs:
        vpc_id = vpcs[0]["VpcId"]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                       {"Name": "group-name", "Values": [SEED_TAG]}])
        return Network(vpc_id, tuple(sorted(s["SubnetId"] for s in subnets)),
                        groups["SecurityGroups"][0]["GroupId"])
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": tag_list({"Name": SEED_TAG})}])["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnet_ids = []
    for i, zone in enumerate("ab"):
        subnet_ids.append(ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{i}.0/24",
                                            AvailabilityZone=f"{aws.region}{zone}")["Subnet"]["SubnetId"])
    sg = ec2.create_security_group(GroupName=SEED_TAG, Description="bluegreen seeded services",
                                   VpcId=vpc_id)["GroupId"]
    return Network(vpc_id, tuple(sorted(subnet_ids)), sg)


def make_repository(aws: Aws, name: str, *, immutable: bool, scan_on_push: bool) -> str:
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


def make_role(aws: Aws, name: str, service: str) -> str:
    iam = aws.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    try:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                               Tags=tag_list({"bluegreen:service": service}))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        return iam.get_role(RoleName=name)["Role"]["Arn"]


def make_secret(aws: Aws, reference: str, service: str) -> str:
    """Make the SSM parameter / Secrets Manager secret a reference points at (placeholder value)."""
    parts = reference.split(":")
    if parts[2] == "ssm":
        rest = parts[5].split("/", 1)[1]  # parameter/NAME
        name = "/" + rest if "/" in rest else rest
        ssm = aws.client("ssm")
        try:
            ssm.put_parameter(Name=name, Value="seeded-placeholder", Type="SecureString",
                              Tags=tag_list({"bluegreen:service": service}))
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
        return sm.create_secret(Name=name, SecretString="seeded-placeholder", Tags=tag_list(tags))["ARN"]
    except sm.exceptions.ResourceExistsException:
        return sm.describe_secret(SecretId=name)["ARN"]


@contextmanager
def ecs_running(count: int) -> Iterator[None]:
    """moto reads MOTO_ECS_SERVICE_RUNNING when a service is created (in-process server only)."""
    with env_lock:
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


def make_alb(aws: Aws, name: str, net: Network, result: SeedResult) -> str:
    if name in result.load_balancers:
        return result.load_balancers[name]
    elbv2 = aws.client("elbv2")
    found = elbv2.describe_load_balancers()["LoadBalancers"]
    existing = next((lb for lb in found if lb["LoadBalancerName"] == name), None)
    if existing is None:
        existing = elbv2.create_load_balancer(
            Name=name, Subnets=list(net.subnet_ids), SecurityGroups=[net.security_group_id],
            Scheme="internet-facing", Type="application", IpAddressType="ipv4",
            Tags=tag_list({"bluegreen:service": result.service}))["LoadBalancers"][0]
    result.load_balancers[name] = existing["LoadBalancerArn"]
    return existing["LoadBalancerArn"]


def make_target_group(aws: Aws, name: str, net: Network, port: int, target_type: str, result: SeedResult,
                  *, deregistration_delay: int | None = 30) -> str:
    if name in result.target_groups:
        return result.target_groups[name]
    elbv2 = aws.client("elbv2")
    arn = elbv2.create_target_group(
        Name=name, Protocol="HTTP", Port=port, VpcId=net.vpc_id, TargetType=target_type,
        HealthCheckProtocol="HTTP", HealthCheckPath="/", HealthCheckIntervalSeconds=10,
        HealthCheckTimeoutSeconds=5, HealthyThresholdCount=3, UnhealthyThresholdCount=2,
        Matcher={"HttpCode": "200"}, Tags=tag_list({"bluegreen:service": result.service}),
    )["TargetGroups"][0]["TargetGroupArn"]
    if deregistration_delay is not None:
        elbv2.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": str(deregistration_delay)}])
    result.target_groups[name] = arn
    return arn


def forward_actions(weights: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": arn, "Weight": w} for arn, w in weights],
        "TargetGroupStickinessConfig": {"Enabled": False}}}]


def forward_listener(aws: Aws, lb_arn: str, lb_name: str, port: int, weights: list[tuple[str, int]],
                      priority: int | None, service: str, result: SeedResult) -> str:
    """The listener on `port` forwarding with `weights`, or a rule at `priority` doing so."""
    elbv2 = aws.client("elbv2")
    key = f"{lb_name}:{port}"
    listener_arn = result.listeners.get(key)
    if listener_arn is None:
        existing = elbv2.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
        listener_arn = next((l["ListenerArn"] for l in existing if l["Port"] == port), None)
    if listener_arn is None:
        default = forward_actions(weights) if priority is None else [{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "no route"}}]
        listener_arn = elbv2.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=port,
                                             DefaultActions=default)["Listeners"][0]["ListenerArn"]
    elif priority is None:
        elbv2.modify_listener(ListenerArn=listener_arn, DefaultActions=forward_actions(weights))
    result.listeners[key] = listener_arn
    if priority is not None:
        rule = elbv2.create_rule(
            ListenerArn=listener_arn, Priority=priority, Actions=forward_actions(weights),
            Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": [f"{service}.example.com"]}}],
        )["Rules"][0]
        result.rules[f"{key}:{priority}"] = rule["RuleArn"]
    return listener_arn


def make_classic_elb(aws: Aws, name: str, net: Network, port: int, service: str, result: SeedResult) -> None:
    aws.client("elb").create_load_balancer(
        LoadBalancerName=name, Subnets=list(net.subnet_ids), SecurityGroups=[net.security_group_id],
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": port}],
        Tags=tag_list({"bluegreen:service": service}))
    aws.client("elb").configure_health_check(LoadBalancerName=name, HealthCheck={
        "Target": f"HTTP:{port}/", "Interval": 10, "Timeout": 5, "UnhealthyThreshold": 2, "HealthyThreshold": 3})
    result.classic_elb = name


# --- DNS and alarms -----------------------------------------------------------------------------


def seed_dns(aws: Aws, spec: Spec, result: SeedResult, live_color: str, extras: Extras | None = None) -> None:
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


def make_alarms(aws: Aws, names: list[str], service: str) -> None:
    cloudwatch = aws.client("cloudwatch")
    for name in names:
        cloudwatch.put_metric_alarm(
            AlarmName=name, AlarmDescription=f"{service} health gate", Namespace="AWS/ApplicationELB",
            MetricName="HTTPCode_Target_5XX_Count", Statistic="Sum", Period=60, EvaluationPeriods=3,
            DatapointsToAlarm=2, Threshold=5, ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching", Tags=tag_list({"bluegreen:service": service}))
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="seeded healthy")
