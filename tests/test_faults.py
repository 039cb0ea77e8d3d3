"""The fault proxy (bluegreen/local/faults.py): its faults are the ones botocore's standard retry
mode really takes for throttling and transient errors, in every protocol the product's services
speak; a reset after the call applies it; latency is added; rates hold per operation.

Attempts are counted by the proxy (`stats.calls`), so these tests see botocore's own retries.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import boto3
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.retries import standard

from bluegreen.local.fault_wire import QUERY_COMPATIBLE, ROUTE53_ROUTES, identify
from bluegreen.local.faults import Fault, FaultProxy, Rule, mixed_faults

# One read-only call per service the product (and its emulator) talks to: every AWS protocol
# botocore uses for them is here (json 1.0 and 1.1, query, ec2, rest-xml).
SERVICE_CALLS = {
    "ecs": ("ListClusters", {}),
    "ecr": ("DescribeRepositories", {}),
    "dynamodb": ("ListTables", {}),
    "cloudwatch": ("DescribeAlarms", {}),
    "codedeploy": ("ListApplications", {}),
    "application-autoscaling": ("DescribeScalableTargets", {"ServiceNamespace": "ecs"}),
    "ssm": ("DescribeParameters", {}),
    "secretsmanager": ("ListSecrets", {}),
    "elbv2": ("DescribeLoadBalancers", {}),
    "elb": ("DescribeLoadBalancers", {}),
    "autoscaling": ("DescribeAutoScalingGroups", {}),
    "ec2": ("DescribeVpcs", {}),
    "sts": ("GetCallerIdentity", {}),
    "iam": ("ListRoles", {}),
    "route53": ("ListHostedZones", {}),
}


@pytest.fixture(autouse=True)
def no_backoff_sleep(monkeypatch):
    """botocore still decides every retry; it just does not sleep between them (up to seconds each
    for throttles), which would only make these tests slow."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


def client(proxy: FaultProxy, service: str, attempts: int):
    """A client in botocore's standard retry mode making at most `attempts` attempts per call."""
    config = Config(retries={"mode": "standard", "total_max_attempts": attempts})
    return boto3.client(service, endpoint_url=proxy.endpoint_url, region_name="us-east-1", config=config)


def call(aws_client, operation: str, params: dict):
    return getattr(aws_client, xform_name(operation))(**params)


def throttling_responses(service: str) -> set[tuple[str, int]]:
    """(error code, HTTP status) pairs botocore's _retry.json retries for `service`."""
    loader = boto3.Session()._session.get_component("data_loader")
    config = loader.load_data("_retry")
    definitions = config["definitions"]
    policies = dict(config["retry"]["__default__"]["policies"])
    policies.update(config["retry"].get(service, {}).get("__default__", {}).get("policies", {}))
    out = set()
    for policy in policies.values():
        response = definitions[policy["$ref"]] if "$ref" in policy else policy
        response = response["applies_when"].get("response", {})
        if "service_error_code" in response:
            out.add((response["service_error_code"], response["http_status_code"]))
    return out


@pytest.mark.parametrize("service", sorted(SERVICE_CALLS))
def test_each_call_is_identified_as_botocore_sends_it(fault_proxy, service):
    operation, params = SERVICE_CALLS[service]
    aws_client = client(fault_proxy, service, attempts=1)
    seen = []

    def record(request, **_):  # what botocore puts on the wire, as the proxy will read it
        url = urlsplit(request.url)
        target = url.path + (f"?{url.query}" if url.query else "")
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        seen.append(identify(request.method, target, headers, body))

    aws_client.meta.events.register("before-send", record)

    call(aws_client, operation, params)

    model = aws_client.meta.service_model
    assert [c.name for c in seen] == [f"{service}:{operation}"]
    assert seen[0].protocol == model.resolved_protocol
    assert (service in QUERY_COMPATIBLE) == ("awsQueryCompatible" in model.metadata)
    assert fault_proxy.stats.operations() == [f"{service}:{operation}"]


@pytest.mark.parametrize("service", sorted(SERVICE_CALLS))
def test_throttle_answer_is_what_botocore_takes_for_throttling(fault_proxy, service):
    operation, params = SERVICE_CALLS[service]
    aws_client = client(fault_proxy, service, attempts=1)
    fault_proxy.configure([Rule(Fault.THROTTLE)])

    with pytest.raises(ClientError) as raised:
        call(aws_client, operation, params)

    response = raised.value.response
    code, status = response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]
    assert (code, status) in throttling_responses(service)
    context = standard.RetryContext(attempt_number=1, parsed_response=response,
                                    operation_model=aws_client.meta.service_model.operation_model(operation))
    assert standard.ThrottlingErrorDetector(None).is_throttling_error_from_context(context)
    assert standard.StandardRetryConditions(max_attempts=5).is_retryable(context)


