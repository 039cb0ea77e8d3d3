"""How a run's `Outcome` becomes an exit code (PRODUCT.md's table), in one place for every command."""

from __future__ import annotations

from bluegreen.errors import DeploymentFailed, RollbackIncomplete
from bluegreen.execution.runner import Ending, Outcome


def conclude(outcome: Outcome, *, requested: bool = False) -> int:
    """0, or raise the error whose exit code says where traffic is.

    `requested`: the rollback was asked for (abort, rollback), so rolling back is the success.
    """
    record, reason = outcome.record, outcome.reason.rstrip(". ")
    service = record.service
    match outcome.ending:
        case Ending.SUCCEEDED | Ending.PAUSED | Ending.KEEPING_WARM:
            return 0
        case Ending.ROLLED_BACK:
            if requested:
                return 0
            back_on = record.plan.live_color or "the previous revision"
            raise DeploymentFailed(f"{service}: {reason}. Traffic is back on {back_on}")
        case Ending.ROLLBACK_FAILED:
            raise RollbackIncomplete(f"{service}: {reason}. The rollback did not complete: "
                                     + "; ".join(outcome.failures)
                                     + f". Run `bluegreen status {service}` and `bluegreen rollback {service}`")
        case Ending.FAILED:
            raise RollbackIncomplete(f"{service}: {reason}. Automatic rollback is off: traffic was left as it is; "
                                     f"run `bluegreen rollback {service}`")
        case Ending.LOCK_LOST:
            raise RollbackIncomplete(f"{service}: {reason}. This run undid nothing: the run holding the lock now "
                                     f"owns deployment {record.id}; see `bluegreen status {service}`")
    raise TypeError(f"unknown outcome {outcome.ending!r}")
