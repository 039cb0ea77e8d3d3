"""The spec's policy sections: how traffic shifts, what health means, rollback, and where state lives."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator

from bluegreen.domain.durations import Duration
from bluegreen.domain.spec.base import Model, Name, Percent


class Check(StrEnum):
    ECS_STEADY_STATE = "ecs-steady-state"
    TARGET_HEALTH = "target-health"
    ASG_IN_SERVICE = "asg-in-service"
    HTTP = "http"
    ALARMS = "alarms"


# --- policy ----------------------------------------------------------------------------------


class AllAtOnce(Model):
    mode: Literal["all-at-once"] = Field("all-at-once", description="How production traffic moves to the new color.")

    def weights(self) -> list[int]:
        """Green's share of production traffic after each step."""
        return [100]


class CanaryShift(Model):
    mode: Literal["canary"]
    percentages: list[Percent] = Field(description="Green's share after each step, e.g. [10, 50, 100]")

    @field_validator("percentages")
    @classmethod
    def _increasing_to_100(cls, value: list[int]) -> list[int]:
        if any(b <= a for a, b in zip(value, value[1:])):
            raise ValueError("canary percentages must increase")
        if not value or value[-1] != 100:
            raise ValueError("canary percentages must end at 100")
        return value

    def weights(self) -> list[int]:
        return list(self.percentages)


class LinearShift(Model):
    mode: Literal["linear"]
    step_percent: Percent = Field(description="Percent added per step.")
    interval: Duration | None = Field(None, description="How long each step holds (default: health.bake).")

    def weights(self) -> list[int]:
        return list(range(self.step_percent, 100, self.step_percent)) + [100]


def _shift_mode(value: Any) -> str | None:
    mode = value.get("mode", "all-at-once") if isinstance(value, dict) else getattr(value, "mode", "all-at-once")
    return f"{mode}?" if mode in ("all-at-once", "canary", "linear") else None


Shift = Annotated[
    Union[Annotated[AllAtOnce, Tag("all-at-once?")], Annotated[CanaryShift, Tag("canary?")],
          Annotated[LinearShift, Tag("linear?")]],
    Discriminator(_shift_mode, custom_error_type="shift_mode",
                  custom_error_message="shift.mode must be all-at-once, canary or linear"),
]


class HttpProbe(Model):
    url: str = Field(pattern=r"^https?://[^\s]+$", description="Where the new color answers (e.g. through the test listener).")
    expected_status: list[int] = Field(default_factory=lambda: [200], description="Accepted status code(s).")
    body_contains: str | None = Field(None, description="Text the body must contain.")
    timeout: Duration = Field(5.0, description="Per request.")

    @field_validator("expected_status", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, int) else value


class Health(Model):
    checks: list[Check] | None = Field(None, description="Defaults to every check the strategy supports.")
    http: HttpProbe | None = Field(None, description="HTTP probe of the new color.")
    alarms: list[str] = Field(default_factory=list, description="CloudWatch alarms: any in ALARM fails a gate at once (and refuses to start).")
    deadline: Duration = Field(600.0, description="How long green may take to become healthy.")
    interval: Duration = Field(10.0, description="First wait between health polls (backs off).")
    bake: Duration = Field(60.0, description="How long each traffic step holds with gates.")


class RollbackPolicy(Model):
    automatic: bool = Field(True, description="Roll back by itself on any failed gate, error or interrupt.")
    keep_blue_warm: Duration | None = Field(
        None, description="Defaults to 15m for listener/ASG swaps and 24h for DNS cutovers."
    )


class _StateCommon(Model):
    directory: str = Field(".bluegreen", description="local: where journals, locks and history live; "
                                                     "dynamodb: where the journal falls back to if the table fails.")
    lease: Duration = Field(120.0, description="Lock lease; the running deployment renews it.")


class LocalState(_StateCommon):
    backend: Literal["local"] = Field("local", description="Where locks, journals and history live.")


class DynamoState(_StateCommon):
    backend: Literal["dynamodb"]
    table: Name = Field(description="The table (partition key `pk`, sort key `sk`).")


def _backend(value: Any) -> str | None:
    backend = value.get("backend", "local") if isinstance(value, dict) else getattr(value, "backend", "local")
    return f"{backend}?" if backend in ("local", "dynamodb") else None


State = Annotated[
    Union[Annotated[LocalState, Tag("local?")], Annotated[DynamoState, Tag("dynamodb?")]],
    Discriminator(_backend, custom_error_type="state_backend",
                  custom_error_message="state.backend must be local or dynamodb"),
]


