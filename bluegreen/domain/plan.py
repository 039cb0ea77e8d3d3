"""A plan: plain, versioned data. Rendered as text/Markdown/JSON, saved, and applied later.

The planner makes it; the executor runs its steps; renderers only read it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bluegreen.errors import InvalidInput
from bluegreen.domain.spec import Strategy
from bluegreen.domain.steps import Step

FORMAT_VERSION = 1


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ImageRef(_Data):
    repository: str
    repository_uri: str | None = None
    tag: str | None = None
    digest: str | None = None

    @property
    def pinned(self) -> str | None:
        """The reference deployed: always by digest, never by a mutable tag."""
        if not self.digest:
            return None
        return f"{self.repository_uri or self.repository}@{self.digest}"


class Change(_Data):
    field: str
    before: str | None
    after: str | None


class PreflightCheck(_Data):
    name: str
    ok: bool | None  # None: could not be known (offline)
    detail: str = ""


class TrafficStep(_Data):
    percent: int  # green's share of production traffic
    hold: float  # seconds the step holds with gates


class Budget(_Data):
    phase: str
    seconds: float
    basis: str


class Plan(_Data):
    format: Literal["bluegreen-plan"] = "bluegreen-plan"
    format_version: int = FORMAT_VERSION
    service: str
    spec_path: str
    spec_digest: str
    region: str
    strategy: Strategy | None
    strategy_reasons: list[str] = Field(default_factory=list)
    live_color: Literal["blue", "green"] | None = None
    target_color: Literal["blue", "green"] | None = None
    state: list[str] = Field(default_factory=list)  # the live color and weights: state, not drift
    image: ImageRef | None = None
    changes: list[Change] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    after_rollback: list[Step] = Field(default_factory=list)  # hooks run once a rollback has finished
    traffic: list[TrafficStep] = Field(default_factory=list)
    gates: list[str] = Field(default_factory=list)
    rollback: list[str] = Field(default_factory=list)
    checks: list[PreflightCheck] = Field(default_factory=list)
    budgets: list[Budget] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    unknowns: list[str] = Field(default_factory=list)  # what an offline plan could not know
    facts: dict[str, str] = Field(default_factory=dict)
    fingerprint: str = ""
    offline: bool = False
    keep_warm_seconds: float = 0.0
    created_at: str = ""

    @property
    def has_changes(self) -> bool:
        return bool(self.changes) or any(step.mutates for step in self.steps)

    @property
    def estimated_seconds(self) -> float:
        return sum(b.seconds for b in self.budgets)

    @property
    def applicable(self) -> bool:
        return not self.errors and not self.offline and self.strategy is not None

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)


class PlanSet(_Data):
    """Plans for every spec of one run (a fleet), as saved with `plan --format json`."""

    format: Literal["bluegreen-plan-set"] = "bluegreen-plan-set"
    format_version: int = FORMAT_VERSION
    plans: list[Plan]


def dump(plans: list[Plan]) -> str:
    return PlanSet(plans=plans).model_dump_json(indent=2)


def load(path: str | Path) -> list[Plan]:
    """Read a saved plan file; a plan from a newer or unknown format is refused, not guessed at."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read plan file: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format") != "bluegreen-plan-set":
        raise InvalidInput(f"{path}: not a bluegreen plan file (expected format 'bluegreen-plan-set')")
    if raw.get("format_version") != FORMAT_VERSION:
        raise InvalidInput(f"{path}: plan format version {raw.get('format_version')} is not {FORMAT_VERSION}; re-run plan")
    try:
        return PlanSet.model_validate(raw).plans
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise InvalidInput(f"{path}: invalid plan file at {where}: {first['msg']}") from None


def plan_schema() -> dict:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://bluegreen.dev/schema/plan-v1.json",
            **PlanSet.model_json_schema(mode="serialization")}
