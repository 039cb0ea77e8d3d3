"""The writes a traffic or image step makes start from AWS's answer and change one thing
(bluegreen.adapters.aws.rewrites), checked against botocore's input shapes."""

from __future__ import annotations

import botocore.session
import pytest

from bluegreen.adapters.aws.rewrites import (
    NoForwardAction, forward_weights, reweighted_actions, with_launch_template, writable_record_set,
)

BLUE, GREEN, OTHER = (f"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{n}/0123456789abcdef"
                      for n in ("web-blue", "web-green", "web-canary"))
OIDC = {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": {
    "Issuer": "https://idp.example.com", "AuthorizationEndpoint": "https://idp.example.com/authorize",
    "TokenEndpoint": "https://idp.example.com/token", "UserInfoEndpoint": "https://idp.example.com/userinfo",
    "ClientId": "web", "Scope": "openid", "SessionTimeout": 3600, "OnUnauthenticatedRequest": "authenticate"}}
STICKY = {"Enabled": True, "DurationSeconds": 3600}


def forward(*groups: tuple[str, int], order: int = 2) -> dict:
    return {"Type": "forward", "Order": order, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": arn, "Weight": w} for arn, w in groups],
        "TargetGroupStickinessConfig": STICKY}}


def valid_input(service: str, operation: str, **params) -> None:
    """botocore's own validation of the call's input (what the SDK checks before sending)."""
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model(service).operation_model(operation)
    report = ParamValidator().validate(params, model.input_shape)
    assert not report.has_errors(), report.generate_report()


def test_only_the_forwards_weights_change_the_oidc_action_its_order_and_stickiness_stay():
    live = [OIDC, forward((BLUE, 100), (GREEN, 0))]

    written = reweighted_actions(live, {BLUE: 90, GREEN: 10})

    assert written == [
        {**OIDC, "AuthenticateOidcConfig": {**OIDC["AuthenticateOidcConfig"], "UseExistingClientSecret": True}},
        forward((BLUE, 90), (GREEN, 10))]
    valid_input("elbv2", "ModifyListener", ListenerArn="arn", DefaultActions=written)


def test_an_oidc_client_secret_an_endpoint_echoes_is_not_written_back():
    echoed = {**OIDC, "AuthenticateOidcConfig": {**OIDC["AuthenticateOidcConfig"], "ClientSecret": "s3cr3t"}}

    written = reweighted_actions([echoed, forward((BLUE, 100))], {BLUE: 0, GREEN: 100})

    assert "s3cr3t" not in repr(written)
    assert written[0]["AuthenticateOidcConfig"]["UseExistingClientSecret"] is True


def test_a_cognito_action_is_written_back_as_it_was_read():
    cognito = {"Type": "authenticate-cognito", "Order": 1, "AuthenticateCognitoConfig": {
        "UserPoolArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc",
        "UserPoolClientId": "client", "UserPoolDomain": "web-login", "OnUnauthenticatedRequest": "deny"}}

    written = reweighted_actions([cognito, forward((BLUE, 100), (GREEN, 0))], {BLUE: 50, GREEN: 50})

    assert written[0] == cognito


