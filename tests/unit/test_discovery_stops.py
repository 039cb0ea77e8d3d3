"""When every further read would fail the same way, discovery stops with one of our errors (exit 6)
instead of a plan full of "could not read" findings: AWS unreachable, throttling past botocore's
retries, credentials refused. No emulator: a closed loopback port, or answers injected into the
client before it sends anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bluegreen.adapters.aws.session import Aws
from bluegreen.app.discover import discover
from bluegreen.errors import AwsDenied, AwsUnavailable, ExitCode
from bluegreen.specfiles.loader import load_spec

DEPLOYMENTS = Path(__file__).resolve().parents[2] / "deployments"
CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens, the connection is refused at once
ROUND_ONE = {"ecs:DescribeServices", "application-autoscaling:DescribeScalableTargets", "elbv2:DescribeTargetGroups",
             "cloudwatch:DescribeAlarms", "ecr:DescribeRepositories"}  # what the worker example reads first


@pytest.fixture
def offline_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Aws:
    """Our adapter on a closed loopback port, with made-up credentials and no instance metadata lookups."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": str(tmp_path / "none"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    return Aws("us-east-1", endpoint_url=CLOSED_PORT, max_attempts=1)


def worker():
    return load_spec(DEPLOYMENTS / "worker.yaml").spec


def answer_every_call_with(aws: Aws, code: str, status: int) -> None:
    """Every call of the worker's services gets this error answer, as botocore would parse it."""
    class Answer:
        status_code = status

    def refuse(**_: Any) -> tuple[Any, dict[str, Any]]:
        return Answer(), {"Error": {"Code": code, "Message": f"injected {code}"},
                          "ResponseMetadata": {"HTTPStatusCode": status}}

    for service in ("ecs", "application-autoscaling", "elbv2", "cloudwatch", "ecr"):
        aws.client(service).meta.events.register("before-call", refuse)


def test_an_unreachable_endpoint_stops_discovery_after_the_first_round(offline_aws):
    with pytest.raises(AwsUnavailable) as raised:
        discover(offline_aws, [worker()])

    error = raised.value
    assert error.exit_code == ExitCode.NOTHING_CHANGED
    assert error.operation in {call.split(":")[1] for call in ROUND_ONE}
    assert "AWS did not answer (EndpointConnectionError" in error.message and CLOSED_PORT in error.message
    assert "\n" not in error.message
    assert set(offline_aws.log.calls) <= ROUND_ONE  # no second round: no task definition, no target health


def test_throttling_past_the_retries_stops_discovery(offline_aws):
    answer_every_call_with(offline_aws, "ThrottlingException", 400)

    with pytest.raises(AwsUnavailable) as raised:
        discover(offline_aws, [worker()])

    assert "kept throttling past the retries (ThrottlingException: injected ThrottlingException)" in raised.value.message
    assert raised.value.code == "ThrottlingException"
    assert set(offline_aws.log.calls) <= ROUND_ONE


def test_refused_credentials_stop_discovery_as_denied(offline_aws):
    answer_every_call_with(offline_aws, "ExpiredTokenException", 403)

    with pytest.raises(AwsDenied) as raised:
        discover(offline_aws, [worker()])

    assert raised.value.exit_code == ExitCode.NOTHING_CHANGED
    assert "access denied (ExpiredTokenException: injected ExpiredTokenException)" in raised.value.message
    assert set(offline_aws.log.calls) <= ROUND_ONE


def test_an_action_iam_forbids_is_a_finding_not_a_stop(offline_aws):
    answer_every_call_with(offline_aws, "AccessDeniedException", 400)

    snap = discover(offline_aws, [worker()])["worker"]

    subjects = {f.subject: f.message for f in snap.findings}
    assert subjects["ecs service worker"] == (
        "could not read ecs service worker: DescribeServices failed: AccessDeniedException: "
        "injected AccessDeniedException")
    assert "DescribeTargetGroups failed: AccessDeniedException" in subjects["target group worker"]
    assert "DescribeAlarms failed: AccessDeniedException" in subjects["alarm worker-dlq-depth"]
    assert "DescribeRepositories failed: AccessDeniedException" in subjects["ecr repository worker"]
    assert all(f.severity == "error" for f in snap.findings)
