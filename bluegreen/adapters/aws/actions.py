"""The mutating AWS calls the executor makes, each idempotent: read the current value, do nothing
if it already matches, otherwise change it and say `old -> new`. That makes resume, rollback and a
repeated inverse safe to run any number of times.
"""

from __future__ import annotations

import base64
import copy
import time
from typing import Any, Callable, Mapping

from bluegreen.adapters.aws.errors import aws_exceptions, is_not_found
from bluegreen.adapters.aws.rewrites import (
    forward_weights, group_launch_template, kept_around_forward, kept_in_record_sets, reweighted_actions,
    with_launch_template, writable_record_set,
)
from bluegreen.adapters.aws.session import Aws
from bluegreen.domain.weights import same_split

# describe_task_definition returns these; register_task_definition refuses them.
_READ_ONLY_TD_FIELDS = {
    "taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
    "registeredAt", "registeredBy", "deregisteredAt",
}


def _describe_task_definition(ecs: Any, arn: str) -> dict[str, Any]:
    response = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
    return {"taskDefinition": response["taskDefinition"], "tags": response.get("tags", [])}


def _short(arn: str | None) -> str:
    return (arn or "-").rsplit("/", 1)[-1]


class AwsActions:
    def __init__(self, aws: Aws, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.aws = aws
        self.clock = clock  # the run context's: waits (Route53's INSYNC) follow the injected clock
        self.sleep = sleep

    # --- the engines of services AWS deploys itself (execution/controlled.py steers them) -----------

    @property
    def native(self) -> Any:
        from bluegreen.adapters.aws.native import NativeDeployments

        return NativeDeployments(self.aws)

    @property
    def codedeploy(self) -> Any:
        from bluegreen.adapters.aws.codedeploy import CodeDeployEcs

        return CodeDeployEcs(self.aws)

    # --- ECS ---------------------------------------------------------------------------------

    def register_task_definition(self, base_arn: str, container: str, image: str, environment: Mapping[str, str],
                                 secrets: Mapping[str, str], cpu: int | None, memory: int | None) -> tuple[str, str]:
        """A new revision copied field for field from `base_arn`; only the spec's changes differ."""
        ecs = self.aws.client("ecs")
        described = self.aws.task_definitions.describe(base_arn, lambda arn: _describe_task_definition(ecs, arn))
        body = new_revision_body(described["taskDefinition"], container, image, environment, secrets, cpu, memory)
        tags = described.get("tags") or []
        if tags:
            body["tags"] = tags
        answer = ecs.register_task_definition(**body)
        arn = answer["taskDefinition"]["taskDefinitionArn"]
        # the tags it was registered with, where the answer does not repeat them
        self.aws.task_definitions.remember(arn, {"taskDefinition": answer["taskDefinition"],
                                                 "tags": answer.get("tags", tags)})
        return arn, f"registered {_short(arn)} (copied from {_short(base_arn)}, image {image})"

    def update_service(self, cluster: str, service: str, task_definition: str | None, desired: int) -> str:
        ecs = self.aws.client("ecs")
        # What discovery read a moment ago, under the lock, for the first update; later ones read again.
        current = (self.aws.take_service(cluster, service)
                   or ecs.describe_services(cluster=cluster, services=[service])["services"][0])
        wanted_td = task_definition or current["taskDefinition"]
        if current["taskDefinition"] == wanted_td and current["desiredCount"] == desired:
            return f"{service} already runs {_short(wanted_td)} x{desired}"
        args: dict[str, Any] = {"cluster": cluster, "service": service, "desiredCount": desired}
        if task_definition and task_definition != current["taskDefinition"]:
            args["taskDefinition"] = task_definition

        def done() -> bool:
            now = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
            return now["taskDefinition"] == wanted_td and now["desiredCount"] == desired

        read_back = self._applied(lambda: ecs.update_service(**args), done)
        return (f"{service}: {_short(current['taskDefinition'])} x{current['desiredCount']} -> "
                f"{_short(wanted_td)} x{desired}" + (" (its answer was lost: read back)" if read_back else ""))

    def set_scaling_suspension(self, resource_id: str, dimension: str, *, dynamic_in: bool, dynamic_out: bool,
                               scheduled: bool) -> str:
        """What Application Auto Scaling may do to an ECS service: all three flags are always sent, so
        the state afterwards is exactly the one asked for."""
        aas = self.aws.client("application-autoscaling")
        found = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id],
                                              ScalableDimension=dimension)["ScalableTargets"]
        if not found:
            return f"{resource_id} has no scalable target any more: nothing to suspend or restore"
        wanted = {"DynamicScalingInSuspended": dynamic_in, "DynamicScalingOutSuspended": dynamic_out,
                  "ScheduledScalingSuspended": scheduled}
        state = found[0].get("SuspendedState") or {}
        current = {key: bool(state.get(key, False)) for key in wanted}
        if current == wanted:
            return f"{resource_id} scaling already {_suspension(wanted)}"
        # Updating an existing target: what is not given (capacity, role) is left as it is.
        aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=dimension,
                                     SuspendedState=wanted)
        return f"{resource_id} scaling: {_suspension(current)} -> {_suspension(wanted)}"

    # --- load balancers ----------------------------------------------------------------------

    def set_weights(self, listener_arn: str, rule_arn: str | None, weights: Mapping[str, int]) -> str:
        """Only the forward action's weights change: the live action list is read and written back whole."""
        elb = self.aws.client("elbv2")
        if rule_arn:
            actions = elb.describe_rules(RuleArns=[rule_arn])["Rules"][0]["Actions"]
        else:
            actions = elb.describe_listeners(ListenerArns=[listener_arn])["Listeners"][0]["DefaultActions"]
        current = forward_weights(actions)
        if same_split(current, current | dict(weights)):
            return "weights already " + _fmt(weights)
        written = reweighted_actions(actions, weights)

        def change() -> None:
            if rule_arn:
                elb.modify_rule(RuleArn=rule_arn, Actions=written)
            else:
                elb.modify_listener(ListenerArn=listener_arn, DefaultActions=written)

        def done() -> bool:
            if rule_arn:
                now = elb.describe_rules(RuleArns=[rule_arn])["Rules"][0]["Actions"]
            else:
                now = elb.describe_listeners(ListenerArns=[listener_arn])["Listeners"][0]["DefaultActions"]
            found = forward_weights(now)
            return same_split(found, found | dict(weights))

        read_back = self._applied(change, done)
        kept = kept_around_forward(actions)
        return (f"weights {_fmt(current)} -> {_fmt(weights)}" + (f" (kept: {', '.join(kept)})" if kept else "")
                + (" (its answer was lost: read back)" if read_back else ""))

    # --- Auto Scaling ----------------------------------------------------------------------------

    def create_launch_template_version(self, template: str, source_version: int, user_data: str | None) -> tuple[str, str]:
        ec2 = self.aws.client("ec2")
        data = {"UserData": base64.b64encode(user_data.encode()).decode()} if user_data else {}
        version = ec2.create_launch_template_version(
            LaunchTemplateName=template, SourceVersion=str(source_version), LaunchTemplateData=data,
            VersionDescription="bluegreen")["LaunchTemplateVersion"]["VersionNumber"]
        return str(version), f"launch template {template} v{version} (from v{source_version})"

    def put_parameter(self, name: str, value: str) -> str:
        ssm = self.aws.client("ssm")
        try:
            current = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except aws_exceptions() as exc:  # ParameterNotFound: the first deploy writes it
            if not is_not_found(exc):
                raise
            current = None
        if current == value:
            return f"{name} already {value}"
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
        return f"{name}: {current} -> {value}"

    def update_group(self, group: str, min_size: int, max_size: int, desired: int,
                     launch_template: str | None, version: str | None) -> str:
        """Capacity, and the launch template version where one is given: in the group's mixed-instances
        policy when it has one (a plain `LaunchTemplate` would replace the policy and its instance mix)."""
        asg = self.aws.client("autoscaling")
        current = self._group(group)
        lt = group_launch_template(current)
        same_lt = version is None or (lt.get("LaunchTemplateName") == launch_template and str(lt.get("Version")) == version)
        if same_lt and (current["MinSize"], current["MaxSize"], current["DesiredCapacity"]) == (min_size, max_size, desired):
            return f"{group} already {min_size}/{desired}/{max_size}"
        args: dict[str, Any] = {"AutoScalingGroupName": group, "MinSize": min_size, "MaxSize": max_size,
                                "DesiredCapacity": desired}
        mixed = current.get("MixedInstancesPolicy")
        if version is not None and launch_template is not None and mixed:
            args["MixedInstancesPolicy"] = with_launch_template(mixed, launch_template, version)
        elif version is not None:
            args["LaunchTemplate"] = {"LaunchTemplateName": launch_template, "Version": version}
        asg.update_auto_scaling_group(**args)
        where = " (in its mixed instances policy)" if "MixedInstancesPolicy" in args else ""
        return (f"{group}: {current['MinSize']}/{current['DesiredCapacity']}/{current['MaxSize']} -> "
                f"{min_size}/{desired}/{max_size}" + (f", launch template v{version}{where}" if version else ""))

    def suspend_processes(self, group: str, processes: list[str], resume: bool) -> str:
        asg = self.aws.client("autoscaling")
        if resume:
            asg.resume_processes(AutoScalingGroupName=group, ScalingProcesses=processes)
        else:
            asg.suspend_processes(AutoScalingGroupName=group, ScalingProcesses=processes)
        return f"{'resumed' if resume else 'suspended'} {', '.join(processes)} on {group}"

    def attach(self, group: str, target_group_arns: list[str], classic_elbs: list[str], detach: bool) -> str:
        asg = self.aws.client("autoscaling")
        current = self._group(group)
        read_back = False
        for field, wanted, attach_call, detach_call, key in (
                ("TargetGroupARNs", target_group_arns, asg.attach_load_balancer_target_groups,
                 asg.detach_load_balancer_target_groups, "TargetGroupARNs"),
                ("LoadBalancerNames", classic_elbs, asg.attach_load_balancers, asg.detach_load_balancers,
                 "LoadBalancerNames")):
            todo = [a for a in wanted if (a in set(current.get(field, []))) == detach]
            if not todo:
                continue
            call = detach_call if detach else attach_call

            def done(field: str = field, todo: list[str] = todo) -> bool:
                now = set(self._group(group).get(field, []))
                return all((a in now) != detach for a in todo)

            read_back |= self._applied(lambda: call(AutoScalingGroupName=group, **{key: todo}), done)
        where = ", ".join([_tg_name(a) for a in target_group_arns] + classic_elbs)
        return (f"{group} {'detached from' if detach else 'attached to'} {where}"
                + (" (its answer was lost: read back)" if read_back else ""))

    @staticmethod
    def _applied(change: Callable[[], Any], done: Callable[[], bool]) -> bool:
        """Make `change`; if it fails, read back with `done` whether it was applied all the same.

        A connection reset after AWS applied a call loses its answer; botocore then retries it blindly
        and the retry fails too (reset again, or the state it meets: AlreadyExists, not attached).
        What AWS holds decides: applied -> True (read back), not applied -> the error stands.
        """
        try:
            change()
            return False
        except aws_exceptions():
            try:
                applied = done()
            except aws_exceptions():
                applied = False
            if applied:
                return True
            raise

    def create_group(self, group: str, copy_of: str, launch_template: str, version: str, subnets: list[str],
                     health_check_type: str, health_check_grace: int, tags: Mapping[str, str],
                     target_group_arns: list[str]) -> str:
        asg = self.aws.client("autoscaling")
        found = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group, copy_of])["AutoScalingGroups"]
        if any(g["AutoScalingGroupName"] == group for g in found):
            return f"{group} already exists"
        # The copy runs the same instance mix as the live group: its mixed-instances policy, if it has one.
        mixed = next((g.get("MixedInstancesPolicy") for g in found if g["AutoScalingGroupName"] == copy_of), None)
        source: dict[str, Any] = ({"MixedInstancesPolicy": with_launch_template(mixed, launch_template, version)}
                                  if mixed else
                                  {"LaunchTemplate": {"LaunchTemplateName": launch_template, "Version": version}})
        read_back = self._applied(lambda: asg.create_auto_scaling_group(
            AutoScalingGroupName=group, MinSize=0, MaxSize=0, DesiredCapacity=0, **source,
            VPCZoneIdentifier=",".join(subnets), HealthCheckType=health_check_type,
            HealthCheckGracePeriod=health_check_grace,
            Tags=[{"Key": k, "Value": v, "PropagateAtLaunch": True} for k, v in tags.items()],
            **({"TargetGroupARNs": target_group_arns} if target_group_arns else {})), lambda: self._exists(group))
        how = " in its mixed instances policy" if mixed else ""
        return (f"created {group} (copy of {copy_of}, launch template {launch_template} v{version}{how})"
                + (" (its answer was lost: read back)" if read_back else ""))

    def delete_group(self, group: str) -> str:
        if not self._exists(group):
            return f"{group} already gone"
        asg = self.aws.client("autoscaling")
        self._applied(lambda: asg.delete_auto_scaling_group(AutoScalingGroupName=group, ForceDelete=True),
                      lambda: not self._exists(group))
        return f"deleted {group}"

    def _exists(self, group: str) -> bool:
        found = self.aws.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[group])
        return bool(found["AutoScalingGroups"])

    def _group(self, group: str) -> dict[str, Any]:
        groups = self.aws.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[group])
        if not groups["AutoScalingGroups"]:
            raise LookupError(f"Auto Scaling group {group} not found")
        return groups["AutoScalingGroups"][0]

    # --- Route53 ------------------------------------------------------------------------------------

    def set_record_weights(self, zone_id: str, record: str, type_: str, weights: Mapping[str, int]) -> str:
        """Only the weights change: each color's live record set is UPSERTed as listed, with its new
        weight (alias target, health check, TTL and values kept)."""
        r53 = self.aws.client("route53")
        live = weighted_record_sets(r53, zone_id, record, type_)
        missing = [set_id for set_id in weights if set_id not in live]
        if missing:
            raise LookupError(f"no weighted {type_} record {record} with set identifier {', '.join(missing)} "
                              f"in zone {zone_id}: it is not recreated from the plan")
        current = {set_id: int(live[set_id].get("Weight", 0)) for set_id in weights}
        if current == dict(weights):
            return f"{record}: weights already {_fmt(weights)}"
        changes = [{"Action": "UPSERT", "ResourceRecordSet": writable_record_set(live[set_id], weights[set_id])}
                   for set_id in weights]
        answered: dict[str, Any] = {}

        def change() -> None:
            answered.update(r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
                "Comment": "bluegreen", "Changes": changes})["ChangeInfo"])

        def done() -> bool:
            now = weighted_record_sets(r53, zone_id, record, type_)
            return all(int(now.get(s, {}).get("Weight", -1)) == w for s, w in weights.items())

        read_back = self._applied(change, done)
        kept = kept_in_record_sets([live[s] for s in weights])
        head = f"{record}: {_fmt(current)} -> {_fmt(weights)}" + (f" (kept: {', '.join(kept)})" if kept else "")
        if read_back:  # no change id to follow: the weights are read back, their propagation is not known
            return head + " (its answer was lost: weights read back, propagation not followed)"
        status = self._wait_insync(answered["Id"], answered["Status"])
        return head + f" (change {answered['Id'].rsplit('/', 1)[-1]} {status})"

    def _wait_insync(self, change_id: str, status: str, deadline: float = 300.0) -> str:
        """Route53 applies a change to all its name servers before it reports INSYNC."""
        start = self.clock()
        while status != "INSYNC" and self.clock() - start < deadline:
            self.sleep(5.0)
            status = self.aws.client("route53").get_change(Id=change_id)["ChangeInfo"]["Status"]
        if status != "INSYNC":
            raise TimeoutError(f"Route53 change {change_id} still {status} after {deadline:.0f}s")
        return status


