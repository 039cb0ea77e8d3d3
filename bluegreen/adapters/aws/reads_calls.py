"""The read-only calls of discovery, one method per call and batch, each storing its answer in a `RawState`.

`bluegreen.adapters.aws.reads` decides what to read and in which round; these only ask and store.
An error that means "not there" is turned into an absent entry (or a `gone` reason) here; every
other error propagates to the round, which records it against the resources of the batch.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from bluegreen.adapters.aws.errors import aws_exceptions, is_not_found
from bluegreen.adapters.aws.session import Aws
from bluegreen.discovery.names import norm_dns, role_name, ssm_candidates
from bluegreen.discovery.raw import RawState, image_key, service_key

ECS_DESIRED_COUNT = "ecs:service:DesiredCount"
HOST_COUNT_WINDOW = 300  # ELB publishes every minute, a few minutes late at worst
ELB_NAMESPACES = {"app": "AWS/ApplicationELB", "net": "AWS/NetworkELB"}


def elb_dimension(arn: str) -> str:
    """CloudWatch's dimension value of an ELB resource: `targetgroup/web/0123..` of a target group ARN,
    `app/alb/0123..` of a load balancer ARN ("Metric dimensions" of the ALB CloudWatch metrics page)."""
    resource = arn.split(":", 5)[5]
    return resource.split("/", 1)[1] if resource.startswith("loadbalancer/") else resource


HostCountIds = dict[str, list[tuple[str, str]]]  # target group ARN -> (healthy id, unhealthy id) per load balancer


def host_count_queries(groups: list[tuple[str, list[str]]]) -> tuple[list[dict[str, Any]], HostCountIds]:
    """GetMetricData queries of both host counts for every (target group, load balancer) pair, and the
    (healthy id, unhealthy id) pairs of each target group."""
    queries: list[dict[str, Any]] = []
    keys: HostCountIds = {}
    for arn, lb_arns in groups:
        for lb_arn in lb_arns:
            n = len(queries) // 2
            namespace = ELB_NAMESPACES.get(elb_dimension(lb_arn).split("/", 1)[0], "AWS/ApplicationELB")
            dimensions = [{"Name": "TargetGroup", "Value": elb_dimension(arn)},
                          {"Name": "LoadBalancer", "Value": elb_dimension(lb_arn)}]
            for key, name, stat in ((f"h{n}", "HealthyHostCount", "Minimum"),
                                    (f"u{n}", "UnHealthyHostCount", "Maximum")):
                queries.append({"Id": key, "ReturnData": True, "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions},
                    "Period": 60, "Stat": stat}})
            keys.setdefault(arn, []).append((f"h{n}", f"u{n}"))
    return queries, keys


class Calls:
    def __init__(self, aws: Aws, raw: RawState, lock: threading.Lock) -> None:
        self.aws, self.raw, self._lock = aws, raw, lock

    def client(self, name: str) -> Any:
        return self.aws.client(name)

    def mark_gone(self, kind: str, key: str, why: str) -> None:
        with self._lock:
            self.raw.gone.setdefault(kind, {})[key] = why

    # ECS

    def services(self, cluster: str, names: list[str]) -> None:
        try:
            response = self.client("ecs").describe_services(cluster=cluster, services=names)
        except aws_exceptions() as exc:
            # a missing service is listed in `failures`; an error that says "not found" is the cluster
            if not is_not_found(exc):
                raise
            for name in names:
                self.mark_gone("ecs service", service_key(cluster, name), f"ECS cluster {cluster} not found")
            return
        for svc in response.get("services", []):
            key = service_key(cluster, svc["serviceName"])
            if svc.get("status") == "INACTIVE":
                self.mark_gone("ecs service", key,
                               f"ecs service {svc['serviceName']} is INACTIVE (deleted) in cluster {cluster}")
                continue
            self.raw.services[key] = svc
            self.aws.saw_service(cluster, svc)

    def scalable_targets(self, resource_ids: list[str]) -> None:
        """The services' Application Auto Scaling targets (a service without one is absent)."""
        paginator = self.client("application-autoscaling").get_paginator("describe_scalable_targets")
        for page in paginator.paginate(ServiceNamespace="ecs", ResourceIds=resource_ids,
                                       ScalableDimension=ECS_DESIRED_COUNT):
            for target in page["ScalableTargets"]:
                self.raw.scalable_targets[target["ResourceId"]] = target

    def task_definition(self, arn: str) -> None:
        self.raw.task_definitions[arn] = self.aws.task_definitions.describe(arn, self._describe_task_definition)

    def _describe_task_definition(self, arn: str) -> dict[str, Any]:
        response = self.client("ecs").describe_task_definition(taskDefinition=arn, include=["TAGS"])
        return {"taskDefinition": response["taskDefinition"], "tags": response.get("tags", [])}

    # load balancers

    def load_balancers(self, names: list[str]) -> None:
        for lb in self.client("elbv2").describe_load_balancers(Names=names)["LoadBalancers"]:
            self.raw.load_balancers[lb["LoadBalancerName"]] = lb

    def target_groups_by_name(self, names: list[str]) -> None:
        for tg in self.client("elbv2").describe_target_groups(Names=names)["TargetGroups"]:
            self.raw.target_groups[tg["TargetGroupArn"]] = tg

    def target_groups_by_arn(self, arns: list[str]) -> None:
        for tg in self.client("elbv2").describe_target_groups(TargetGroupArns=arns)["TargetGroups"]:
            self.raw.target_groups[tg["TargetGroupArn"]] = tg

    def tg_attributes(self, arn: str) -> None:
        attributes = self.client("elbv2").describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
        self.raw.tg_attributes[arn] = {a["Key"]: a["Value"] for a in attributes}

    def tg_health(self, arn: str) -> None:
        self.raw.tg_health[arn] = self.client("elbv2").describe_target_health(
            TargetGroupArn=arn)["TargetHealthDescriptions"]

    def tg_host_counts(self, groups: list[tuple[str, list[str]]], now: float) -> None:
        """[healthy, unhealthy] of each (target group ARN, its load balancer ARNs), from the newest minute of
        ELB's HealthyHostCount / UnHealthyHostCount in the `HOST_COUNT_WINDOW` seconds before `now`: the
        fewest healthy and the most unhealthy over its load balancers. A group any of whose series has no datum
        is left out (its targets are then read one by one)."""
        queries, keys = host_count_queries(groups)
        end = datetime.fromtimestamp(now, timezone.utc)
        request: dict[str, Any] = {"MetricDataQueries": queries, "EndTime": end, "ScanBy": "TimestampDescending",
                                   "StartTime": end - timedelta(seconds=HOST_COUNT_WINDOW)}
        newest: dict[str, float] = {}
        while True:
            answer = self.client("cloudwatch").get_metric_data(**request)
            for result in answer.get("MetricDataResults", []):
                if result.get("Values") and result["Id"] not in newest:
                    newest[result["Id"]] = float(result["Values"][0])
            if not answer.get("NextToken"):
                break
            request["NextToken"] = answer["NextToken"]
        for arn, ids in keys.items():
            if all(i in newest for pair in ids for i in pair):
                with self._lock:
                    self.raw.tg_host_counts[arn] = [int(min(newest[h] for h, _ in ids)),
                                                    int(max(newest[u] for _, u in ids))]

    def listeners(self, lb_arn: str) -> None:
        found: list[dict[str, Any]] = []
        for page in self.client("elbv2").get_paginator("describe_listeners").paginate(LoadBalancerArn=lb_arn):
            found.extend(page["Listeners"])
        self.raw.listeners[lb_arn] = found

    def rules(self, listener_arn: str) -> None:
        found: list[dict[str, Any]] = []
        for page in self.client("elbv2").get_paginator("describe_rules").paginate(ListenerArn=listener_arn):
            found.extend(page["Rules"])
        self.raw.rules[listener_arn] = found

    def rules_by_arn(self, arns: list[str]) -> None:
        """Listener rules named by ARN (ECS native blue/green's production and test rules)."""
        for rule in self.client("elbv2").describe_rules(RuleArns=arns)["Rules"]:
            self.raw.rules_by_arn[rule["RuleArn"]] = rule

    def listeners_by_arn(self, arns: list[str]) -> None:
        for listener in self.client("elbv2").describe_listeners(ListenerArns=arns)["Listeners"]:
            self.raw.listeners_by_arn[listener["ListenerArn"]] = listener

    def codedeploy_group(self, cluster: str, service: str) -> None:
        """The CodeDeploy deployment group that deploys a CODE_DEPLOY service (absent: none found)."""
        from bluegreen.adapters.aws.codedeploy import CodeDeployEcs

        info = CodeDeployEcs(self.aws).find_group_info(cluster, service)
        if info is not None:
            self.raw.codedeploy_groups[service_key(cluster, service)] = info

    def classic_elbs(self, names: list[str]) -> None:
        response = self.client("elb").describe_load_balancers(LoadBalancerNames=names)
        for lb in response["LoadBalancerDescriptions"]:
            self.raw.classic_elbs[lb["LoadBalancerName"]] = lb

    def classic_health(self, name: str) -> None:
        self.raw.classic_health[name] = self.client("elb").describe_instance_health(
            LoadBalancerName=name)["InstanceStates"]

    # Auto Scaling and EC2

    def asgs(self, names: list[str]) -> None:
        paginator = self.client("autoscaling").get_paginator("describe_auto_scaling_groups")
        for page in paginator.paginate(AutoScalingGroupNames=names):
            for group in page["AutoScalingGroups"]:
                self.raw.asgs[group["AutoScalingGroupName"]] = group

    def launch_templates(self, names: list[str]) -> None:
        # a name filter, not LaunchTemplateNames: one missing name must not hide the others
        response = self.client("ec2").describe_launch_templates(
            Filters=[{"Name": "launch-template-name", "Values": names}])
        for lt in response["LaunchTemplates"]:
            self.raw.launch_templates[lt["LaunchTemplateName"]] = lt

    def lt_versions(self, lt: dict[str, Any], versions: list[str]) -> None:
        response = self.client("ec2").describe_launch_template_versions(
            LaunchTemplateId=lt["LaunchTemplateId"], Versions=versions)
        found = {str(int(v["VersionNumber"])): v for v in response["LaunchTemplateVersions"]}
        with self._lock:
            self.raw.lt_versions.setdefault(lt["LaunchTemplateId"], {}).update(found)

    # Route53

    def zone(self, zone: str) -> None:
        route53 = self.client("route53")
        if "." not in zone:  # an id
            found = route53.get_hosted_zone(Id=zone)["HostedZone"]
            self.raw.zones[zone] = found["Id"].rsplit("/", 1)[-1]
            return
        wanted = zone.rstrip(".").lower() + "."
        response = route53.list_hosted_zones_by_name(DNSName=wanted, MaxItems="10")
        matches = [z for z in response["HostedZones"] if z["Name"].lower() == wanted]
        if not matches:
            return
        public = [z for z in matches if not z.get("Config", {}).get("PrivateZone")]
        chosen = (public or matches)[0]
        self.raw.zones[zone] = chosen["Id"].rsplit("/", 1)[-1]
        if len(matches) > 1:
            self.raw.zone_notes[zone] = (f"{len(matches)} hosted zones are named {zone}; read "
                                         f"{self.raw.zones[zone]} ({'public' if public else 'private'})")

    def records(self, zone_id: str, names: set[str]) -> None:
        """All record sets of the zone with one of `names`; one listing per zone, paginated."""
        route53 = self.client("route53")
        kwargs: dict[str, Any] = {"HostedZoneId": zone_id}
        single = next(iter(names)) if len(names) == 1 else None
        if single:  # records come sorted by name: start at it and stop after it
            kwargs["StartRecordName"] = single
        found: list[dict[str, Any]] = []
        while True:
            page = route53.list_resource_record_sets(**kwargs)
            past = False
            for record in page["ResourceRecordSets"]:
                if norm_dns(record["Name"]) in names:
                    found.append(record)
                elif single:  # listing started at `single`: any other name comes after it
                    past = True
            if past or not page.get("IsTruncated"):
                break
            kwargs["StartRecordName"] = page["NextRecordName"]
            kwargs["StartRecordType"] = page["NextRecordType"]
            if page.get("NextRecordIdentifier"):
                kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]
            else:
                kwargs.pop("StartRecordIdentifier", None)
        # a page boundary may repeat a record: keep the first of each (name, type, identifier)
        unique: dict[tuple[str, str, str], dict[str, Any]] = {}
        for record in found:
            unique.setdefault((record["Name"], record["Type"], record.get("SetIdentifier", "")), record)
        self.raw.records[zone_id] = list(unique.values())

    # gates, image and references

    def alarms(self, names: list[str]) -> None:
        paginator = self.client("cloudwatch").get_paginator("describe_alarms")
        for page in paginator.paginate(AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
            states = {a["AlarmName"]: a["StateValue"] for a in page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])}
            self.raw.alarms.update(states)
            self.aws.saw_alarms(states)

    def repositories(self, names: list[str]) -> None:
        for repo in self.client("ecr").describe_repositories(repositoryNames=names)["repositories"]:
            self.raw.repositories[repo["repositoryName"]] = repo

    def images(self, repo: str, keys: list[str]) -> None:
        ids = []
        for key in keys:
            _, kind, value = key.split(":", 2)  # repo:imageTag:v1 / repo:imageDigest:sha256:...
            ids.append({kind: value})
        response = self.client("ecr").describe_images(repositoryName=repo, imageIds=ids)
        for detail in response["imageDetails"]:
            self._saw_repository(repo, detail)
            self.raw.images[image_key(repo, "imageDigest", detail["imageDigest"])] = detail
            for tag in detail.get("imageTags", []):
                self.raw.images[image_key(repo, "imageTag", tag)] = detail

    def _saw_repository(self, repo: str, detail: dict[str, Any]) -> None:
        """The repository as an image of it names it: its URI is the registry's host and the name (its tag
        mutability is unknown until DescribeRepositories, which only a build needs)."""
        with self._lock:
            if repo in self.raw.repositories:
                return
            domain = "amazonaws.com.cn" if self.aws.region.startswith("cn-") else "amazonaws.com"
            self.raw.repositories[repo] = {
                "repositoryName": repo, "registryId": detail["registryId"],
                "repositoryUri": f"{detail['registryId']}.dkr.ecr.{self.aws.region}.{domain}/{repo}"}

    def role(self, role: str) -> None:
        try:
            self.client("iam").get_role(RoleName=role_name(role))
        except aws_exceptions() as exc:
            if not is_not_found(exc):
                raise
            self.raw.roles[role] = False
        else:
            self.raw.roles[role] = True

    def parameters(self, names: list[str]) -> None:
        """Existence only (DescribeParameters never returns a value)."""
        candidates = sorted({c for name in names for c in ssm_candidates(name)})
        found: set[str] = set()
        paginator = self.client("ssm").get_paginator("describe_parameters")
        for page in paginator.paginate(ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": candidates}]):
            found.update(p["Name"] for p in page["Parameters"])
        for name in names:
            self.raw.secrets[name] = any(c in found for c in ssm_candidates(name))

    def image_parameters(self, names: list[str]) -> None:
        response = self.client("ssm").get_parameters(Names=names, WithDecryption=False)
        for parameter in response["Parameters"]:
            if parameter.get("Type") == "SecureString":
                self.raw.image_parameter_notes[parameter["Name"]] = (
                    f"SSM parameter {parameter['Name']} is a SecureString; an image parameter should be a String "
                    "(its value was not read)")
                continue
            self.raw.image_parameters[parameter["Name"]] = parameter["Value"]

    def secret(self, arn: str) -> None:
        """Existence only (DescribeSecret never returns the value)."""
        try:
            described = self.client("secretsmanager").describe_secret(SecretId=arn)
        except aws_exceptions() as exc:
            if not is_not_found(exc):
                raise
            self.raw.secrets[arn] = False
            return
        if described.get("DeletedDate"):
            self.mark_gone("secret", arn, f"secret {described.get('Name', arn)} is scheduled for deletion")
            self.raw.secrets[arn] = False
        else:
            self.raw.secrets[arn] = True
