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

    exit_code: ExitCode = ExitCode.DEPLOY_FAILED_ROLLED_BACK

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


class StepFailed(Exception):
    """Raised inside the executor by a step or gate; turned into a rollback, never shown raw."""
