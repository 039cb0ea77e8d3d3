"""The base of every plan step (see `steps.py` for the closed set, `hook_steps.py` for hooks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from bluegreen.domain.steps import Step

Phase = Literal["preflight", "prepare", "rollout", "shift", "verify", "finalize"]


class Probe(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    url: str
    expected_status: list[int]
    body_contains: str | None = None
    timeout: float = 5.0


class _Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    phase: Phase
    # Mutating steps change AWS and may need an inverse; gates only observe.
    mutates: ClassVar[bool] = True
    # A run may stop before it and continue later; not before a step that only follows what AWS does by itself.
    pausable: ClassVar[bool] = True

    def describe(self) -> str:  # pragma: no cover - every step overrides
        raise NotImplementedError

    def inverse(self) -> "Step | None":
        return None

    def budget(self) -> float:
        """Expected seconds (not the deadline) for the duration estimate."""
        return 2.0

    def target_key(self) -> str | None:
        """Steps with the same key set the same thing; only the last one applied matters."""
        return None
