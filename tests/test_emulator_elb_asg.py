"""The realistic emulator's load balancers and Auto Scaling: health checks that take interval x
threshold, draining that takes the deregistration delay, instances that boot (bluegreen.local.elb,
bluegreen.local.autoscaling)."""

from __future__ import annotations

import base64
import time

from bluegreen.local.world import UNHEALTHY

from emulator_helpers import network, target_group

BOOT = 30  # the world's default: an instance is Pending 30 s


def health(elbv2, tg: str) -> dict[str, tuple[str, str | None]]:
    found = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    return {d["Target"]["Id"]: (d["TargetHealth"]["State"], d["TargetHealth"].get("Reason")) for d in found}


def alb_with(aws, vpc, subnets, group, *target_groups: str) -> str:
    elbv2 = aws.client("elbv2")
    lb = elbv2.create_load_balancer(Name="alb", Subnets=subnets, SecurityGroups=[group])["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": tg, "Weight": 1} for tg in target_groups]}}])
    return lb


def ip_target_group(aws, **checks) -> tuple[str, object]:
    vpc, subnets, group = network(aws)
    tg = target_group(aws, "tg", vpc, **checks)
    alb_with(aws, vpc, subnets, group, tg)
    return tg, aws.client("elbv2")


# --- target groups -------------------------------------------------------------------------------


def test_a_registered_target_is_initial_until_interval_times_healthy_threshold(realistic_aws):
    tg, elbv2 = ip_target_group(realistic_aws, interval=5, healthy=4)

    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.7", "Port": 8080}])

    assert health(elbv2, tg) == {"10.0.0.7": ("initial", "Elb.RegistrationInProgress")}
    realistic_aws.advance(5)
    assert health(elbv2, tg) == {"10.0.0.7": ("initial", "Elb.InitialHealthChecking")}
    realistic_aws.advance(14)
    assert health(elbv2, tg)["10.0.0.7"][0] == "initial"
    realistic_aws.advance(1)
    assert health(elbv2, tg) == {"10.0.0.7": ("healthy", None)}


def test_a_target_whose_health_endpoint_fails_goes_unhealthy_after_interval_times_unhealthy_threshold(realistic_aws):
    tg, elbv2 = ip_target_group(realistic_aws, interval=10, healthy=2, unhealthy=3)
    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.8", "Port": 8080}])
    realistic_aws.advance(20)
    assert health(elbv2, tg)["10.0.0.8"][0] == "healthy"

    realistic_aws.set_target_health("10.0.0.8", ok=False)
    realistic_aws.advance(29)
    assert health(elbv2, tg)["10.0.0.8"][0] == "healthy"
    realistic_aws.advance(1)
    assert health(elbv2, tg) == {"10.0.0.8": ("unhealthy", "Target.ResponseCodeMismatch")}

    realistic_aws.set_target_health("10.0.0.8", ok=True)
    realistic_aws.advance(20)
    assert health(elbv2, tg)["10.0.0.8"][0] == "healthy"


def test_a_deregistered_target_drains_for_the_groups_deregistration_delay_then_is_gone(realistic_aws):
    tg, elbv2 = ip_target_group(realistic_aws, delay=45)
    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.9", "Port": 8080}])
    realistic_aws.advance(60)

    elbv2.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.9", "Port": 8080}])

    assert health(elbv2, tg) == {"10.0.0.9": ("draining", "Target.DeregistrationInProgress")}
    realistic_aws.advance(44)
    assert health(elbv2, tg)["10.0.0.9"][0] == "draining"
    realistic_aws.advance(1)
    assert health(elbv2, tg) == {}


def test_a_300_second_deregistration_delay_costs_milliseconds(realistic_aws, virtual_clock):
    tg, elbv2 = ip_target_group(realistic_aws, delay=300)
    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.10", "Port": 8080}])
    virtual_clock.sleep(60)
    elbv2.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.10", "Port": 8080}])
    started = time.monotonic()

    while health(elbv2, tg):  # what a product waiting for the drain does: look, sleep, look again
        virtual_clock.sleep(10)

    real = time.monotonic() - started
    assert virtual_clock.slept >= 60 + 300
    assert real < 30, f"draining 300 s took {real:.1f} s of real time"