@pytest.mark.parametrize("service", sorted(SERVICE_CALLS))
def test_standard_retry_mode_retries_each_injected_throttle(fault_proxy, service):
    operation, params = SERVICE_CALLS[service]
    name = f"{service}:{operation}"
    fault_proxy.configure([Rule(Fault.THROTTLE, operations=frozenset({name}), limit=3)])

    call(client(fault_proxy, service, attempts=4), operation, params)

    assert fault_proxy.stats.calls(name) == 4
    assert fault_proxy.stats.faults(name, Fault.THROTTLE) == 3
    assert fault_proxy.stats.forwarded(name) == 1


@pytest.mark.parametrize("service", ["ecs", "elbv2", "ec2", "route53"])
@pytest.mark.parametrize("fault", [Fault.ERROR_500, Fault.ERROR_503, Fault.RESET_BEFORE, Fault.RESET_AFTER])
def test_standard_retry_mode_retries_server_errors_and_resets(fault_proxy, service, fault):
    operation, params = SERVICE_CALLS[service]
    name = f"{service}:{operation}"
    fault_proxy.configure([Rule(fault, limit=2)])

    call(client(fault_proxy, service, attempts=3), operation, params)

    assert fault_proxy.stats.calls(name) == 3
    assert fault_proxy.stats.faults(name, fault) == 2
    assert fault_proxy.stats.forwarded(name) == (3 if fault is Fault.RESET_AFTER else 1)


@pytest.mark.parametrize("fault,status", [(Fault.ERROR_500, 500), (Fault.ERROR_503, 503)])
def test_server_errors_carry_the_services_own_error_body(fault_proxy, fault, status):
    fault_proxy.configure([Rule(fault)])

    with pytest.raises(ClientError) as raised:
        client(fault_proxy, "elbv2", attempts=1).describe_load_balancers()

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert raised.value.response["Error"]["Code"] == ("InternalFailure" if status == 500 else "ServiceUnavailable")
    assert raised.value.response["Error"]["Message"]


def test_retries_stop_at_max_attempts_when_every_call_is_throttled(fault_proxy):
    fault_proxy.configure([Rule(Fault.THROTTLE)])

    with pytest.raises(ClientError) as raised:
        client(fault_proxy, "ecs", attempts=3).list_clusters()

    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert fault_proxy.stats.calls("ecs:ListClusters") == 3
    assert fault_proxy.stats.forwarded("ecs:ListClusters") == 0


def test_reset_after_apply_loses_the_answer_but_the_change_is_applied(fault_proxy, aws):
    fault_proxy.configure([Rule(Fault.RESET_AFTER)])

    with pytest.raises(HTTPClientError):
        client(fault_proxy, "ecs", attempts=1).create_cluster(clusterName="applied")

    assert [c.rsplit("/", 1)[1] for c in aws.client("ecs").list_clusters()["clusterArns"]] == ["applied"]
    assert fault_proxy.stats.forwarded("ecs:CreateCluster") == 1


def test_reset_before_the_server_saw_the_call_changes_nothing(fault_proxy, aws):
    fault_proxy.configure([Rule(Fault.RESET_BEFORE)])

    with pytest.raises(HTTPClientError):
        client(fault_proxy, "ecs", attempts=1).create_cluster(clusterName="never")

    assert aws.client("ecs").list_clusters()["clusterArns"] == []
    assert fault_proxy.stats.forwarded("ecs:CreateCluster") == 0


def test_a_retried_reset_after_apply_makes_the_server_see_the_write_twice(fault_proxy, aws):
    fault_proxy.configure([Rule(Fault.RESET_AFTER, limit=1)])

    client(fault_proxy, "ecs", attempts=2).create_cluster(clusterName="twice")

    assert fault_proxy.stats.forwarded("ecs:CreateCluster") == 2
    # CreateCluster of an existing name returns it (in AWS too): one cluster, however many times applied
    assert [c.rsplit("/", 1)[1] for c in aws.client("ecs").list_clusters()["clusterArns"]] == ["twice"]


def test_fixed_latency_is_added_to_every_call(fault_proxy):
    ecs = client(fault_proxy, "ecs", attempts=1)
    ecs.list_clusters()  # connection and credentials set up outside the timing
    fault_proxy.configure(latency=0.05)

    start = time.perf_counter()
    for _ in range(10):
        ecs.list_clusters()
    elapsed = time.perf_counter() - start

    assert elapsed >= 10 * 0.05
    assert fault_proxy.stats.calls("ecs:ListClusters") == 11
    assert fault_proxy.stats.faults() == 0


