"""The one place AWS errors are recognised, and mapped to ours.

Adapters never parse `response["Error"]["Code"]` themselves: they ask `error_code`, `kind_of`,
`is_not_found`, `is_conflict` or `is_condition_failed`. `describe` is the one-line
"Operation failed: Code: message" discovery puts in a Finding, and `our_error` turns an exception
into one of `bluegreen.errors`' AWS errors (exit 6: nothing was changed).

Where the codes come from (facts read from botocore 1.43 and the AWS API references):

- throttled: botocore's standard retry mode, `botocore/retries/standard.py`
  (`ThrottledRetryableChecker`), and the legacy policies in `botocore/data/_retry.json`
  (Throttling, ThrottlingException, RequestLimitExceeded, ... and any HTTP 429); the classic ELB
  model adds DependencyThrottle. botocore has already retried these when we see them.
- unreachable: the same files' transient errors (`TransientRetryableChecker`: RequestTimeout,
  RequestTimeoutException, HTTP 500/502/503/504, and botocore's `ConnectionError` / `HTTPClientError`
  exceptions: EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError),
  the server faults the service models declare (ecs/ecr ServerException, iam ServiceFailure, elbv2
  HealthUnavailable...) and the "Common Errors" page of every AWS API reference (InternalFailure,
  ServiceUnavailable).
- denied: that "Common Errors" page (AccessDeniedException, ExpiredTokenException,
  IncompleteSignature, InvalidClientTokenId, MissingAuthenticationToken, NotAuthorized,
  OptInRequired, RequestExpired, UnrecognizedClientException), EC2's "Error codes for the Amazon EC2
  API" (AuthFailure, UnauthorizedOperation, Blocked), and botocore's credential exceptions
  (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, TokenRetrievalError, SSOError).
- not found, conflict, invalid: the error shapes of the service models,
  `botocore/data/<service>/<version>/service-2.json` (elbv2 TargetGroupNotFound, ecr
  RepositoryNotFoundException, iam NoSuchEntity, route53 NoSuchHostedZone, ssm ParameterNotFound,
  dynamodb ConditionalCheckFailedException / ResourceInUseException, ...). EC2's model declares no
  error shapes; its `InvalidLaunchTemplateName.NotFoundException`-style codes are on EC2's error-code
  page. The model names follow patterns (`...NotFound`, `NoSuch...`, `...AlreadyExists`,
  `...InUse`, `Invalid...`), so the rules below are patterns plus the codes that break them;
  tests/unit/test_aws_errors.py checks them against every model we call.
"""

from __future__ import annotations

import enum
from typing import Any, Mapping

from bluegreen.errors import AwsDenied, AwsError, AwsRequestFailed, AwsUnavailable


class Kind(enum.Enum):
    NOT_FOUND = "not found"
    CONFLICT = "conflict"  # a condition, a concurrent change or an existing resource stood in the way
    THROTTLED = "throttled"  # still throttled after botocore's retries
    DENIED = "denied"  # credentials missing/expired/invalid, or IAM does not allow it
    UNREACHABLE = "unreachable"  # no connection, a timeout, or AWS answered with a server fault
    INVALID = "invalid request"
    OTHER = "other"


THROTTLED_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
    "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "DependencyThrottle",
})

TRANSIENT_CODES = frozenset({
    "RequestTimeout", "RequestTimeoutException", "InternalFailure", "InternalError", "InternalServerError",
    "InternalServiceError", "InternalServiceException", "ServiceUnavailable", "ServiceUnavailableException",
    "ServerException", "ServiceFailure", "HealthUnavailable", "IDPCommunicationError",
})

DENIED_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "UnauthorizedException",
    "AuthFailure", "Blocked", "BlockedException", "ExpiredToken", "ExpiredTokenException", "RequestExpired",
    "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "IncompleteSignature",
    "MissingAuthenticationToken", "MissingAuthenticationTokenException", "NotAuthorized", "NotAuthorizedException",
    "OptInRequired", "InvalidAccessKeyId", "InvalidToken", "AccessDeniedForDependencyException",
    "OpsItemAccessDeniedException",
})

# The denials that concern the credentials themselves, not one action: every further call fails too.
CREDENTIAL_CODES = frozenset({
    "ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId", "UnrecognizedClientException",
    "SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken", "MissingAuthenticationTokenException",
    "InvalidAccessKeyId", "InvalidToken", "AuthFailure",
})

CONFLICT_CODES = frozenset({
    "ConditionalCheckFailedException", "TransactionCanceledException", "ResourceContention",
    "ScalingActivityInProgress", "UpdateInProgressException", "InstanceRefreshInProgress",
    "IdempotentParameterMismatch", "IdempotentParameterMismatchException", "ResourceExistsException",
    "DeleteConflict", "EntityTemporarilyUnmodifiable", "PreconditionNotMetException",
})
_CONFLICT_SUFFIXES = ("InUse", "InUseException", "AlreadyExists", "AlreadyExistsException", "NotEmpty",
                      "NotEmptyException")
_CONFLICT_PREFIXES = ("Duplicate", "ConcurrentModification", "ClusterContains")

INVALID_CODES = frozenset({
    "ValidationError", "ValidationException", "MissingParameter", "MissingAction", "MalformedQueryString",
    "ClientException", "UnknownOperationException", "SerializationException", "MalformedHttpRequestException",
})
_INVALID_PREFIXES = ("Invalid", "Malformed")

_NOT_FOUND_SUFFIXES = ("NotFound", "NotFoundException", "NotFoundFault")