def test_a_target_group_no_listener_forwards_to_reports_its_targets_unused(realistic_aws):
    vpc, _, _ = network(realistic_aws)
    tg = target_group(realistic_aws, "lonely", vpc)
    elbv2 = realistic_aws.client("elbv2")

    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.11", "Port": 8080}])
    realistic_aws.advance(60)

    assert health(elbv2, tg) == {"10.0.0.11": ("unused", "Target.NotInUse")}


# --- Auto Scaling and classic ELB ----------------------------------------------------------------


def launch_template(aws, image: str) -> str:
    ec2 = aws.client("ec2")
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    user_data = f"#!/bin/bash\ndocker run -d -p 80:8080 {image}\n"
    return ec2.create_launch_template(LaunchTemplateName=f"lt-{image.replace(':', '-')}", LaunchTemplateData={
        "ImageId": ami, "InstanceType": "t3.micro",
        "UserData": base64.b64encode(user_data.encode()).decode()})["LaunchTemplate"]["LaunchTemplateId"]


def group(aws, name: str, template: str, subnets: list[str], size: int, **kwargs) -> dict:
    autoscaling = aws.client("autoscaling")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name, LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"},
        MinSize=size, MaxSize=size + 2, DesiredCapacity=size, VPCZoneIdentifier=",".join(subnets), **kwargs)
    return describe_group(aws, name)


def describe_group(aws, name: str) -> dict:
    return aws.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]


def lifecycle(aws, name: str) -> dict[str, tuple[str, str]]:
    return {i["InstanceId"]: (i["LifecycleState"], i["HealthStatus"]) for i in describe_group(aws, name)["Instances"]}


def test_instances_are_pending_while_they_boot_then_in_service_and_registered(realistic_aws):
    vpc, subnets, sg = network(realistic_aws)
    tg = target_group(realistic_aws, "asg-tg", vpc, target_type="instance", interval=10, healthy=2)
    alb_with(realistic_aws, vpc, subnets, sg, tg)
    elbv2 = realistic_aws.client("elbv2")

    g = group(realistic_aws, "app", launch_template(realistic_aws, "repo:v1"), subnets, 2,
              TargetGroupARNs=[tg], HealthCheckType="ELB", HealthCheckGracePeriod=60)

    assert {i["LifecycleState"] for i in g["Instances"]} == {"Pending"}
    assert health(elbv2, tg) == {}
    realistic_aws.advance(BOOT)
    assert set(lifecycle(realistic_aws, "app").values()) == {("InService", "Healthy")}
    assert {s for s, _ in health(elbv2, tg).values()} == {"initial"}
    realistic_aws.advance(20)
    assert set(health(elbv2, tg)) == set(lifecycle(realistic_aws, "app"))
    assert {s for s, _ in health(elbv2, tg).values()} == {"healthy"}


def test_pending_instances_count_toward_the_desired_capacity(realistic_aws):
    _, subnets, _ = network(realistic_aws)
    group(realistic_aws, "app", launch_template(realistic_aws, "repo:v1"), subnets, 2)

    realistic_aws.client("autoscaling").update_auto_scaling_group(AutoScalingGroupName="app", DesiredCapacity=3)

    states = sorted(s for s, _ in lifecycle(realistic_aws, "app").values())
    assert states == ["Pending", "Pending", "Pending"]