def weighted_record_sets(r53: Any, zone_id: str, record: str, type_: str) -> dict[str, dict[str, Any]]:
    """Set identifier -> the record set named `record` of `type_`, as listed (sorted by name and type)."""
    wanted = _dns(record)
    found: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"HostedZoneId": zone_id, "StartRecordName": record, "StartRecordType": type_}
    while True:
        page = r53.list_resource_record_sets(**kwargs)
        sets = page["ResourceRecordSets"]
        for listed in sets:
            if _dns(listed["Name"]) == wanted and listed["Type"] == type_ and "SetIdentifier" in listed:
                found.setdefault(listed["SetIdentifier"], listed)
        past = any(_dns(s["Name"]) != wanted or s["Type"] != type_ for s in sets)
        if past or not page.get("IsTruncated"):
            return found
        kwargs.update(StartRecordName=page["NextRecordName"], StartRecordType=page["NextRecordType"])
        if page.get("NextRecordIdentifier"):
            kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]


def new_revision_body(live: Mapping[str, Any], container: str, image: str, environment: Mapping[str, str],
                      secrets: Mapping[str, str], cpu: int | None, memory: int | None) -> dict[str, Any]:
    """Every registration field of the live revision, with only the image and the spec's changes applied."""
    body = {k: copy.deepcopy(v) for k, v in live.items() if k not in _READ_ONLY_TD_FIELDS}
    for c in body.get("containerDefinitions", []):
        if c.get("name") != container:
            continue
        c["image"] = image
        if environment:
            env = {e["name"]: e.get("value", "") for e in c.get("environment", [])} | dict(environment)
            c["environment"] = [{"name": k, "value": v} for k, v in sorted(env.items())]
        if secrets:
            refs = {e["name"]: e["valueFrom"] for e in c.get("secrets", [])} | dict(secrets)
            c["secrets"] = [{"name": k, "valueFrom": v} for k, v in sorted(refs.items())]
    if cpu is not None:
        body["cpu"] = str(cpu)
    if memory is not None:
        body["memory"] = str(memory)
    return body


def _suspension(state: Mapping[str, bool]) -> str:
    held = [name for key, name in (("DynamicScalingInSuspended", "scale-in"), ("DynamicScalingOutSuspended", "scale-out"),
                                   ("ScheduledScalingSuspended", "scheduled")) if state.get(key)]
    return f"{', '.join(held)} suspended" if held else "nothing suspended"


def _fmt(weights: Mapping[str, int]) -> str:
    return ", ".join(f"{_tg_name(k)}={v}" for k, v in weights.items())


def _dns(name: str) -> str:
    """Route53 lists names with a trailing dot and `*` as `\\052`; compare without either."""
    return name.replace("\\052", "*").rstrip(".").lower()


def _tg_name(arn: str) -> str:
    parts = arn.split("/")
    return parts[1] if arn.startswith("arn:") and "targetgroup" in arn and len(parts) > 2 else arn
