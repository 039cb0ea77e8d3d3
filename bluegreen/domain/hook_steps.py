"""The plan step of a hook: run the user's command, Lambda or one-off ECS task, and let it decide.

A hook observes and decides; what it changes (a database migration) is the user's and has no
inverse, so the step does not count as a change of bluegreen's and a rollback never undoes it.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from bluegreen.domain.durations import format_duration
from bluegreen.domain.step_base import _Step

HookKind = Literal["command", "lambda", "ecs-task"]


class RunHook(_Step):
    kind: Literal["run-hook"] = "run-hook"
    mutates: ClassVar[bool] = False
    hook: str  # the spec's hook name
    hook_kind: HookKind
    stage: str
    timeout: float
    on_timeout: Literal["fail", "continue"] = "fail"
    when: str = ""  # e.g. "before production traffic 10%", for the plan
    command: list[str] = Field(default_factory=list)  # command, or the ECS container's command override
    function: str | None = None  # lambda
    cluster: str | None = None  # ecs-task: where the service runs
    service: str | None = None  # ecs-task: whose network configuration the task uses
    task_definition: str | None = None  # ecs-task: ARN or @step-id of the new revision
    container: str | None = None  # ecs-task: the container whose command is overridden
    facts: dict[str, str] = Field(default_factory=dict)  # known at plan time; BLUEGREEN_* / the payload

    def describe(self) -> str:
        what = {
            "command": f"command `{' '.join(self.command)}`",
            "lambda": f"Lambda {self.function}",
            "ecs-task": f"one-off ECS task of the new revision in {self.cluster} ({self.container}: "
                        f"`{' '.join(self.command)}`)",
        }[self.hook_kind]
        when = self.when or self.stage
        return (f"hook {self.hook} ({when}): {what}, timeout {format_duration(self.timeout)}, "
                f"on timeout {self.on_timeout}")

    def budget(self) -> float:
        return min(self.timeout, 30.0)