def test_a_classic_elb_reports_out_of_service_until_healthy_then_out_of_service_while_unhealthy(realistic_aws):
    vpc, subnets, sg = network(realistic_aws)
    elb = realistic_aws.client("elb")
    elb.create_load_balancer(LoadBalancerName="classic", Subnets=subnets, SecurityGroups=[sg], Listeners=[
        {"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 80}])
    elb.configure_health_check(LoadBalancerName="classic", HealthCheck={
        "Target": "HTTP:80/", "Interval": 10, "Timeout": 5, "UnhealthyThreshold": 2, "HealthyThreshold": 3})
    group(realistic_aws, "app", launch_template(realistic_aws, "repo:v1"), subnets, 1, LoadBalancerNames=["classic"])
    realistic_aws.advance(BOOT)

    def states():
        return [(s["State"], s["ReasonCode"], s["Description"])
                for s in elb.describe_instance_health(LoadBalancerName="classic")["InstanceStates"]]

    assert states() == [("OutOfService", "ELB", "Instance registration is still in progress.")]
    realistic_aws.advance(30)
    assert states() == [("InService", "N/A", "N/A")]
    instance = elb.describe_instance_health(LoadBalancerName="classic")["InstanceStates"][0]["InstanceId"]
    realistic_aws.set_target_health(instance, ok=False)
    realistic_aws.advance(20)
    assert states() == [("OutOfService", "Instance", "Instance has failed at least the UnhealthyThreshold "
                                                     "number of health checks consecutively.")]


def test_an_elb_checked_group_replaces_an_instance_its_load_balancer_finds_unhealthy_after_the_grace_period(realistic_aws):
    vpc, subnets, sg = network(realistic_aws)
    tg = target_group(realistic_aws, "asg-tg", vpc, target_type="instance", interval=10, healthy=2, unhealthy=2,
                      delay=30)
    alb_with(realistic_aws, vpc, subnets, sg, tg)
    realistic_aws.mark_image("repo:sick", UNHEALTHY)
    group(realistic_aws, "app", launch_template(realistic_aws, "repo:sick"), subnets, 1,
          TargetGroupARNs=[tg], HealthCheckType="ELB", HealthCheckGracePeriod=60)
    realistic_aws.advance(BOOT + 20)
    first = next(iter(lifecycle(realistic_aws, "app")))
    assert lifecycle(realistic_aws, "app")[first] == ("InService", "Healthy")  # unhealthy, but in its grace period
    assert health(realistic_aws.client("elbv2"), tg)[first][0] == "unhealthy"

    realistic_aws.advance(40)  # the grace period is over

    states = lifecycle(realistic_aws, "app")
    assert states[first][0] == "Terminating"
    assert [s for i, s in states.items() if i != first] == [("Pending", "Healthy")]
    assert health(realistic_aws.client("elbv2"), tg)[first][0] == "draining"


def test_scaled_in_instances_are_terminating_while_their_targets_drain(realistic_aws):
    vpc, subnets, sg = network(realistic_aws)
    tg = target_group(realistic_aws, "asg-tg", vpc, target_type="instance", interval=10, healthy=2, delay=120)
    alb_with(realistic_aws, vpc, subnets, sg, tg)
    group(realistic_aws, "app", launch_template(realistic_aws, "repo:v1"), subnets, 2, TargetGroupARNs=[tg])
    realistic_aws.advance(BOOT + 20)

    realistic_aws.client("autoscaling").update_auto_scaling_group(AutoScalingGroupName="app", MinSize=0,
                                                                  DesiredCapacity=0)

    assert {s for s, _ in lifecycle(realistic_aws, "app").values()} == {"Terminating"}
    assert {s for s, _ in health(realistic_aws.client("elbv2"), tg).values()} == {"draining"}
    realistic_aws.advance(120)
    assert lifecycle(realistic_aws, "app") == {} and health(realistic_aws.client("elbv2"), tg) == {}


def test_elb_host_counts_in_cloudwatch_follow_the_groups_target_health(realistic_aws):
    from datetime import datetime, timedelta, timezone

    from bluegreen.adapters.aws.reads_calls import host_count_queries

    tg, elbv2 = ip_target_group(realistic_aws, interval=10, healthy=2, unhealthy=3)
    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.5", "Port": 8080},
                                                       {"Id": "10.0.0.6", "Port": 8080},
                                                       {"Id": "10.0.0.7", "Port": 8080}])
    realistic_aws.advance(20)
    realistic_aws.set_target_health("10.0.0.5", ok=False)
    realistic_aws.advance(30)
    elbv2.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.7", "Port": 8080}])  # draining: neither
    (lb,) = elbv2.describe_target_groups(TargetGroupArns=[tg])["TargetGroups"][0]["LoadBalancerArns"]
    queries, _ = host_count_queries([(tg, [lb])])
    end = datetime.fromtimestamp(realistic_aws.clock.time(), timezone.utc)

    answer = realistic_aws.client("cloudwatch").get_metric_data(
        MetricDataQueries=queries, StartTime=end - timedelta(minutes=5), EndTime=end)

    values = {r["Label"].split()[0]: r["Values"] for r in answer["MetricDataResults"]}
    assert values == {"HealthyHostCount": [1.0], "UnHealthyHostCount": [1.0]}
    (stamp,) = answer["MetricDataResults"][0]["Timestamps"]
    assert stamp == end.replace(second=0, microsecond=0) - timedelta(minutes=1)  # the minute just past
