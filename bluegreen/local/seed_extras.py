"""What a seeded world may have besides its plain shape: the attributes a traffic step must keep.

`seed(..., extras=Extras(...))` builds them on top of the usual world, so tests can prove that a
traffic shift changes the weights and nothing else:

- `authenticate`: an `authenticate-oidc` (or `authenticate-cognito`) action before each route's
  forward, on an HTTPS listener with an ACM certificate (AWS allows authenticate actions on HTTPS
  listeners only); the OIDC client secret is `OIDC_CLIENT_SECRET`, so a test can look for it;
- `stickiness`: the routes' forward actions stick sessions to a target group for that many seconds;
- `plain_forward`: the routes forward with a plain `TargetGroupArn` (no weights at all);
- `health_checks`: a Route53 health check per color, on its weighted record;
- `alias`: weighted ALIAS A records to each color's load balancer (`dualstack.` + its DNS name,
  EvaluateTargetHealth) instead of CNAMEs: the usual DNS blue/green, the only one at a zone apex;
- `mixed_instances`: both Auto Scaling groups run a MixedInstancesPolicy (half on-demand, half
  spot, over several instance types) instead of a plain launch template.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bluegreen.adapters.aws.session import Aws
from bluegreen.domain.spec import Spec

if TYPE_CHECKING:
    from bluegreen.local.seed import SeedResult

OIDC_CLIENT_SECRET = "seeded-oidc-client-secret-5f1c"  # a placeholder, never a real secret
MIXED_INSTANCE_TYPES = ("t3.micro", "t3a.micro", "t2.micro")
# Half on-demand, half spot. (moto rounds each part down, so a base of 1 with 2 instances wanted
# launches only 1; with no base and 50% it launches exactly the desired capacity.)
MIXED_DISTRIBUTION = {"OnDemandAllocationStrategy": "prioritized", "OnDemandBaseCapacity": 0,
                      "OnDemandPercentageAboveBaseCapacity": 50, "SpotAllocationStrategy": "price-capacity-optimized"}


@dataclass(frozen=True)
class Extras:
    authenticate: Literal["oidc", "cognito"] | None = None
    stickiness: int | None = None  # seconds
    plain_forward: bool = False
    health_checks: bool = False
    alias: bool = False
    mixed_instances: bool = False


# --- listeners ------------------------------------------------------------------------------------


def routes(aws: Aws, spec: Spec, result: "SeedResult", live_color: str, extras: Extras) -> None:
    """Rewrite each seeded route's actions (and its listener, for authentication) as `extras` asks."""
    if not (extras.authenticate or extras.stickiness or extras.plain_forward):
        return
    elbv2 = aws.client("elbv2")
    for route in spec.routes:
        listener = result.listeners[f"{route.load_balancer}:{route.port}"]
        rule = result.rules.get(f"{route.load_balancer}:{route.port}:{route.rule_priority}")
        actions = [_forward(result, route.blue_target_group, route.green_target_group, live_color, extras)]
        if extras.authenticate:
            actions = [_authenticate(aws, spec, extras.authenticate), {**actions[0], "Order": 2}]
            elbv2.modify_listener(ListenerArn=listener, Protocol="HTTPS", Port=route.port,
                                  Certificates=[{"CertificateArn": _certificate(aws, spec, result)}],
                                  **({} if rule else {"DefaultActions": actions}))
        if rule:
            elbv2.modify_rule(RuleArn=rule, Actions=actions)
        elif not extras.authenticate:
            elbv2.modify_listener(ListenerArn=listener, DefaultActions=actions)


def _forward(result: "SeedResult", blue: str, green: str, live_color: str, extras: Extras) -> dict[str, Any]:
    arns = {"blue": result.target_groups[blue], "green": result.target_groups[green]}
    if extras.plain_forward:
        return {"Type": "forward", "TargetGroupArn": arns[live_color], "Order": 1}
    stickiness: dict[str, Any] = {"Enabled": False}
    if extras.stickiness:
        stickiness = {"Enabled": True, "DurationSeconds": extras.stickiness}
    return {"Type": "forward", "Order": 1, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": arn, "Weight": 100 if color == live_color else 0}
                         for color, arn in arns.items()],
        "TargetGroupStickinessConfig": stickiness}}