def test_slow_answers_delay_only_the_chosen_operation(fault_proxy):
    fault_proxy.configure([Rule(Fault.SLOW, operations=frozenset({"ecs:ListClusters"}), delay=0.3)])
    ecs = client(fault_proxy, "ecs", attempts=1)

    start = time.perf_counter()
    ecs.list_clusters()
    slow = time.perf_counter() - start
    ecs.describe_clusters(clusters=["none"])

    assert slow >= 0.3
    assert fault_proxy.stats.faults("ecs:ListClusters", Fault.SLOW) == 1
    assert fault_proxy.stats.faults("ecs:DescribeClusters") == 0
    assert fault_proxy.stats.forwarded() == 2


def _outcomes(aws_client, operation: str, params: dict, n: int) -> list[str]:
    out = []
    for _ in range(n):
        try:
            call(aws_client, operation, params)
            out.append("ok")
        except ClientError as exc:
            out.append(exc.response["Error"]["Code"])
    return out


def test_rates_are_honoured_per_operation(fault_proxy):
    fault_proxy.configure([Rule(Fault.THROTTLE, rate=0.25, operations=frozenset({"ecs:ListClusters"})),
                           Rule(Fault.ERROR_503, rate=0.1, operations=frozenset({"elbv2:*"}))])
    ecs, elbv2 = client(fault_proxy, "ecs", attempts=1), client(fault_proxy, "elbv2", attempts=1)
    n = 300

    listed = _outcomes(ecs, "ListClusters", {}, n)
    described = _outcomes(ecs, "DescribeClusters", {"clusters": ["x"]}, n)
    balancers = _outcomes(elbv2, "DescribeLoadBalancers", {}, n)

    stats = fault_proxy.stats
    assert 0.17 <= listed.count("ThrottlingException") / n <= 0.33  # 0.25 +- 3 standard deviations
    assert stats.faults("ecs:ListClusters") == listed.count("ThrottlingException")
    assert described == ["ok"] * n and stats.faults("ecs:DescribeClusters") == 0
    assert 0.05 <= balancers.count("ServiceUnavailable") / n <= 0.15
    assert stats.calls("ecs:ListClusters") == stats.calls("elbv2:DescribeLoadBalancers") == n


def test_the_same_seed_repeats_the_same_faults(fault_proxy):
    ecs = client(fault_proxy, "ecs", attempts=1)
    runs = []
    for seed in (3, 3, 4):
        fault_proxy.configure(mixed_faults(0.5, operations=["ecs:*"], delay=0.0), seed=seed)
        runs.append(_outcomes_with_resets(ecs, 40))

    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def _outcomes_with_resets(ecs, n: int) -> list[str]:
    out = []
    for _ in range(n):
        try:
            ecs.list_clusters()
            out.append("ok")
        except ClientError as exc:
            out.append(exc.response["Error"]["Code"])
        except HTTPClientError:
            out.append("reset")
    return out


def test_mixed_faults_split_the_rate_over_every_kind():
    rules = mixed_faults(0.2)

    assert {r.fault for r in rules} == set(Fault)
    assert sum(r.rate for r in rules) == pytest.approx(0.2)


def test_route53_operations_are_named_from_the_rest_path(fault_proxy):
    model = boto3.client("route53", region_name="us-east-1").meta.service_model
    for method, path, operation in ROUTE53_ROUTES:
        http = model.operation_model(operation).http
        assert (http["method"], http["requestUri"].rstrip("/")) == (method, path)

    route53 = client(fault_proxy, "route53", attempts=1)
    zone = route53.create_hosted_zone(Name="example.com", CallerReference="1")["HostedZone"]["Id"]
    change = route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {"Name": "a.example.com", "Type": "CNAME", "TTL": 60,
                                                  "ResourceRecords": [{"Value": "b.example.com"}]}}]})
    route53.get_change(Id=change["ChangeInfo"]["Id"])
    route53.list_resource_record_sets(HostedZoneId=zone)
    route53.get_hosted_zone(Id=zone)
    route53.list_hosted_zones_by_name(DNSName="example.com")

    assert fault_proxy.stats.operations() == sorted(f"route53:{op}" for op in (
        "CreateHostedZone", "ChangeResourceRecordSets", "GetChange", "ListResourceRecordSets", "GetHostedZone",
        "ListHostedZonesByName"))


def test_the_proxy_fronts_only_a_loopback_endpoint():
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy("http://10.1.2.3:5000")
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy("https://ecs.us-east-1.amazonaws.com")
