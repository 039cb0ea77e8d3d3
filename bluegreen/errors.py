"""One exception family, one exit-code table (PRODUCT.md). The CLI maps these in one place."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    DEPLOY_FAILED_ROLLED_BACK = 1
    INVALID_INPUT = 2
    ROLLBACK_INCOMPLETE = 3
    LOCKED = 4
    CHANGES_PENDING = 5
    NOTHING_CHANGED = 6  # an error before any change was made (AWS unreachable or denied, unexpected)


class BluegreenError(Exception):
    """Base of every error the CLI reports without a traceback."""

    # Only `DeploymentFailed` may say "traffic restored" (1); anything else claims nothing changed.
    exit_code: ExitCode = ExitCode.NOTHING_CHANGED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(BluegreenError):
    """Bad spec, bad flags, or a plan the live infrastructure cannot support. Nothing was changed."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class DeploymentFailed(BluegreenError):
    """The deployment failed and production traffic is back on blue."""

    exit_code = ExitCode.DEPLOY_FAILED_ROLLED_BACK


class RollbackIncomplete(BluegreenError):
    """The deployment failed and the rollback did not complete: a person must look."""

    exit_code = ExitCode.ROLLBACK_INCOMPLETE


class LockHeld(BluegreenError):
    """Another deployment of the same service holds the lock."""

    exit_code = ExitCode.LOCKED


class AwsError(BluegreenError):
    """An AWS call failed before anything was changed. `operation` names the call, `code` AWS's error code."""

    exit_code = ExitCode.NOTHING_CHANGED

    def __init__(self, message: str, *, operation: str, code: str | None = None) -> None:
        super().__init__(message)
        self.operation = operation
        self.code = code


class AwsUnavailable(AwsError):
    """AWS could not be reached, did not answer in time, or kept throttling past the retries."""


class AwsDenied(AwsError):
    """AWS refused the credentials or the permission (missing, expired, or not allowed by IAM)."""


class AwsRequestFailed(AwsError):
    """Any other AWS error (a missing resource, a conflict, a request AWS found invalid)."""


class StepFailed(Exception):
    """Raised inside the executor by a step or gate; turned into a rollback, never shown raw."""
