"""The one place boto3 clients are made: endpoint, throttling retries, call recording."""

from __future__ import annotations

from botocore.awsrequest import AWSResponse

from bluegreen.adapters.aws.session import Aws, iam_action, is_read_only


class _Headers(dict):
    def get_all(self, name, default=None):  # botocore's header API
        return [self[name]] if name in self else default


def _throttle_first(times: int):
    state = {"left": times}

    def before_send(request, **_):
        if state["left"] > 0:
            state["left"] -= 1
            body = (b'{"__type":"ThrottlingException","message":"Rate exceeded"}')
            return AWSResponse(request.url, 400, _Headers({"Content-Type": "application/x-amz-json-1.1"}),
                               _Raw(body))
        return None

    return before_send, state


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_):
        yield self.body

    def read(self, *_):
        return self.body


def test_throttled_calls_are_retried_by_botocores_own_retry_mode(aws):
    client_aws = Aws("us-east-1", endpoint_url=aws.endpoint_url, max_attempts=5)
    ecs = client_aws.client("ecs")
    handler, state = _throttle_first(2)
    ecs.meta.events.register("before-send.ecs.ListClusters", handler)

    clusters = ecs.list_clusters()

    assert clusters["clusterArns"] == []
    assert state["left"] == 0  # both throttled attempts happened and were retried


def test_every_call_is_recorded_as_service_and_operation(aws):
    client_aws = Aws("us-east-1", endpoint_url=aws.endpoint_url)

    client_aws.client("ecs").list_clusters()
    client_aws.client("elbv2").describe_load_balancers()

    assert client_aws.log.calls == ["ecs:ListClusters", "elbv2:DescribeLoadBalancers"]
    assert [iam_action(c) for c in client_aws.log.calls] == ["ecs:ListClusters", "elasticloadbalancing:DescribeLoadBalancers"]
    assert all(is_read_only(c) for c in client_aws.log.calls)
    assert not is_read_only("elbv2:ModifyListener") and not is_read_only("ecr:GetAuthorizationToken")


def test_sessions_of_one_process_parse_each_service_model_once():
    """One session per region (and per run of an embedding program) must not re-parse megabytes of
    botocore JSON each time: the sessions share one model loader, whose search path stays unique."""
    first, second = Aws("us-east-1", endpoint_url="http://127.0.0.1:9"), Aws("eu-west-1", endpoint_url="http://127.0.0.1:9")
    one, two = first.client("ecs"), second.client("ecs")

    loader = first._session._session.get_component("data_loader")
    assert loader is second._session._session.get_component("data_loader")
    assert one.meta.service_model.service_name == two.meta.service_model.service_name == "ecs"
    assert one.meta.region_name == "us-east-1" and two.meta.region_name == "eu-west-1"
    assert len(loader.search_paths) == len(set(loader.search_paths))
