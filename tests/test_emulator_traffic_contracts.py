"""What a traffic shift reads and writes back, answered as AWS answers it (bluegreen.local.answers and
bluegreen.local.rejections): moto accepts and echoes things AWS does not, and a write that starts
from a read is only tested if the read looks like AWS's."""

from __future__ import annotations

import botocore.session
import pytest

from emulator_helpers import error_of, network, web

IDP = "https://idp.example.com"


def oidc(secret: str | None = "s3cr3t", reuse: bool | None = None) -> dict:
    config = {"Issuer": IDP, "AuthorizationEndpoint": f"{IDP}/authorize", "TokenEndpoint": f"{IDP}/token",
              "UserInfoEndpoint": f"{IDP}/userinfo", "ClientId": "web"}
    if secret is not None:
        config["ClientSecret"] = secret
    if reuse is not None:
        config["UseExistingClientSecret"] = reuse
    return {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": config}


def forward(arn: str) -> dict:
    return {"Type": "forward", "Order": 2, "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": arn, "Weight": 1}]}}


def https_listener(aws, w) -> str:
    cert = aws.client("acm").request_certificate(DomainName="web.example.com")["CertificateArn"]
    lb = w.elbv2.describe_load_balancers(Names=["web-alb"])["LoadBalancers"][0]["LoadBalancerArn"]
    return w.elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                                   Certificates=[{"CertificateArn": cert}],
                                   DefaultActions=[oidc(), forward(w.target_group)])["Listeners"][0]["ListenerArn"]


def zone(aws) -> str:
    return aws.client("route53").create_hosted_zone(Name="example.com.", CallerReference="z")["HostedZone"]["Id"]


def upsert(aws, zone_id: str, **record) -> None:
    aws.client("route53").change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": "api.example.com", "SetIdentifier": "blue",
                                                   "Weight": 100, **record}}]})


# --- ELB: an OIDC client secret is write-only ----------------------------------------------------


def test_describe_never_returns_an_oidc_client_secret(realistic_aws):
    w = web(realistic_aws)
    listener = https_listener(realistic_aws, w)

    described = w.elbv2.describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"]

    config = described[0]["AuthenticateOidcConfig"]
    assert "ClientSecret" not in config and config["ClientId"] == "web"
    assert "s3cr3t" not in repr(described)


def test_modifying_an_oidc_action_without_its_secret_is_rejected_unless_it_reuses_the_existing_one(realistic_aws):
    w = web(realistic_aws)
    listener = https_listener(realistic_aws, w)

    error = error_of(w.elbv2.modify_listener, ListenerArn=listener,
                     DefaultActions=[oidc(secret=None), forward(w.target_group)])
    w.elbv2.modify_listener(ListenerArn=listener, DefaultActions=[oidc(secret=None, reuse=True), forward(w.target_group)])

    assert error["Code"] == "ValidationError" and "clientSecret" in error["Message"]
    kept = w.elbv2.describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"]
    assert [a["Type"] for a in kept] == ["authenticate-oidc", "forward"]


def test_creating_an_oidc_action_without_a_secret_is_rejected(realistic_aws):
    w = web(realistic_aws)
    cert = realistic_aws.client("acm").request_certificate(DomainName="web.example.com")["CertificateArn"]
    lb = w.elbv2.describe_load_balancers(Names=["web-alb"])["LoadBalancers"][0]["LoadBalancerArn"]

    error = error_of(w.elbv2.create_listener, LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                     Certificates=[{"CertificateArn": cert}],
                     DefaultActions=[oidc(secret=None, reuse=True), forward(w.target_group)])

    assert error["Code"] == "ValidationError"


# --- Route53 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_,value,problem", [
    ("A", "api-blue.lb.example.com", "ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)"),
    ("AAAA", "192.0.2.10", "AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)"),
])
def test_an_address_record_whose_value_is_not_an_address_is_rejected(realistic_aws, type_, value, problem):
    zone_id = zone(realistic_aws)

    error = error_of(upsert, aws=realistic_aws, zone_id=zone_id, Type=type_, TTL=60,
                     ResourceRecords=[{"Value": value}])

    assert error["Code"] == "InvalidChangeBatch"
    assert error["Message"] == f"[Invalid Resource Record: 'FATAL problem: {problem} encountered with '{value}'']"


