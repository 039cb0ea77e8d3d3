"""The one place AWS errors are recognised: each kind, checked against botocore's own lists and the
service models we call, and mapped to our errors (exit 6, one line naming the operation)."""

from __future__ import annotations

import json
from pathlib import Path

import botocore
import botocore.session
import pytest
from botocore.exceptions import (
    ClientError, ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, NoCredentialsError,
    ParamValidationError, ReadTimeoutError,
)
from botocore.retries.standard import ThrottledRetryableChecker, TransientRetryableChecker

from bluegreen.adapters.aws.errors import (
    Kind, describe, error_code, is_condition_failed, is_conflict, is_credentials_problem, is_not_found, kind_of,
    kind_of_code, our_error,
)
from bluegreen.errors import AwsDenied, AwsRequestFailed, AwsUnavailable, ExitCode

# every service an adapter calls
SERVICES = ("ecs", "elbv2", "elb", "autoscaling", "ec2", "route53", "cloudwatch", "ecr", "iam", "ssm",
            "secretsmanager", "dynamodb", "sts")


def client_error(code: str, status: int = 400, message: str = "it went wrong", operation: str = "DescribeThing"):
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       operation)


def modeled_error_codes() -> set[str]:
    session = botocore.session.get_session()
    codes = set()
    for service in SERVICES:
        model = session.get_service_model(service)
        for name in model.shape_names:
            shape = model.shape_for(name)
            if shape.metadata.get("exception"):
                codes.add(shape.metadata.get("error", {}).get("code", name))
    return codes


# --- kinds -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code, kind", [
    # the ones our adapters branch on
    ("TargetGroupNotFound", Kind.NOT_FOUND), ("LoadBalancerNotFound", Kind.NOT_FOUND),
    ("ClusterNotFoundException", Kind.NOT_FOUND), ("RepositoryNotFoundException", Kind.NOT_FOUND),
    ("ImageNotFoundException", Kind.NOT_FOUND), ("NoSuchEntity", Kind.NOT_FOUND), ("NoSuchHostedZone", Kind.NOT_FOUND),
    ("ParameterNotFound", Kind.NOT_FOUND), ("ResourceNotFoundException", Kind.NOT_FOUND),
    ("InvalidLaunchTemplateName.NotFoundException", Kind.NOT_FOUND),
    ("InvalidLaunchTemplateId.VersionNotFound", Kind.NOT_FOUND),
    ("ConditionalCheckFailedException", Kind.CONFLICT), ("ResourceInUseException", Kind.CONFLICT),
    ("ResourceInUse", Kind.CONFLICT), ("DuplicateTargetGroupName", Kind.CONFLICT), ("PriorityInUse", Kind.CONFLICT),
    ("ThrottlingException", Kind.THROTTLED), ("Throttling", Kind.THROTTLED), ("RequestLimitExceeded", Kind.THROTTLED),
    ("AccessDenied", Kind.DENIED), ("AccessDeniedException", Kind.DENIED), ("UnauthorizedOperation", Kind.DENIED),
    ("Client.UnauthorizedOperation", Kind.DENIED), ("ExpiredToken", Kind.DENIED),
    ("ExpiredTokenException", Kind.DENIED), ("InvalidClientTokenId", Kind.DENIED),
    ("ValidationError", Kind.INVALID), ("InvalidParameterValue", Kind.INVALID), ("ClientException", Kind.INVALID),
    ("ServiceUnavailable", Kind.UNREACHABLE), ("InternalFailure", Kind.UNREACHABLE),
    ("ServerException", Kind.UNREACHABLE),
    ("LimitExceeded", Kind.OTHER), ("TooManyTargetGroups", Kind.OTHER),
])
def test_aws_answers_are_sorted_by_their_code(code, kind):
    assert kind_of(client_error(code)) is kind


def test_the_http_status_decides_when_the_code_says_nothing():
    assert kind_of(client_error("", 429)) is Kind.THROTTLED
    assert kind_of(client_error("SomethingNew", 503)) is Kind.UNREACHABLE
    assert kind_of(client_error("SomethingNew", 403)) is Kind.DENIED
    assert kind_of(client_error("SomethingNew", 400)) is Kind.OTHER
    assert kind_of(client_error("TargetGroupNotFound", 400)) is Kind.NOT_FOUND


@pytest.mark.parametrize("exc", [
    EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
    ConnectTimeoutError(endpoint_url="http://127.0.0.1:9"),
    ReadTimeoutError(endpoint_url="http://127.0.0.1:9"),
    ConnectionClosedError(endpoint_url="http://127.0.0.1:9"),
], ids=lambda e: type(e).__name__)
def test_no_connection_or_a_timeout_is_unreachable(exc):
    assert kind_of(exc) is Kind.UNREACHABLE
    assert error_code(exc) is None


def test_missing_credentials_are_denied_and_bad_parameters_invalid():
    assert kind_of(NoCredentialsError()) is Kind.DENIED and is_credentials_problem(NoCredentialsError())
    assert kind_of(ParamValidationError(report="Missing required parameter")) is Kind.INVALID
    assert kind_of(ValueError("not AWS")) is Kind.OTHER


