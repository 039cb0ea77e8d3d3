"""What an AWS call looks like on the wire, for the fault proxy (`faults.py`): which service and
operation a request is, in which protocol, and the error answers AWS sends in that protocol.

Written from the request alone (no botocore here: only `adapters/` imports it). The facts it uses,
the protocols, throttling codes and statuses, are checked against botocore's service models and
`_retry.json` by `tests/test_faults.py`, so botocore's standard retry mode really takes a throttle
from here for a throttle.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import parse_qs, urlsplit

# botocore service name by SigV4 signing name, where the two differ. Classic ELB and ELBv2 share
# one signing name and are told apart by the API version each request carries.
_BY_SIGNING_NAME = {"monitoring": "cloudwatch", "email": "ses", "states": "stepfunctions"}
_ELB_BY_VERSION = {"2015-12-01": "elbv2", "2012-06-01": "elb"}

# botocore service name by X-Amz-Target prefix, for JSON calls that are not signed.
_BY_TARGET_PREFIX = {
    "AmazonEC2ContainerServiceV20141113": "ecs",
    "AmazonEC2ContainerRegistry_V20150921": "ecr",
    "DynamoDB_20120810": "dynamodb",
    "GraniteServiceVersion20100801": "cloudwatch",
    "CodeDeploy_20141006": "codedeploy",
    "AnyScaleFrontendService": "application-autoscaling",
    "AmazonSSM": "ssm",
    "secretsmanager": "secretsmanager",
    "AWSEvents": "events",
    "Logs_20140328": "logs",
}

# JSON services that were query services first: AWS adds the old query error code in a header.
QUERY_COMPATIBLE = frozenset({"cloudwatch", "sqs"})
REST_XML = frozenset({"route53", "s3", "cloudfront"})

# Route53 is rest-xml: the operation is the method and the path (botocore's requestUri templates).
ROUTE53_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/2013-04-01/hostedzone/{Id}/rrset", "ChangeResourceRecordSets"),
    ("GET", "/2013-04-01/hostedzone/{Id}/rrset", "ListResourceRecordSets"),
    ("GET", "/2013-04-01/hostedzone/{Id}", "GetHostedZone"),
    ("POST", "/2013-04-01/hostedzone/{Id}", "UpdateHostedZoneComment"),
    ("DELETE", "/2013-04-01/hostedzone/{Id}", "DeleteHostedZone"),
    ("GET", "/2013-04-01/hostedzone", "ListHostedZones"),
    ("POST", "/2013-04-01/hostedzone", "CreateHostedZone"),
    ("GET", "/2013-04-01/hostedzonesbyname", "ListHostedZonesByName"),
    ("GET", "/2013-04-01/hostedzonecount", "GetHostedZoneCount"),
    ("GET", "/2013-04-01/change/{Id}", "GetChange"),
    ("GET", "/2013-04-01/healthcheck/{HealthCheckId}/status", "GetHealthCheckStatus"),
    ("GET", "/2013-04-01/healthcheck/{HealthCheckId}", "GetHealthCheck"),
    ("POST", "/2013-04-01/healthcheck/{HealthCheckId}", "UpdateHealthCheck"),
    ("DELETE", "/2013-04-01/healthcheck/{HealthCheckId}", "DeleteHealthCheck"),
    ("GET", "/2013-04-01/healthcheck", "ListHealthChecks"),
    ("POST", "/2013-04-01/healthcheck", "CreateHealthCheck"),
    ("GET", "/2013-04-01/tags/{ResourceType}/{ResourceId}", "ListTagsForResource"),
    ("POST", "/2013-04-01/tags/{ResourceType}/{ResourceId}", "ChangeTagsForResource"),
)


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[A-Za-z]+\\\}", "[^/]+", re.escape(template)) + "/?$")


_ROUTE53 = [(method, _template_regex(path), name) for method, path, name in ROUTE53_ROUTES]
_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/,\s]+/([^/,\s]+)/aws4_request")


@dataclass(frozen=True)
class Call:
    """One request as AWS would see it: `name` is `service:Operation` (botocore's names)."""

    service: str
    operation: str
    protocol: str  # json | query | ec2 | rest-xml | rest-json
    json_version: str = "1.1"
    api_version: str = ""
    method: str = "POST"

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"


def identify(method: str, target: str, headers: Mapping[str, str], body: bytes) -> Call:
    """The service, operation and protocol of a request (`target` is the path with its query)."""
    lower = {k.lower(): v for k, v in headers.items()}
    url = urlsplit(target)
    signing = _signing_name(lower, url.query)
    amz_target = lower.get("x-amz-target")
    if amz_target:
        prefix, _, operation = amz_target.rpartition(".")
        service = _service(signing, {}) or _BY_TARGET_PREFIX.get(prefix, prefix or "unknown")
        version = lower.get("content-type", "").rpartition("application/x-amz-json-")[2][:3] or "1.1"
        return Call(service, operation, "json", json_version=version, method=method)
    params = _query_params(url.query, lower.get("content-type", ""), body)
    if "Action" in params:
        service = _service(signing, params) or "unknown"
        return Call(service, params["Action"], "ec2" if service == "ec2" else "query",
                    api_version=params.get("Version", ""), method=method)
    service = _service(signing, {}) or "unknown"
    protocol = "rest-xml" if service in REST_XML else "rest-json"
    return Call(service, _rest_operation(service, method, url.path), protocol, method=method)


def _signing_name(headers: Mapping[str, str], query: str) -> str | None:
    found = _CREDENTIAL.search(headers.get("authorization", ""))
    if not found and "X-Amz-Credential" in query:  # a presigned URL
        credential = parse_qs(query).get("X-Amz-Credential", [""])[0]
        found = _CREDENTIAL.search(f"Credential={credential}")
    return found.group(1) if found else None


def _service(signing: str | None, params: Mapping[str, str]) -> str | None:
    if signing == "elasticloadbalancing":
        return _ELB_BY_VERSION.get(params.get("Version", ""), "elbv2")
    return _BY_SIGNING_NAME.get(signing, signing) if signing else None


def _query_params(query: str, content_type: str, body: bytes) -> dict[str, str]:
    text = query
    if content_type.startswith("application/x-www-form-urlencoded") and body:
        text = f"{query}&{body.decode('utf-8', 'replace')}"
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _rest_operation(service: str, method: str, path: str) -> str:
    if service == "route53":
        for route_method, pattern, name in _ROUTE53:
            if method == route_method and pattern.match(path):
                return name
    # Unknown REST call: the method and path still tell calls apart for rates and counts.
    return f"{method} {path}"


# --- AWS-shaped error answers ------------------------------------------------------------------

THROTTLE, SERVER_ERROR, UNAVAILABLE = "throttle", "500", "503"


@dataclass(frozen=True)
class ErrorKind:
    status: int
    code: str
    message: str
    query_code: str  # the code a query-era client knows (x-amzn-query-error)
    fault: str  # Sender | Receiver


def error_kind(call: Call, kind: str) -> ErrorKind:
    """The status, code and message AWS answers this call's service with, for one kind of error."""
    if kind == THROTTLE:
        return _throttle(call)
    if call.protocol == "ec2":
        return (ErrorKind(500, "InternalError", "An internal error has occurred.", "InternalError", "Receiver")
                if kind == SERVER_ERROR else
                ErrorKind(503, "Unavailable", "The server is overloaded.", "Unavailable", "Receiver"))
    if kind == SERVER_ERROR:
        code = "InternalError" if call.service == "s3" else "InternalFailure"
        return ErrorKind(500, code, "We encountered an internal error. Please try again.", "InternalFailure",
                         "Receiver")
    return ErrorKind(503, "ServiceUnavailable", "Service is unavailable. Please try again.", "ServiceUnavailable",
                     "Receiver")


def _throttle(call: Call) -> ErrorKind:
    # Each code and status is the one AWS documents for the service (botocore's _retry.json agrees).
    if call.protocol == "ec2":
        return ErrorKind(503, "RequestLimitExceeded", "Request limit exceeded.", "RequestLimitExceeded", "Sender")
    if call.service == "s3":
        return ErrorKind(503, "SlowDown", "Please reduce your request rate.", "SlowDown", "Sender")
    if call.protocol in ("query", "rest-xml"):
        return ErrorKind(400, "Throttling", "Rate exceeded", "Throttling", "Sender")
    if call.protocol == "rest-json":
        code = "TooManyRequestsException" if call.service == "lambda" else "ThrottlingException"
        return ErrorKind(429, code, "Rate exceeded", code, "Sender")
    return ErrorKind(400, "ThrottlingException", "Rate exceeded", "Throttling", "Sender")


def error_answer(call: Call, kind: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of an error answer in the call's own protocol."""
    error = error_kind(call, kind)
    request_id = str(uuid.uuid4())
    if call.protocol == "json":
        headers = {"Content-Type": f"application/x-amz-json-{call.json_version}", "x-amzn-RequestId": request_id}
        if call.service in QUERY_COMPATIBLE:
            headers["x-amzn-query-error"] = f"{error.query_code};{error.fault}"
        code = error.code
        if call.service == "dynamodb":
            code = f"com.amazonaws.dynamodb.v20120810#{code}"  # DynamoDB names its error types in full
        return error.status, headers, json.dumps({"__type": code, "message": error.message}).encode()
    if call.protocol == "rest-json":
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id,
                   "x-amzn-ErrorType": error.code}
        return error.status, headers, json.dumps({"message": error.message}).encode()
    headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
    if call.method == "HEAD":  # no body: the client goes by the status alone
        return error.status, headers, b""
    return error.status, headers, _xml(call, error, request_id).encode()


def _xml(call: Call, error: ErrorKind, request_id: str) -> str:
    if call.protocol == "ec2":
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                f"<Code>{error.code}</Code><Message>{error.message}</Message>"
                f"</Error></Errors><RequestID>{request_id}</RequestID></Response>")
    if call.service == "s3":
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
                f"<Code>{error.code}</Code><Message>{error.message}</Message>"
                f"<RequestId>{request_id}</RequestId></Error>")
    version = call.api_version or ("2013-04-01" if call.service == "route53" else "")
    namespace = f"https://{call.service}.amazonaws.com/doc/{version}/"
    return (f'<ErrorResponse xmlns="{namespace}"><Error><Type>{error.fault}</Type>'
            f"<Code>{error.code}</Code><Message>{error.message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>")
