"""The planning context: what a strategy plans from, and what it reports back besides steps.

`decide` compares what the live color runs (`Current`, read by the compute side) with what the
spec and the requested image ask for; nothing is planned when they already match. `Refused` is how
any part of the planner says the live infrastructure cannot support the strategy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bluegreen.domain.colors import Color
from bluegreen.domain.plan import Change
from bluegreen.domain.snapshot import Snapshot, TargetGroup
from bluegreen.domain.spec import SECRET_LOOKING, Check, EcsService, EcsServices, Health, Spec, Strategy
from bluegreen.domain.steps import Probe


class Refused(Exception):
    """The live infrastructure cannot support the strategy; the message names what is missing."""


@dataclass(frozen=True)
class Current:
    """What the live color runs now, in the terms the spec can change."""

    image: str | None
    environment: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    cpu: int | None = None
    memory: int | None = None


@dataclass
class Context:
    """What a strategy needs to plan one service, and what it reports back besides steps."""

    spec: Spec
    snapshot: Snapshot
    strategy: Strategy
    requested_image: str | None  # repository@sha256:... asked for; None keeps the live image
    image: str | None = None  # what will be deployed, once `decide` found something to change
    live_color: Color | None = None
    current: Current | None = None
    changes: list[Change] = field(default_factory=list)
    state: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)
    rollback: list[str] = field(default_factory=list)
    hooks_by_aws: set[str] = field(default_factory=set)  # the spec's hooks AWS's own engine runs (or refused)

    @property
    def target_color(self) -> Color | None:
        return self.live_color.other if self.live_color is not None else None

    @property
    def health(self) -> Health:
        return self.spec.health

    def checks_enabled(self, check: Check) -> bool:
        chosen = self.spec.health.checks
        return chosen is None or check in chosen

    def probe(self) -> Probe | None:
        http = self.spec.health.http
        if http is None or not self.checks_enabled(Check.HTTP):
            return None
        return Probe(url=http.url, expected_status=list(http.expected_status),
                     body_contains=http.body_contains, timeout=http.timeout)

    def alarms(self) -> list[str]:
        return list(self.spec.health.alarms) if self.checks_enabled(Check.ALARMS) else []

    def target_group(self, name: str) -> TargetGroup:
        tg = self.snapshot.target_groups.get(name)
        if tg is None:
            raise Refused(f"target group {name} not found")
        return tg

    def hold(self) -> float:
        """How long each traffic step holds: linear's interval, else the bake time."""
        return self.spec.hold()

    def new_image(self) -> str:
        """The image to deploy; only known once `decide` found something to change."""
        if self.image is None:
            raise Refused("there is no image to deploy: pass --image-tag")
        return self.image


def masked(name: str, value: str | None) -> str | None:
    """Values of secret-looking names are never shown, even when a live revision holds them literally."""
    return "****" if value is not None and SECRET_LOOKING.search(name) else value


def changes(spec: Spec, requested_image: str | None, current: Current) -> list[Change]:
    """What differs between the live color and what the spec and the requested image ask for."""
    out: list[Change] = []
    if requested_image and requested_image != current.image:
        out.append(Change(field="image", before=current.image, after=requested_image))
    ecs = spec.ecs
    if isinstance(ecs, (EcsService, EcsServices)):
        for key, value in sorted(ecs.environment.items()):
            if current.environment.get(key) != value:
                out.append(Change(field=f"environment.{key}", before=masked(key, current.environment.get(key)),
                                  after=masked(key, value)))
        for key, ref in sorted(ecs.secrets.items()):
            if current.secrets.get(key) != ref:
                out.append(Change(field=f"secrets.{key}", before=current.secrets.get(key), after=ref))
        for name, wanted, live in (("cpu", ecs.cpu, current.cpu), ("memory", ecs.memory, current.memory)):
            if wanted is not None and wanted != live:
                out.append(Change(field=name, before=None if live is None else str(live), after=str(wanted)))
    return out


def decide(ctx: Context, current: Current) -> bool:
    """Record what changes and which image is deployed; True when there is something to deploy.

    A change with no image to deploy (the live image unknown and no --image-tag) is an error, not
    a plan: a new revision needs an image.
    """
    ctx.current = current
    ctx.changes = changes(ctx.spec, ctx.requested_image, current)
    ctx.image = (ctx.requested_image or current.image) if ctx.changes else None
    if ctx.changes and ctx.image is None:
        ctx.errors.append("the live image is unknown, so the new revision has no image; pass --image-tag")
    return bool(ctx.changes) and ctx.image is not None