def _authenticate(aws: Aws, spec: Spec, kind: str) -> dict[str, Any]:
    if kind == "oidc":
        idp = "https://idp.example.com"
        return {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": {
            "Issuer": idp, "AuthorizationEndpoint": f"{idp}/authorize", "TokenEndpoint": f"{idp}/token",
            "UserInfoEndpoint": f"{idp}/userinfo", "ClientId": f"{spec.service}-alb",
            "ClientSecret": OIDC_CLIENT_SECRET, "Scope": "openid email", "SessionTimeout": 3600,
            "OnUnauthenticatedRequest": "authenticate"}}
    cognito = aws.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"{spec.service}-users")["UserPool"]
    client = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName=f"{spec.service}-alb",
                                             GenerateSecret=True)["UserPoolClient"]
    domain = f"{spec.service}-login"
    cognito.create_user_pool_domain(Domain=domain, UserPoolId=pool["Id"])
    return {"Type": "authenticate-cognito", "Order": 1, "AuthenticateCognitoConfig": {
        "UserPoolArn": pool["Arn"], "UserPoolClientId": client["ClientId"], "UserPoolDomain": domain,
        "OnUnauthenticatedRequest": "deny"}}


def _certificate(aws: Aws, spec: Spec, result: "SeedResult") -> str:
    if result.certificate_arn is None:
        result.certificate_arn = aws.client("acm").request_certificate(
            DomainName=f"{spec.service}.example.com", ValidationMethod="DNS")["CertificateArn"]
    return result.certificate_arn


# --- Route53 -----------------------------------------------------------------------------------------


def dns_record(aws: Aws, spec: Spec, result: "SeedResult", color: str, record: dict[str, Any],
               extras: Extras | None) -> dict[str, Any]:
    """The color's weighted record set as `extras` asks: an alias to its load balancer, a health check."""
    if extras is None:
        return record
    dns = spec.dns
    assert dns is not None
    if extras.alias:
        lb = aws.client("elbv2").describe_load_balancers(
            LoadBalancerArns=[result.load_balancers[f"{spec.service}-{color}"]])["LoadBalancers"][0]
        record = {k: v for k, v in record.items() if k not in ("TTL", "ResourceRecords")}
        record |= {"Type": "A", "AliasTarget": {"HostedZoneId": lb["CanonicalHostedZoneId"],
                                                "DNSName": f"dualstack.{lb['DNSName']}", "EvaluateTargetHealth": True}}
        result.records[color] = record["AliasTarget"]["DNSName"]
    if extras.health_checks:
        check = aws.client("route53").create_health_check(
            CallerReference=f"bluegreen-seed-{spec.service}-{color}", HealthCheckConfig={
                "Type": "HTTPS", "FullyQualifiedDomainName": dns.endpoints.of(color), "Port": 443,
                "ResourcePath": "/health", "RequestInterval": 30, "FailureThreshold": 3})["HealthCheck"]
        record["HealthCheckId"] = check["Id"]
        result.health_checks[color] = check["Id"]
    return record


# --- Auto Scaling ----------------------------------------------------------------------------------


def group_launch(template_id: str, extras: Extras | None) -> dict[str, Any]:
    """How a seeded group names its launch template: directly, or in a mixed-instances policy."""
    spec = {"LaunchTemplateId": template_id, "Version": "$Latest"}
    if extras is None or not extras.mixed_instances:
        return {"LaunchTemplate": spec}
    return {"MixedInstancesPolicy": {
        "LaunchTemplate": {"LaunchTemplateSpecification": spec,
                           "Overrides": [{"InstanceType": t} for t in MIXED_INSTANCE_TYPES]},
        "InstancesDistribution": dict(MIXED_DISTRIBUTION)}}