def test_a_plain_forward_becomes_a_weighted_forward_config():
    written = reweighted_actions([{"Type": "forward", "TargetGroupArn": BLUE}], {BLUE: 90, GREEN: 10})

    assert written == [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": BLUE, "Weight": 90}, {"TargetGroupArn": GREEN, "Weight": 10}]}}]
    valid_input("elbv2", "ModifyRule", RuleArn="arn", Actions=written)


def test_a_forward_that_names_its_single_group_twice_keeps_only_the_forward_config():
    described = {"Type": "forward", "TargetGroupArn": BLUE, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": BLUE, "Weight": 1}], "TargetGroupStickinessConfig": {"Enabled": False}}}

    written = reweighted_actions([described], {BLUE: 90, GREEN: 10})

    assert "TargetGroupArn" not in written[0]
    assert written[0]["ForwardConfig"] == {"TargetGroups": [{"TargetGroupArn": BLUE, "Weight": 90},
                                                            {"TargetGroupArn": GREEN, "Weight": 10}],
                                           "TargetGroupStickinessConfig": {"Enabled": False}}


def test_target_groups_the_weights_do_not_name_keep_their_weight_and_place():
    written = reweighted_actions([forward((OTHER, 0), (BLUE, 100), (GREEN, 0))], {BLUE: 0, GREEN: 100})

    assert written[0]["ForwardConfig"]["TargetGroups"] == [
        {"TargetGroupArn": OTHER, "Weight": 0}, {"TargetGroupArn": BLUE, "Weight": 0},
        {"TargetGroupArn": GREEN, "Weight": 100}]


def test_an_action_list_without_a_forward_is_refused_not_replaced():
    fixed = {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}

    with pytest.raises(NoForwardAction, match="fixed-response"):
        reweighted_actions([fixed], {BLUE: 100})


def test_a_plain_forward_weighs_1_as_aws_reports_it():
    assert forward_weights([OIDC, {"Type": "forward", "TargetGroupArn": BLUE}]) == {BLUE: 1}


# --- Route53 ---------------------------------------------------------------------------------------


ALIAS = {"HostedZoneId": "Z35SXDOTRQ7X7K", "DNSName": "dualstack.api-blue-1.us-east-1.elb.amazonaws.com.",
         "EvaluateTargetHealth": True}


def test_an_alias_record_is_written_as_an_alias_with_only_its_weight_changed():
    listed = {"Name": "api.example.com.", "Type": "A", "SetIdentifier": "blue", "Weight": 100, "TTL": 0,
              "AliasTarget": ALIAS, "HealthCheckId": "hc-blue"}

    written = writable_record_set(listed, 50)

    assert written == {"Name": "api.example.com.", "Type": "A", "SetIdentifier": "blue", "Weight": 50,
                       "AliasTarget": ALIAS, "HealthCheckId": "hc-blue"}
    valid_input("route53", "ChangeResourceRecordSets", HostedZoneId="Z1", ChangeBatch={
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": written}]})


def test_a_cname_keeps_its_ttl_values_and_health_check():
    listed = {"Name": "api.example.com.", "Type": "CNAME", "SetIdentifier": "green", "Weight": 0, "TTL": 30,
              "ResourceRecords": [{"Value": "api-green.lb.example.com"}], "HealthCheckId": "hc-green"}

    assert writable_record_set(listed, 100) == {**listed, "Weight": 100}


# --- Auto Scaling ------------------------------------------------------------------------------------


def test_a_mixed_instances_policy_gets_the_version_and_keeps_its_overrides_and_distribution():
    described = {
        "LaunchTemplate": {
            "LaunchTemplateSpecification": {"LaunchTemplateId": "lt-1", "LaunchTemplateName": "legacy",
                                            "Version": "$Latest"},
            "Overrides": [{"InstanceType": "t3.micro"},
                          {"InstanceType": "m6g.large", "LaunchTemplateSpecification": {
                              "LaunchTemplateId": "lt-arm", "LaunchTemplateName": "legacy-arm", "Version": "4"}}]},
        "InstancesDistribution": {"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 25,
                                  "SpotAllocationStrategy": "price-capacity-optimized"}}

    written = with_launch_template(described, "legacy", "7")

    assert written == {
        "LaunchTemplate": {
            "LaunchTemplateSpecification": {"LaunchTemplateName": "legacy", "Version": "7"},
            "Overrides": [{"InstanceType": "t3.micro"},
                          {"InstanceType": "m6g.large",
                           "LaunchTemplateSpecification": {"LaunchTemplateId": "lt-arm", "Version": "4"}}]},
        "InstancesDistribution": described["InstancesDistribution"]}
    valid_input("autoscaling", "UpdateAutoScalingGroup", AutoScalingGroupName="legacy-green",
                MixedInstancesPolicy=written)