def test_only_credential_denials_are_credential_problems():
    assert is_credentials_problem(client_error("ExpiredTokenException", 403))
    assert is_credentials_problem(client_error("AuthFailure", 401))
    assert not is_credentials_problem(client_error("AccessDenied", 403))  # IAM forbids one action
    assert not is_credentials_problem(client_error("UnauthorizedOperation", 403))


def test_the_narrow_predicates_the_adapters_use():
    assert is_condition_failed(client_error("ConditionalCheckFailedException"))
    assert not is_condition_failed(client_error("TransactionConflictException"))
    assert is_conflict(client_error("TransactionConflictException"))
    assert is_not_found(client_error("NoSuchEntity", 404)) and not is_not_found(client_error("AccessDenied", 403))


# --- against botocore's lists and the service models ---------------------------------------------------


def test_every_code_botocore_retries_as_throttling_is_throttled():
    codes = ThrottledRetryableChecker()._throttled_error_codes  # the standard retry mode's own list
    assert codes, "botocore moved its throttling list: read botocore/retries/standard.py again"

    assert {c: kind_of_code(c) for c in codes} == {c: Kind.THROTTLED for c in codes}


def test_every_transient_code_botocore_retries_is_unreachable_or_throttled():
    codes = TransientRetryableChecker()._transient_error_codes

    assert codes and all(kind_of_code(c) in (Kind.UNREACHABLE, Kind.THROTTLED) for c in codes)


def test_every_code_in_botocores_legacy_retry_policies_is_transient_except_a_write_conflict():
    policies = json.loads((Path(botocore.__file__).parent / "data" / "_retry.json").read_text())
    codes = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("service_error_code"), str):
                codes.add(node["service_error_code"])
            for value in node.values():
                walk(value)

    walk(policies["definitions"])
    for service in ("__default__", *SERVICES):  # not S3's or Glacier's, which we never call
        walk(policies["retry"].get(service, {}))
    kinds = {c: kind_of_code(c) for c in codes}

    assert kinds.pop("ReplicatedWriteConflictException") is Kind.CONFLICT
    assert kinds and set(kinds.values()) <= {Kind.THROTTLED, Kind.UNREACHABLE}


def test_the_codes_the_adapters_branch_on_are_real_modeled_errors():
    codes = modeled_error_codes()

    assert {"TargetGroupNotFound", "LoadBalancerNotFound", "ClusterNotFoundException", "RepositoryNotFoundException",
            "ImageNotFoundException", "NoSuchEntity", "NoSuchHostedZone", "ParameterNotFound",
            "ResourceNotFoundException", "ConditionalCheckFailedException", "ResourceInUseException"} <= codes


def test_modeled_errors_that_say_what_they_are_are_classified_so():
    codes = modeled_error_codes()

    says = {
        Kind.NOT_FOUND: [c for c in codes if "NotFound" in c or c.startswith("NoSuch")],
        Kind.CONFLICT: [c for c in codes if c.endswith(("AlreadyExists", "AlreadyExistsException", "InUseException"))],
        Kind.DENIED: [c for c in codes if c.startswith("AccessDenied")],
        Kind.THROTTLED: [c for c in codes if c.startswith("Throttl")],
    }
    assert all(says.values())
    wrong = {c: kind_of_code(c) for kind, names in says.items() for c in names if kind_of_code(c) is not kind}
    assert wrong == {}


# --- our errors ------------------------------------------------------------------------------------


def test_aws_errors_become_ours_with_exit_6_and_one_line_naming_the_operation():
    unreachable = our_error(EndpointConnectionError(endpoint_url="http://127.0.0.1:9/"), "DescribeServices")
    throttled = our_error(client_error("ThrottlingException", operation="DescribeTargetHealth"), "ignored")
    denied = our_error(client_error("AccessDenied", 403, "not allowed\n  to do it"), "DescribeThing")
    missing = our_error(client_error("TargetGroupNotFound"), "DescribeThing")

    assert isinstance(unreachable, AwsUnavailable) and isinstance(throttled, AwsUnavailable)
    assert isinstance(denied, AwsDenied) and isinstance(missing, AwsRequestFailed)
    for error in (unreachable, throttled, denied, missing):
        assert error.exit_code == ExitCode.NOTHING_CHANGED == 6
        assert "\n" not in error.message and error.message.endswith("nothing was changed")
    assert unreachable.message.startswith("DescribeServices failed: AWS did not answer (EndpointConnectionError: ")
    assert "http://127.0.0.1:9/" in unreachable.message
    assert throttled.message.startswith("DescribeTargetHealth failed: AWS kept throttling")  # botocore's name wins
    assert throttled.operation == "DescribeTargetHealth" and throttled.code == "ThrottlingException"
    assert "access denied (AccessDenied: not allowed to do it)" in denied.message
    assert "not found (TargetGroupNotFound: it went wrong)" in missing.message
    assert our_error(ValueError("a bug"), "DescribeThing") is None


def test_a_failed_read_is_described_on_one_line():
    assert describe(client_error("AccessDenied", 403, "no", "DescribeTargetHealth"), "x") == (
        "DescribeTargetHealth failed: AccessDenied: no")
    assert describe(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "DescribeRules") == (
        'DescribeRules failed: EndpointConnectionError: Could not connect to the endpoint URL: "http://127.0.0.1:9"')
    assert describe(client_error("", 500, ""), "GetRole") == "DescribeThing failed: HTTP 500"
