"""AWS's rejections for the calls bluegreen makes, which moto accepts: on the realistic emulator
each answers AWS's error code and message (bluegreen.local.rejections)."""

from __future__ import annotations

import botocore.session
import pytest

from emulator_helpers import error_of, network, target_group, web


def forward(*weighted: tuple[str, int]) -> list[dict]:
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": arn, "Weight": weight} for arn, weight in weighted]}}]


# --- ECS -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("controller,message", [
    ("CODE_DEPLOY", "Unable to update task definition on services with a CODE_DEPLOY deployment controller. "
                    "Use AWS CodeDeploy to trigger a new deployment."),
    ("EXTERNAL", "Unable to update task definition on services with a EXTERNAL deployment controller."),
])
def test_a_task_definition_update_on_a_service_ecs_does_not_deploy_is_rejected(realistic_aws, controller, message):
    w = web(realistic_aws)
    if controller == "EXTERNAL":
        w.service(controller=controller, desired=0)
    else:
        w.service(controller=controller, desired=0, image="repo:v1")

    error = error_of(w.ecs.update_service, cluster="c", service="web", taskDefinition=w.revision("repo:v2"))

    assert error["Code"] == "InvalidParameterException" and error["HTTPStatusCode"] == 400
    assert error["Message"].startswith(message)


def test_a_desired_count_update_on_a_code_deploy_service_is_accepted(realistic_aws):
    w = web(realistic_aws)
    w.service(controller="CODE_DEPLOY", desired=0)

    w.ecs.update_service(cluster="c", service="web", desiredCount=2)

    assert w.describe()["desiredCount"] == 2


def test_a_task_set_on_an_ecs_controlled_service_is_rejected(realistic_aws):
    w = web(realistic_aws)
    w.service(desired=0)

    error = error_of(w.ecs.create_task_set, cluster="c", service="web", taskDefinition=w.revision("repo:v2"))

    assert error["Code"] == "InvalidParameterException"
    assert error["Message"] == ("Amazon ECS only supports task set management on services configured to use "
                                "external deployment controllers.")


# --- Elastic Load Balancing ----------------------------------------------------------------------


def test_a_forward_to_a_target_group_of_another_load_balancer_is_rejected(realistic_aws):
    w = web(realistic_aws)
    other = w.elbv2.create_load_balancer(Name="other", Subnets=w.subnets, SecurityGroups=[w.security_group])
    other_arn = other["LoadBalancers"][0]["LoadBalancerArn"]

    error = error_of(w.elbv2.create_listener, LoadBalancerArn=other_arn, Protocol="HTTP", Port=80,
                     DefaultActions=forward((w.target_group, 1)))

    assert error["Code"] == "TargetGroupAssociationLimit"
    assert error["Message"] == ("The following target groups cannot be associated with more than one load "
                                f"balancer: {w.target_group}")


def test_a_forward_to_a_target_group_in_another_vpc_is_rejected(realistic_aws):
    w = web(realistic_aws)
    elsewhere, _, _ = network(realistic_aws, cidr="10.1.0.0/16")
    foreign = target_group(realistic_aws, "foreign", elsewhere)

    error = error_of(w.elbv2.modify_listener, ListenerArn=w.listener,
                     DefaultActions=forward((w.target_group, 90), (foreign, 10)))

    assert error["Code"] == "InvalidConfigurationRequest"
    assert foreign in error["Message"] and "different VPC" in error["Message"]


def test_a_forward_to_a_target_group_that_does_not_exist_is_rejected(realistic_aws):
    w = web(realistic_aws)
    missing = w.target_group.replace("web-tg", "gone-tg")

    error = error_of(w.elbv2.modify_listener, ListenerArn=w.listener, DefaultActions=forward((missing, 100)))

    assert error["Code"] == "TargetGroupNotFound"


def test_all_zero_weights_are_rejected(realistic_aws):
    w = web(realistic_aws)
    green = target_group(realistic_aws, "green-tg", w.vpc)

    error = error_of(w.elbv2.modify_listener, ListenerArn=w.listener,
                     DefaultActions=forward((w.target_group, 0), (green, 0)))

    assert error["Code"] == "ValidationError"
    assert w.elbv2.describe_listeners(ListenerArns=[w.listener])["Listeners"][0]["DefaultActions"][0].get(
        "TargetGroupArn", w.target_group) == w.target_group  # unchanged