# --- reading an exception -------------------------------------------------------------------------


def aws_exceptions() -> tuple[type[BaseException], ...]:
    """What an AWS call raises (for `except`): botocore's ClientError and BotoCoreError."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def is_aws_error(exc: BaseException) -> bool:
    return isinstance(exc, aws_exceptions())


def _response(exc: BaseException) -> Mapping[str, Any] | None:
    response = getattr(exc, "response", None)
    return response if isinstance(response, Mapping) else None


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError (None for anything else)."""
    response = _response(exc)
    if response is None:
        return None
    return response.get("Error", {}).get("Code") or None


def http_status(exc: BaseException) -> int | None:
    response = _response(exc)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") if response else None
    return int(status) if status is not None else None


def kind_of(exc: BaseException) -> Kind:
    """What kind of failure `exc` is; anything that is not an AWS error is `Kind.OTHER`."""
    if _response(exc) is not None:  # AWS answered
        return kind_of_code(error_code(exc) or "", http_status(exc))
    from botocore import exceptions as bx

    if isinstance(exc, (bx.ConnectionError, bx.HTTPClientError)):
        return Kind.UNREACHABLE
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError, bx.CredentialRetrievalError,
                        bx.NoAuthTokenError, bx.TokenRetrievalError, bx.SSOError)):
        return Kind.DENIED
    if isinstance(exc, (bx.ParamValidationError, bx.ValidationError, bx.NoRegionError, bx.ProfileNotFound,
                        bx.UnknownServiceError)):
        return Kind.INVALID
    return Kind.OTHER


def _bare(code: str) -> str:
    """EC2 documents some codes as `Client.UnauthorizedOperation`; the prefix says nothing more."""
    return code.split(".", 1)[1] if code.startswith(("Client.", "Server.")) else code


def kind_of_code(code: str, status: int | None = None) -> Kind:
    """The kind of an AWS error answer, from its code (EC2's `Client.`/`Server.` prefix ignored) and status."""
    code = _bare(code)
    if code in THROTTLED_CODES or status == 429:
        return Kind.THROTTLED
    if code in DENIED_CODES:
        return Kind.DENIED
    if code.endswith(_NOT_FOUND_SUFFIXES) or code.startswith("NoSuch") or "DoesNotExist" in code:
        return Kind.NOT_FOUND
    if (code in CONFLICT_CODES or code.endswith(_CONFLICT_SUFFIXES) or code.startswith(_CONFLICT_PREFIXES)
            or "Conflict" in code):
        return Kind.CONFLICT
    if code in TRANSIENT_CODES or (status is not None and status >= 500):
        return Kind.UNREACHABLE
    if status in (401, 403):
        return Kind.DENIED
    if code in INVALID_CODES or code.startswith(_INVALID_PREFIXES) or "Validation" in code:
        return Kind.INVALID
    return Kind.OTHER


def is_not_found(exc: BaseException) -> bool:
    return kind_of(exc) is Kind.NOT_FOUND


def is_conflict(exc: BaseException) -> bool:
    return kind_of(exc) is Kind.CONFLICT


def is_credentials_problem(exc: BaseException) -> bool:
    """Denied because of the credentials (missing, expired, unknown), not because IAM forbids one action."""
    if _response(exc) is not None:
        return _bare(error_code(exc) or "") in CREDENTIAL_CODES
    return kind_of(exc) is Kind.DENIED  # botocore found no usable credentials


def is_condition_failed(exc: BaseException) -> bool:
    """DynamoDB refused a conditional write because the condition was false (not any other conflict)."""
    return error_code(exc) == "ConditionalCheckFailedException"


# --- saying it ----------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def detail(exc: BaseException) -> str:
    """`Code: message` of an AWS answer, else `ExceptionName: text`, on one line."""
    response = _response(exc)
    if response is not None:
        error = response.get("Error", {})
        code = error.get("Code") or f"HTTP {http_status(exc) or '?'}"
        return _one_line(f"{code}: {error.get('Message') or ''}").rstrip(": ")
    return _one_line(f"{type(exc).__name__}: {exc}").rstrip(": ")


def describe(exc: BaseException, operation: str) -> str:
    """`Operation failed: Code: message`; the operation botocore names wins over the caller's."""
    return f"{getattr(exc, 'operation_name', None) or operation} failed: {detail(exc)}"


def our_error(exc: BaseException, operation: str) -> AwsError | None:
    """`exc` as one of our errors (exit 6) with a one-line message naming the operation; None if not AWS's."""
    if not is_aws_error(exc):
        return None
    kind, code = kind_of(exc), error_code(exc)
    operation = getattr(exc, "operation_name", None) or operation
    what = detail(exc)
    if kind is Kind.UNREACHABLE:
        return AwsUnavailable(f"{operation} failed: AWS did not answer ({what}); nothing was changed",
                              operation=operation, code=code)
    if kind is Kind.THROTTLED:
        return AwsUnavailable(f"{operation} failed: AWS kept throttling past the retries ({what}); "
                              "nothing was changed", operation=operation, code=code)
    if kind is Kind.DENIED:
        return AwsDenied(f"{operation} failed: access denied ({what}); check the credentials and the IAM policy "
                         "(`bluegreen iam-policy` prints the one needed); nothing was changed",
                         operation=operation, code=code)
    said = f"{kind.value} ({what})" if kind is not Kind.OTHER else what
    return AwsRequestFailed(f"{operation} failed: {said}; nothing was changed", operation=operation, code=code)