def test_address_records_with_addresses_and_cnames_with_host_names_are_accepted(realistic_aws):
    zone_id = zone(realistic_aws)

    upsert(realistic_aws, zone_id, Type="A", TTL=60, ResourceRecords=[{"Value": "192.0.2.10"}])
    upsert(realistic_aws, zone_id, Name="www.example.com", Type="CNAME", TTL=60,
           ResourceRecords=[{"Value": "api-blue.lb.example.com"}])

    names = {r["Name"] for r in realistic_aws.client("route53").list_resource_record_sets(
        HostedZoneId=zone_id)["ResourceRecordSets"]}
    assert {"api.example.com.", "www.example.com."} <= names


def test_an_alias_record_with_a_ttl_is_rejected(realistic_aws):
    zone_id = zone(realistic_aws)
    alias = {"HostedZoneId": "Z35SXDOTRQ7X7K", "DNSName": "dualstack.web-1.us-east-1.elb.amazonaws.com",
             "EvaluateTargetHealth": True}

    error = error_of(upsert, aws=realistic_aws, zone_id=zone_id, Type="A", TTL=60, AliasTarget=alias)

    assert error["Code"] == "InvalidInput"
    assert error["Message"].startswith("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and "
                                       "ResourceRecords], or TrafficPolicyInstanceId], but found more than one")


def test_an_alias_record_is_listed_without_a_ttl(realistic_aws):
    zone_id = zone(realistic_aws)
    alias = {"HostedZoneId": "Z35SXDOTRQ7X7K", "DNSName": "dualstack.web-1.us-east-1.elb.amazonaws.com",
             "EvaluateTargetHealth": True}
    upsert(realistic_aws, zone_id, Type="A", AliasTarget=alias)

    listed = [r for r in realistic_aws.client("route53").list_resource_record_sets(HostedZoneId=zone_id)[
        "ResourceRecordSets"] if r["Name"] == "api.example.com."]

    assert len(listed) == 1 and listed[0]["AliasTarget"] == alias
    assert "TTL" not in listed[0] and "ResourceRecords" not in listed[0]


# --- Auto Scaling: an update changes what it names --------------------------------------------------


def mixed_group(aws) -> dict:
    _, subnets, _ = network(aws)
    ec2 = aws.client("ec2")
    template = ec2.create_launch_template(LaunchTemplateName="app-lt", LaunchTemplateData={
        "ImageId": ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]})["LaunchTemplate"]
    policy = {"LaunchTemplate": {"LaunchTemplateSpecification": {"LaunchTemplateId": template["LaunchTemplateId"],
                                                                 "Version": "1"},
                                 "Overrides": [{"InstanceType": "t3.micro"}, {"InstanceType": "t3a.micro"}]},
              "InstancesDistribution": {"OnDemandBaseCapacity": 0, "OnDemandPercentageAboveBaseCapacity": 50}}
    aws.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="g", MinSize=0, MaxSize=4, DesiredCapacity=0, MixedInstancesPolicy=policy,
        VPCZoneIdentifier=",".join(subnets))
    return policy


def describe(aws) -> dict:
    return aws.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["g"])["AutoScalingGroups"][0]


def test_a_capacity_update_keeps_the_mixed_instances_policy(realistic_aws):
    policy = mixed_group(realistic_aws)

    realistic_aws.client("autoscaling").update_auto_scaling_group(AutoScalingGroupName="g", MinSize=2, MaxSize=4,
                                                                  DesiredCapacity=2)

    kept = describe(realistic_aws)["MixedInstancesPolicy"]
    assert kept["LaunchTemplate"]["Overrides"] == policy["LaunchTemplate"]["Overrides"]
    assert kept["InstancesDistribution"]["OnDemandPercentageAboveBaseCapacity"] == 50
    assert describe(realistic_aws)["DesiredCapacity"] == 2


def test_a_launch_template_update_replaces_the_mixed_instances_policy(realistic_aws):
    mixed_group(realistic_aws)

    realistic_aws.client("autoscaling").update_auto_scaling_group(
        AutoScalingGroupName="g", LaunchTemplate={"LaunchTemplateName": "app-lt", "Version": "1"})

    group = describe(realistic_aws)
    assert group.get("MixedInstancesPolicy") is None and group["LaunchTemplate"]["LaunchTemplateName"] == "app-lt"


# --- the codes are AWS's ---------------------------------------------------------------------------


@pytest.mark.parametrize("service,operation,code", [
    ("route53", "ChangeResourceRecordSets", "InvalidChangeBatch"),
    ("route53", "ChangeResourceRecordSets", "InvalidInput"),
])
def test_each_rejection_code_is_one_the_operation_declares_in_aws_service_model(service, operation, code):
    model = botocore.session.get_session().get_service_model(service)
    declared = {shape.metadata.get("error", {}).get("code", shape.name)
                for shape in model.operation_model(operation).error_shapes}

    assert code in declared