@pytest.mark.parametrize("weight,bound", [(1000, "less than or equal to 999"), (-1, "greater than or equal to 0")])
def test_a_weight_outside_0_to_999_is_rejected(realistic_aws, weight, bound):
    w = web(realistic_aws)
    green = target_group(realistic_aws, "green-tg", w.vpc)

    error = error_of(w.elbv2.modify_listener, ListenerArn=w.listener,
                     DefaultActions=forward((w.target_group, 1), (green, weight)))

    assert error["Code"] == "ValidationError"
    assert error["Message"] == (f"1 validation error detected: Value '{weight}' at 'defaultActions.1.member."
                                f"forwardConfig.targetGroups.2.member.weight' failed to satisfy constraint: "
                                f"Member must have value {bound}")


def test_weights_0_and_100_are_accepted(realistic_aws):
    w = web(realistic_aws)
    green = target_group(realistic_aws, "green-tg", w.vpc)

    w.elbv2.modify_listener(ListenerArn=w.listener, DefaultActions=forward((w.target_group, 0), (green, 100)))

    groups = w.elbv2.describe_listeners(ListenerArns=[w.listener])["Listeners"][0]["DefaultActions"][0]
    assert [g["Weight"] for g in groups["ForwardConfig"]["TargetGroups"]] == [0, 100]


def test_a_second_listener_on_the_same_port_is_rejected(realistic_aws):
    w = web(realistic_aws)

    error = error_of(w.elbv2.create_listener, LoadBalancerArn=w.load_balancer, Protocol="HTTP", Port=80,
                     DefaultActions=forward((w.target_group, 1)))

    assert error["Code"] == "DuplicateListener"
    assert error["Message"] == "A listener with the specified port already exists."


def test_moving_a_listener_onto_a_port_another_listener_has_is_rejected(realistic_aws):
    w = web(realistic_aws)
    test = w.elbv2.create_listener(LoadBalancerArn=w.load_balancer, Protocol="HTTP", Port=8080,
                                   DefaultActions=forward((w.target_group, 1)))["Listeners"][0]["ListenerArn"]

    error = error_of(w.elbv2.modify_listener, ListenerArn=test, Port=80)

    assert error["Code"] == "DuplicateListener"


def test_deleting_a_target_group_a_listener_forwards_to_is_rejected(realistic_aws):
    w = web(realistic_aws)

    error = error_of(w.elbv2.delete_target_group, TargetGroupArn=w.target_group)

    assert error["Code"] == "ResourceInUse"
    assert error["Message"] == f"Target group '{w.target_group}' is currently in use by a listener or a rule"


def test_deleting_an_auto_scaling_group_with_instances_needs_force_delete(realistic_aws):
    _, subnets, _ = network(realistic_aws)
    ec2 = realistic_aws.client("ec2")
    template = ec2.create_launch_template(LaunchTemplateName="app-lt", LaunchTemplateData={
        "ImageId": ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]})["LaunchTemplate"]["LaunchTemplateId"]
    autoscaling = realistic_aws.client("autoscaling")
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=1, MaxSize=1, DesiredCapacity=1,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          VPCZoneIdentifier=",".join(subnets))

    error = error_of(autoscaling.delete_auto_scaling_group, AutoScalingGroupName="g")
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="g", ForceDelete=True)

    assert error["Code"] == "ResourceInUse"
    assert autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["g"])["AutoScalingGroups"] == []


# --- the codes are AWS's -------------------------------------------------------------------------


@pytest.mark.parametrize("service,operation,code", [
    ("ecs", "UpdateService", "InvalidParameterException"),
    ("ecs", "CreateTaskSet", "InvalidParameterException"),
    ("elbv2", "CreateListener", "DuplicateListener"),
    ("elbv2", "ModifyListener", "DuplicateListener"),
    ("elbv2", "CreateListener", "TargetGroupAssociationLimit"),
    ("elbv2", "ModifyListener", "TargetGroupAssociationLimit"),
    ("elbv2", "ModifyRule", "TargetGroupAssociationLimit"),
    ("elbv2", "ModifyListener", "InvalidConfigurationRequest"),
    ("elbv2", "ModifyListener", "TargetGroupNotFound"),
    ("elbv2", "DeleteTargetGroup", "ResourceInUse"),
    ("autoscaling", "DeleteAutoScalingGroup", "ResourceInUse"),
])
def test_each_rejection_code_is_one_the_operation_declares_in_aws_service_model(service, operation, code):
    model = botocore.session.get_session().get_service_model(service)
    declared = {shape.metadata.get("error", {}).get("code", shape.name)
                for shape in model.operation_model(operation).error_shapes}

    assert code in declared
