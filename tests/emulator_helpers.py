"""A small ECS-behind-an-ALB world built with boto3, for the realistic emulator's specifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PORT = 8080


@dataclass
class Web:
    """One ALB listener forwarding to a target group, an ECS cluster and what was made in it."""

    aws: Any
    vpc: str
    subnets: list[str]
    security_group: str
    load_balancer: str
    target_group: str
    listener: str
    cluster: str = "c"
    revisions: dict[str, str] = field(default_factory=dict)  # image -> task definition ARN

    @property
    def ecs(self) -> Any:
        return self.aws.client("ecs")

    @property
    def elbv2(self) -> Any:
        return self.aws.client("elbv2")

    def revision(self, image: str) -> str:
        if image not in self.revisions:
            self.revisions[image] = self.ecs.register_task_definition(
                family="web", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
                containerDefinitions=[{"name": "web", "image": image, "essential": True,
                                       "portMappings": [{"containerPort": PORT}]}],
            )["taskDefinition"]["taskDefinitionArn"]
        return self.revisions[image]

    def service(self, name: str = "web", *, image: str = "repo:v1", desired: int = 2, breaker: bool = True,
                rollback: bool = True, grace: int = 20, controller: str = "ECS") -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if controller != "EXTERNAL":
            kwargs["taskDefinition"] = self.revision(image)
        return self.ecs.create_service(
            cluster=self.cluster, serviceName=name, desiredCount=desired, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": self.subnets,
                                                          "securityGroups": [self.security_group]}},
            loadBalancers=[{"targetGroupArn": self.target_group, "containerName": "web", "containerPort": PORT}],
            healthCheckGracePeriodSeconds=grace, deploymentController={"type": controller},
            deploymentConfiguration={"deploymentCircuitBreaker": {"enable": breaker, "rollback": rollback},
                                     "maximumPercent": 200, "minimumHealthyPercent": 100},
            **kwargs)["service"]

    def describe(self, name: str = "web") -> dict[str, Any]:
        return self.ecs.describe_services(cluster=self.cluster, services=[name])["services"][0]

    def targets(self, target_group: str | None = None) -> dict[str, str]:
        found = self.elbv2.describe_target_health(TargetGroupArn=target_group or self.target_group)
        return {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in found["TargetHealthDescriptions"]}

    def tasks(self, name: str = "web", status: str = "RUNNING") -> list[dict[str, Any]]:
        arns = self.ecs.list_tasks(cluster=self.cluster, serviceName=name, desiredStatus=status)["taskArns"]
        return self.ecs.describe_tasks(cluster=self.cluster, tasks=arns)["tasks"] if arns else []

    def events(self, name: str = "web") -> list[str]:
        return [e["message"] for e in reversed(self.describe(name)["events"])]  # oldest first


def network(aws: Any, cidr: str = "10.0.0.0/16") -> tuple[str, list[str], str]:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    prefix = cidr.rsplit(".", 2)[0]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{prefix}.{i}.0/24",
                                 AvailabilityZone=f"{aws.region}{zone}")["Subnet"]["SubnetId"]
               for i, zone in enumerate("ab")]
    group = ec2.create_security_group(GroupName=f"web-{vpc}", Description="web", VpcId=vpc)["GroupId"]
    return vpc, subnets, group


def target_group(aws: Any, name: str, vpc: str, *, interval: int = 10, healthy: int = 3, unhealthy: int = 2,
                 delay: int = 30, target_type: str = "ip") -> str:
    elbv2 = aws.client("elbv2")
    arn = elbv2.create_target_group(
        Name=name, Protocol="HTTP", Port=PORT, VpcId=vpc, TargetType=target_type, HealthCheckIntervalSeconds=interval,
        HealthyThresholdCount=healthy, UnhealthyThresholdCount=unhealthy)["TargetGroups"][0]["TargetGroupArn"]
    elbv2.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": str(delay)}])
    return arn


def web(aws: Any, *, delay: int = 30, interval: int = 10, healthy: int = 3, unhealthy: int = 2) -> Web:
    vpc, subnets, group = network(aws)
    elbv2 = aws.client("elbv2")
    lb = elbv2.create_load_balancer(Name="web-alb", Subnets=subnets, SecurityGroups=[group])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = target_group(aws, "web-tg", vpc, interval=interval, healthy=healthy, unhealthy=unhealthy, delay=delay)
    listener = elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
    aws.client("ecs").create_cluster(clusterName="c")
    return Web(aws, vpc, subnets, group, lb, tg, listener)


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    """The `Error` of the ClientError a call raises (fails the test if it succeeds)."""
    from botocore.exceptions import ClientError

    try:
        call(**kwargs)
    except ClientError as error:
        return error.response["Error"] | {"HTTPStatusCode": error.response["ResponseMetadata"]["HTTPStatusCode"]}
    raise AssertionError(f"{call.__name__} succeeded; AWS rejects it")


@dataclass
class NativeWeb:
    """A service under ECS's built-in blue/green: primary and alternate target groups, a production
    rule on :80 and a test rule on :81, both forwarding to the primary."""

    web: Web
    alternate: str
    production_rule: str
    test_rule: str

    def weights(self, rule: str | None = None) -> dict[str, int]:
        found = self.web.elbv2.describe_rules(RuleArns=[rule or self.production_rule])["Rules"][0]
        groups = found["Actions"][0].get("ForwardConfig", {}).get("TargetGroups", [])
        return {g["TargetGroupArn"]: g["Weight"] for g in groups}

    def service(self, *, strategy: str = "BLUE_GREEN", bake_minutes: int = 5, hooks: list[dict[str, Any]] | None = None,
                alarms: list[str] | None = None, image: str = "repo:v1", desired: int = 2,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
        w = self.web
        config: dict[str, Any] = {"strategy": strategy, "bakeTimeInMinutes": bake_minutes,
                                  "maximumPercent": 200, "minimumHealthyPercent": 100,
                                  "lifecycleHooks": hooks or [], **(extra or {})}
        if alarms:
            config["alarms"] = {"alarmNames": alarms, "enable": True, "rollback": True}
        return w.ecs.create_service(
            cluster=w.cluster, serviceName="web", desiredCount=desired, launchType="FARGATE",
            taskDefinition=w.revision(image),
            networkConfiguration={"awsvpcConfiguration": {"subnets": w.subnets, "securityGroups": [w.security_group]}},
            loadBalancers=[{"targetGroupArn": w.target_group, "containerName": "web", "containerPort": PORT,
                            "advancedConfiguration": {"alternateTargetGroupArn": self.alternate,
                                                      "productionListenerRule": self.production_rule,
                                                      "testListenerRule": self.test_rule,
                                                      "roleArn": "arn:aws:iam::123456789012:role/ecs-infrastructure"}}],
            healthCheckGracePeriodSeconds=20, deploymentConfiguration=config)["service"]


def native_web(aws: Any) -> NativeWeb:
    w = web(aws)
    alternate = target_group(aws, "web-tg-alt", w.vpc)
    forward = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": w.target_group, "Weight": 100}, {"TargetGroupArn": alternate, "Weight": 0}]}}]
    test_listener = w.elbv2.create_listener(LoadBalancerArn=w.load_balancer, Protocol="HTTP", Port=81, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]["ListenerArn"]
    rules = [w.elbv2.create_rule(ListenerArn=listener, Priority=1, Actions=forward, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}])["Rules"][0]["RuleArn"]
        for listener in (w.listener, test_listener)]
    return NativeWeb(w, alternate, rules[0], rules[1])


# --- following a service deployment of ECS's built-in blue/green ---

PAUSE_AT_TEST = [{"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                  "timeoutConfiguration": {"timeoutInMinutes": 30, "action": "ROLLBACK"}}]


def deploy(n, image: str = "repo:v2") -> dict:
    ecs = n.web.ecs
    ecs.update_service(cluster="c", service="web", taskDefinition=n.web.revision(image))
    arn = ecs.list_service_deployments(cluster="c", service="web")["serviceDeployments"][0]["serviceDeploymentArn"]
    return {"arn": arn}


def described(n, arn: str) -> dict:
    return n.web.ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]


def run_until(realistic_aws, n, arn: str, stage: str, limit: int = 200, step: float = 30) -> list[str]:
    seen: list[str] = []
    for _ in range(limit):
        d = described(n, arn)
        if not seen or seen[-1] != d["lifecycleStage"]:
            seen.append(d["lifecycleStage"])
        if d["lifecycleStage"] == stage or d["status"] not in ("IN_PROGRESS", "PENDING"):
            return seen
        realistic_aws.advance(step)
    return seen


# --- CloudWatch: an ALB target group's own metrics, published as the ALB would -------------------


def alb_dimensions(load_balancer_arn: str, target_group_arn: str) -> list[dict[str, str]]:
    return [{"Name": "TargetGroup", "Value": target_group_arn.rsplit(":", 1)[1]},
            {"Name": "LoadBalancer", "Value": load_balancer_arn.split("loadbalancer/", 1)[1]}]


def publish_alb_minutes(aws: Any, load_balancer_arn: str, target_group_arn: str, *, start: float, minutes: int,
                        requests: int = 100, errors: int = 0, latencies: list[float] | None = None) -> None:
    """`minutes` one-minute datapoints from `start` (epoch seconds): RequestCount, HTTPCode_Target_5XX_Count
    (only when there are errors, as the ALB publishes it) and TargetResponseTime samples."""
    from datetime import datetime, timezone

    dims = alb_dimensions(load_balancer_arn, target_group_arn)
    data: list[dict[str, Any]] = []
    for minute in range(minutes):
        at = datetime.fromtimestamp(start + 60 * minute, timezone.utc)
        data.append({"MetricName": "RequestCount", "Dimensions": dims, "Timestamp": at, "Value": requests,
                     "Unit": "Count"})
        if errors:
            data.append({"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dims, "Timestamp": at,
                         "Value": errors, "Unit": "Count"})
        if latencies:
            data.append({"MetricName": "TargetResponseTime", "Dimensions": dims, "Timestamp": at,
                         "Values": latencies, "Unit": "Seconds"})
    cloudwatch = aws.client("cloudwatch")
    # Small requests: botocore gzips a PutMetricData body over 10 KB, and moto's server cannot read that
    for i in range(0, len(data), 30):
        cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data[i:i + 30])
