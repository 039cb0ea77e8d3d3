"""The spec's `hooks`: the user's own checks and jobs (a command, a Lambda, a one-off ECS task) at
named stages of a deployment, each with a timeout and what a timeout means (fail or continue).

A hook decides: a non-zero exit, a Lambda FunctionError or `{"status": "failed"}` answer, or a
one-off task whose essential container exits non-zero fails the deployment at that point (which
rolls back like any failed gate). `after-rollback` hooks run once the rollback has finished and
cannot fail anything any more: they are reported.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator

from bluegreen.domain.durations import Duration
from bluegreen.domain.spec.base import Model, Name


class HookStage(StrEnum):
    BEFORE_SCALE_UP = "before-scale-up"            # the new revision is registered, nothing runs it yet
    AFTER_HEALTHY = "after-healthy"                # the new color is up and passes its health gates
    AFTER_TEST_TRAFFIC = "after-test-traffic"      # after the test listener and the HTTP probe
    BEFORE_PRODUCTION_STEP = "before-production-step"  # before each production traffic step
    AFTER_SHIFT = "after-shift"                    # all production traffic moved and baked
    AFTER_ROLLBACK = "after-rollback"              # a rollback finished (reported, never decides)


class _HookCommon(Model):
    name: Name = Field(description="Names the hook's step in the plan and journal.")
    stage: HookStage = Field(description="When it runs.")
    timeout: Duration = Field(300.0, gt=0, description="How long it may take.")
    on_timeout: Literal["fail", "continue"] = Field(
        "fail", description="fail: a hook that takes too long fails the deployment; continue: it is reported and ignored.")


class CommandHook(_HookCommon):
    """A local command; the deployment's facts are in `BLUEGREEN_*` variables; its exit status decides."""

    kind: Literal["command"] = "command"
    command: list[str] = Field(min_length=1, description="argv, run without a shell, e.g. [./smoke-test, --quick].")

    @field_validator("command", mode="before")
    @classmethod
    def _words(cls, value: object) -> object:
        return value.split() if isinstance(value, str) else value


class LambdaHook(_HookCommon):
    """A synchronous Lambda invocation with the facts as JSON; a FunctionError or `{"status": "failed"}` fails."""

    kind: Literal["lambda"] = "lambda"
    function: str = Field(pattern=r"^[A-Za-z0-9:_./-]{1,170}$", description="Function name or ARN (a qualifier allowed).")


class EcsTaskHook(_HookCommon):
    """A one-off ECS task of the new task definition (e.g. a database migration), run with the service's
    network configuration; the essential container's exit code decides."""

    kind: Literal["ecs-task"] = "ecs-task"
    command: list[str] = Field(min_length=1, description="Command override of the container.")
    container: Name | None = Field(None, description="Container to override (default: platform.ecs.container).")

    @field_validator("command", mode="before")
    @classmethod
    def _words(cls, value: object) -> object:
        return value.split() if isinstance(value, str) else value


def _kind(value: Any) -> str | None:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return f"{kind}?" if kind in ("command", "lambda", "ecs-task") else None


Hook = Annotated[
    Union[Annotated[CommandHook, Tag("command?")], Annotated[LambdaHook, Tag("lambda?")],
          Annotated[EcsTaskHook, Tag("ecs-task?")]],
    Discriminator(_kind, custom_error_type="hook_kind",
                  custom_error_message="hooks[].kind must be command, lambda or ecs-task"),
]


def hook_problems(hooks: list[Any], on_ecs: bool) -> list[tuple[tuple[str | int, ...], str]]:
    """Each hook's name once (it names a step); ecs-task hooks only where ECS runs the new version."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    seen: set[str] = set()
    for i, hook in enumerate(hooks):
        if hook.name in seen:
            problems.append((("hooks", i, "name"), f"hook {hook.name} is listed twice: each hook needs its own name"))
        seen.add(hook.name)
        if isinstance(hook, EcsTaskHook) and not on_ecs:
            problems.append((("hooks", i, "kind"), "an ecs-task hook runs the new task definition: it needs an "
                             "ECS platform (`platform.ecs`)"))
    return problems
