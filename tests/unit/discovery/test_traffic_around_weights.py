"""Discovery reads what sits around the weights: the actions of a listener or rule and its
stickiness, an alias record's target (which has no TTL of its own) and a record's health check."""

from __future__ import annotations

from bluegreen.discovery.traffic import dns_record, routing_rule

BLUE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123456789abcdef"


def test_a_rule_lists_its_actions_in_order_and_its_stickiness():
    actions = [
        {"Type": "forward", "Order": 2, "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": BLUE, "Weight": 100}],
            "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 3600}}},
        {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": {"ClientId": "web"}},
    ]

    rule = routing_rule("arn:rule", 10, actions)

    assert (rule.forward, rule.actions, rule.stickiness) == (((BLUE, 100),), ("authenticate-oidc", "forward"), 3600)


def test_stickiness_that_is_off_is_none():
    actions = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": BLUE, "Weight": 1}],
                                                     "TargetGroupStickinessConfig": {"Enabled": False}}}]

    assert routing_rule("arn:listener", None, actions).stickiness is None


def test_an_alias_record_has_its_target_and_no_ttl_even_when_the_listing_says_0():
    listed = {"Name": "api.example.com.", "Type": "A", "SetIdentifier": "blue", "Weight": 100, "TTL": 0,
              "AliasTarget": {"HostedZoneId": "Z35SXDOTRQ7X7K", "DNSName": "dualstack.api-blue-1.elb.amazonaws.com.",
                              "EvaluateTargetHealth": True},
              "HealthCheckId": "hc-blue"}

    record = dns_record("Z1", listed)

    assert (record.values, record.ttl, record.alias, record.alias_zone_id, record.evaluate_target_health) == (
        ("dualstack.api-blue-1.elb.amazonaws.com",), None, True, "Z35SXDOTRQ7X7K", True)
    assert record.health_check_id == "hc-blue"


def test_a_cname_has_its_value_and_ttl_and_is_no_alias():
    listed = {"Name": "api.example.com.", "Type": "CNAME", "SetIdentifier": "green", "Weight": 0, "TTL": 30,
              "ResourceRecords": [{"Value": "api-green.lb.example.com"}]}

    record = dns_record("Z1", listed)

    assert (record.values, record.ttl, record.alias, record.evaluate_target_health) == (
        ("api-green.lb.example.com",), 30, False, None)
