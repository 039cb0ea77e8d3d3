"""Change calls whose answer was lost (the connection reset after AWS applied them, or every retry
failed): the actions read the state back instead of failing or applying twice. Through the fault
proxy in front of the emulator; botocore's back-off does not sleep."""

from __future__ import annotations

import time
import types

import pytest

from bluegreen.adapters.aws.actions import AwsActions
from bluegreen.adapters.aws.session import Aws
from bluegreen.local.faults import Fault, Rule

from emulator_helpers import network, target_group, web


@pytest.fixture
def actions(fault_proxy, monkeypatch) -> AwsActions:
    import botocore.endpoint

    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=lambda _s: None, time=time.time))
    return AwsActions(Aws("us-east-1", endpoint_url=fault_proxy.endpoint_url))


@pytest.fixture
def group(aws) -> tuple[str, str]:
    """An Auto Scaling group with no instances and a target group it is not attached to."""
    vpc, subnets, _ = network(aws)
    tg = target_group(aws, "legacy", vpc, target_type="instance")
    aws.client("ec2").create_launch_template(LaunchTemplateName="legacy", LaunchTemplateData={
        "ImageId": "ami-12c6146b", "InstanceType": "t3.micro"})
    aws.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="legacy-green", MinSize=0, MaxSize=0, DesiredCapacity=0,
        LaunchTemplate={"LaunchTemplateName": "legacy", "Version": "$Latest"}, VPCZoneIdentifier=",".join(subnets))
    return "legacy-green", tg


def attached(aws, name: str) -> list[str]:
    found = aws.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return found[0].get("TargetGroupARNs", []) if found else []


def lose(fault_proxy, operation: str, fault: Fault = Fault.RESET_AFTER, limit: int | None = 1) -> None:
    fault_proxy.configure([Rule(fault, operations=frozenset({f"autoscaling:{operation}"}), limit=limit)])


def test_an_attach_whose_answer_was_lost_is_applied_once(actions, fault_proxy, aws, group):
    name, tg = group
    lose(fault_proxy, "AttachLoadBalancerTargetGroups")

    actions.attach(name, [tg], [], detach=False)

    assert fault_proxy.stats.faults("autoscaling:AttachLoadBalancerTargetGroups", Fault.RESET_AFTER) == 1
    assert attached(aws, name) == [tg]


def test_an_attach_applied_but_never_answered_is_read_back_not_failed(actions, fault_proxy, aws, group):
    name, tg = group
    # Applied the first time; every answer lost, so botocore's retries give up with a connection error.
    lose(fault_proxy, "AttachLoadBalancerTargetGroups", limit=None)

    detail = actions.attach(name, [tg], [], detach=False)

    assert attached(aws, name) == [tg]
    assert "attached to legacy" in detail and "read back" in detail


def test_a_detach_applied_but_never_answered_is_read_back_not_failed(actions, fault_proxy, aws, group):
    name, tg = group
    actions.attach(name, [tg], [], detach=False)
    lose(fault_proxy, "DetachLoadBalancerTargetGroups", limit=None)

    actions.attach(name, [tg], [], detach=True)

    assert attached(aws, name) == []


def test_an_attach_that_never_reached_aws_still_fails(actions, fault_proxy, aws, group):
    name, tg = group
    lose(fault_proxy, "AttachLoadBalancerTargetGroups", fault=Fault.RESET_BEFORE, limit=None)

    with pytest.raises(Exception):
        actions.attach(name, [tg], [], detach=False)

    assert attached(aws, name) == []


def test_a_group_created_but_never_answered_is_read_back_not_failed(actions, fault_proxy, aws, group):
    _, tg = group
    subnets = aws.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=["legacy-green"])["AutoScalingGroups"][0]["VPCZoneIdentifier"].split(",")
    lose(fault_proxy, "CreateAutoScalingGroup", limit=None)

    detail = actions.create_group("legacy-blue", "legacy-green", "legacy", "1", subnets, "ELB", 60, {}, [])

    assert "created legacy-blue" in detail
    assert aws.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=["legacy-blue"])["AutoScalingGroups"]


def test_a_listener_change_applied_but_never_answered_is_read_back_not_failed(actions, fault_proxy, aws):
    world = web(aws)
    green = target_group(aws, "web-green", world.vpc)
    blue = world.target_group
    fault_proxy.configure([Rule(Fault.RESET_AFTER, operations=frozenset({"elbv2:ModifyListener"}))])

    detail = actions.set_weights(world.listener, None, {blue: 0, green: 100})

    assert "read back" in detail
    forward = aws.client("elbv2").describe_listeners(ListenerArns=[world.listener])["Listeners"][0]["DefaultActions"][0]
    assert {g["TargetGroupArn"]: g["Weight"] for g in forward["ForwardConfig"]["TargetGroups"]} == {blue: 0, green: 100}


def test_a_record_change_applied_but_never_answered_is_read_back_not_failed(actions, fault_proxy, aws):
    r53 = aws.client("route53")
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="z")["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {"Name": "api.example.com", "Type": "A", "SetIdentifier": color,
                                                   "Weight": weight, "TTL": 60,
                                                   "ResourceRecords": [{"Value": address}]}}
        for color, weight, address in (("blue", 100, "192.0.2.10"), ("green", 0, "192.0.2.20"))]})
    fault_proxy.configure([Rule(Fault.RESET_AFTER, operations=frozenset({"route53:ChangeResourceRecordSets"}))])

    detail = actions.set_record_weights(zone, "api.example.com", "A", {"blue": 0, "green": 100})

    assert "weights read back" in detail
    weights = {r["SetIdentifier"]: r["Weight"] for r in r53.list_resource_record_sets(HostedZoneId=zone)[
        "ResourceRecordSets"] if "SetIdentifier" in r}
    assert weights == {"blue": 0, "green": 100}
