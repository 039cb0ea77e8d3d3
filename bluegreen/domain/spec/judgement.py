"""The spec's `judgement` section: where a deployment stops for a person's decision.

A pause names a plan step (its id as the plan shows it, e.g. `shift-50`); the deployment stops
before it, and `promote` continues to the next pause (or `--full` to the end) while `abort` rolls
back. With `auto_promote_after` (Argo Rollouts' autoPromotionSeconds) the deploy waits at each
pause for that long, counting down, and then promotes itself.
"""

from __future__ import annotations

from pydantic import Field

from bluegreen.domain.durations import Duration
from bluegreen.domain.spec.base import Model


class Judgement(Model):
    pause_before: list[str] = Field(
        default_factory=list, description="Step ids (as the plan shows them, e.g. shift-50 or bake-10) to pause "
                                          "before; `shift` is the first traffic step.")
    auto_promote_after: Duration | None = Field(
        None, description="Wait this long at each pause (counting down in `status`), then promote by itself.")
