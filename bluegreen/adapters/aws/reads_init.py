"""The read-only calls `bluegreen init` makes to learn what already runs, one method per question.

Each returns AWS's answer as it came (plain dicts), or None / an empty list when the thing is not
there; `bluegreen.app.init` decides what to ask next. Any other failure (AWS unreachable, denied,
throttled past botocore's retries) is raised as one of our errors naming the operation (exit 6:
nothing was changed). Every call is a Describe/List/Get: init changes nothing.

The calls (for the README and an IAM policy): ecs ListClusters, ListServices, DescribeServices,
DescribeTaskDefinition; elasticloadbalancing DescribeLoadBalancers, DescribeTargetGroups,
DescribeListeners, DescribeRules; autoscaling DescribeAutoScalingGroups; ec2
DescribeLaunchTemplateVersions; ssm GetParameters (an image reference, for `ssm-parameter` image
delivery; never a SecureString); route53 ListHostedZonesByName, GetHostedZone,
ListResourceRecordSets; cloudwatch DescribeAlarms.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, TypeVar

from bluegreen.adapters.aws.errors import aws_exceptions, is_not_found, our_error
from bluegreen.adapters.aws.session import Aws

T = TypeVar("T")

SERVICES_PER_CALL = 10
ELB_ARNS_PER_CALL = 20


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def method_name(operation: str) -> str:
    """DescribeTargetGroups -> describe_target_groups (boto3's method name)."""
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


class InitReads:
    """What init asks AWS, in one region."""

    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self.region = aws.region

    def _ask(self, operation: str, call: Callable[[], T], missing: T) -> T:
        """`call()`; `missing` when AWS says the thing does not exist; our error for anything else."""
        try:
            return call()
        except aws_exceptions() as exc:
            if is_not_found(exc):
                return missing
            raise our_error(exc, operation) from exc  # type: ignore[misc]  # an AWS error: never None

    def _pages(self, service: str, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
        paginator = self.aws.client(service).get_paginator(method_name(operation))
        return self._ask(operation, lambda: [x for page in paginator.paginate(**kwargs) for x in page.get(key, [])], [])

    # ECS

    def ecs_services(self, cluster: str, names: list[str]) -> list[dict[str, Any]]:
        """The ACTIVE services among `names` (a missing cluster or service is simply absent)."""
        ecs = self.aws.client("ecs")
        found: list[dict[str, Any]] = []
        for batch in _chunks(names, SERVICES_PER_CALL):
            answer = self._ask("DescribeServices", lambda b=batch: ecs.describe_services(cluster=cluster, services=b),
                               {"services": []})
            found += [s for s in answer.get("services", []) if s.get("status") != "INACTIVE"]
        return found

    def cluster_services(self, cluster: str) -> list[dict[str, Any]]:
        """Every ACTIVE service of a cluster (to find the other color's service)."""
        arns = self._pages("ecs", "ListServices", "serviceArns", cluster=cluster)
        return self.ecs_services(cluster, [a.rsplit("/", 1)[-1] for a in arns])

    def clusters(self) -> list[str]:
        return [arn.rsplit("/", 1)[-1] for arn in self._pages("ecs", "ListClusters", "clusterArns")]

    def task_definition(self, arn: str) -> dict[str, Any] | None:
        ecs = self.aws.client("ecs")
        answer = self._ask("DescribeTaskDefinition", lambda: ecs.describe_task_definition(taskDefinition=arn), {})
        return answer.get("taskDefinition")

    # Elastic Load Balancing

    def _elb_by_arn(self, operation: str, param: str, key: str, arns: list[str]) -> list[dict[str, Any]]:
        """Describe ELB resources by ARN, 20 a call; AWS refuses a whole batch for one missing ARN, so a
        refused batch is asked again one by one (the missing one is then simply absent)."""
        call = getattr(self.aws.client("elbv2"), method_name(operation))
        found: list[dict[str, Any]] = []
        for batch in _chunks(sorted(set(arns)), ELB_ARNS_PER_CALL):
            answer = self._ask(operation, lambda b=batch: call(**{param: b})[key], None)
            if answer is None:
                for arn in batch if len(batch) > 1 else []:
                    found += self._ask(operation, lambda a=arn: call(**{param: [a]})[key], [])
            else:
                found += answer
        return found

    def target_groups(self, arns: list[str]) -> list[dict[str, Any]]:
        return self._elb_by_arn("DescribeTargetGroups", "TargetGroupArns", "TargetGroups", arns)

    def load_balancers(self, arns: list[str] | None = None) -> list[dict[str, Any]]:
        """The load balancers with these ARNs, or every one in the region (None)."""
        if arns is None:
            return self._pages("elbv2", "DescribeLoadBalancers", "LoadBalancers")
        return self._elb_by_arn("DescribeLoadBalancers", "LoadBalancerArns", "LoadBalancers", arns)

    def listeners(self, load_balancer_arn: str) -> list[dict[str, Any]]:
        return self._pages("elbv2", "DescribeListeners", "Listeners", LoadBalancerArn=load_balancer_arn)

    def rules(self, listener_arn: str) -> list[dict[str, Any]]:
        elbv2 = self.aws.client("elbv2")
        return self._ask("DescribeRules", lambda: elbv2.describe_rules(ListenerArn=listener_arn)["Rules"], [])

    # Auto Scaling and EC2

    def auto_scaling_groups(self, names: list[str] | None = None) -> list[dict[str, Any]]:
        """The groups named, or every group in the region (None)."""
        if names is None:
            return self._pages("autoscaling", "DescribeAutoScalingGroups", "AutoScalingGroups")
        return self._pages("autoscaling", "DescribeAutoScalingGroups", "AutoScalingGroups",
                           AutoScalingGroupNames=names)

    def launch_template_version(self, template: dict[str, Any]) -> dict[str, Any] | None:
        """The version a group uses (`template`: the group's LaunchTemplate specification)."""
        ec2 = self.aws.client("ec2")
        ident = ({"LaunchTemplateId": template["LaunchTemplateId"]} if template.get("LaunchTemplateId")
                 else {"LaunchTemplateName": template["LaunchTemplateName"]})
        version = str(template.get("Version") or "$Default")
        answer = self._ask("DescribeLaunchTemplateVersions", lambda: ec2.describe_launch_template_versions(
            Versions=[version], **ident), {"LaunchTemplateVersions": []})
        versions = answer.get("LaunchTemplateVersions", [])
        return versions[0] if versions else None

    def parameter_value(self, name: str) -> str | None:
        """A plain String parameter's value (an image reference); a SecureString is never asked to decrypt."""
        ssm = self.aws.client("ssm")
        answer = self._ask("GetParameters", lambda: ssm.get_parameters(Names=[name], WithDecryption=False),
                           {"Parameters": []})
        found = [p for p in answer.get("Parameters", []) if p.get("Type") == "String"]
        return found[0]["Value"] if found else None

    # Route53

    def hosted_zone(self, zone: str) -> dict[str, Any] | None:
        """The zone named (example.com) or with this id (Z123...)."""
        route53 = self.aws.client("route53")
        if "." not in zone.rstrip("."):
            answer = self._ask("GetHostedZone", lambda: route53.get_hosted_zone(Id=zone), {})
            return answer.get("HostedZone")
        wanted = zone.rstrip(".").lower() + "."
        answer = self._ask("ListHostedZonesByName", lambda: route53.list_hosted_zones_by_name(DNSName=wanted),
                           {"HostedZones": []})
        return next((z for z in answer.get("HostedZones", []) if z["Name"].lower() == wanted), None)

    def record_sets(self, zone_id: str, name: str) -> list[dict[str, Any]]:
        """The record sets named `name` (every type and set identifier): one page from that name on,
        since Route53 lists a name's sets together."""
        route53 = self.aws.client("route53")
        wanted = name.rstrip(".").lower() + "."
        answer = self._ask("ListResourceRecordSets", lambda: route53.list_resource_record_sets(
            HostedZoneId=zone_id, StartRecordName=wanted, MaxItems="300"), {"ResourceRecordSets": []})
        return [r for r in answer.get("ResourceRecordSets", []) if r["Name"].replace("\\052", "*").lower() == wanted]

    # CloudWatch

    def alarms(self) -> list[dict[str, Any]]:
        """Every metric alarm in the region (DescribeAlarms cannot filter by dimension)."""
        return self._pages("cloudwatch", "DescribeAlarms", "MetricAlarms", AlarmTypes=["MetricAlarm"])
