"""The planner: a pure function (spec, snapshot, image tag) -> Plan. It never calls AWS.

It picks the strategy (or checks the one the spec names), checks the live wiring the spec claims
(`wiring`, `controllers`), lets that strategy lay out the steps, and adds what every plan carries:
the pinned image, the changes, pre-flight checks, per-phase time budgets from the live settings,
warnings, and the snapshot's fingerprint for drift checks. Errors are one line per cause (`messages`).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone

from bluegreen.domain.durations import format_duration
from bluegreen.domain.plan import Budget, ImageRef, Plan, TrafficStep
from bluegreen.domain.snapshot import Snapshot
from bluegreen.domain.spec import Check, Spec, Strategy
from bluegreen.domain.steps import Bake, Step
from bluegreen.planning import controllers, messages, wiring
from bluegreen.planning.judgement import UnknownStep, pause_lines
from bluegreen.planning.preflight import WIRING_READS, image_checks, live_checks, settled
from bluegreen.planning.context import Context, Refused
from bluegreen.planning.hooks import with_hooks
from bluegreen.planning.strategies import BY_STRATEGY, STRATEGIES, controlled_choice


@dataclass(frozen=True)
class Choice:
    strategy: Strategy | None
    reasons: list[str]


def choose_strategy(spec: Spec, snapshot: Snapshot | None = None) -> Choice:
    """From the spec's shape, unless the live service is one AWS deploys itself (ECS's built-in blue/green,
    CodeDeploy): then that engine's strategy. The chosen strategy's planner checks the live infrastructure."""
    if spec.strategy is not Strategy.AUTO:
        return Choice(spec.strategy, [f"strategy {spec.strategy.value} is set explicitly in the spec"])
    controlled = controlled_choice(spec, snapshot) if snapshot is not None and not snapshot.offline else None
    if controlled is not None:
        return Choice(controlled[0], [controlled[1]])
    for candidate in STRATEGIES:
        if candidate.fits(spec):
            return Choice(candidate.strategy, [candidate.reason(spec)])
    return Choice(None, ["no strategy fits this spec: give ECS services per color with listener routes, "
                         "one ECS service, an Auto Scaling platform, or a DNS record"])


def image_ref(spec: Spec, snapshot: Snapshot, image_tag: str | None) -> ImageRef | None:
    info = snapshot.image
    if image_tag is None:
        return None
    if info is None:
        return ImageRef(repository=spec.image.repository, tag=image_tag)
    return ImageRef(repository=spec.image.repository, repository_uri=info.repository_uri, tag=image_tag,
                    digest=info.digest if info.tag == image_tag else None)


def make_plan(spec: Spec, snapshot: Snapshot, *, spec_path: str = "", spec_text: str = "",
              image_tag: str | None = None, now: datetime | None = None) -> Plan:
    choice = choose_strategy(spec, snapshot)
    image = image_ref(spec, snapshot, image_tag)
    found = messages.findings(spec, snapshot, "error")
    checks = image_checks(spec, snapshot, image_tag, image)
    ctx = Context(spec=spec, snapshot=snapshot, strategy=choice.strategy or Strategy.AUTO,
                  requested_image=image.pinned if image else None)
    live = not snapshot.offline and not messages.nothing_found(snapshot)
    wired = wiring.checks(spec, snapshot) + controllers.checks(spec, snapshot, choice.strategy) if live else []
    wired = [settled(c, snapshot, WIRING_READS) for c in wired]
    # Steps laid out on wiring known to be wrong would move traffic on a guess: none, and no refusal
    # either (it would restate the wiring, or follow from it).
    miswired = any(c.ok is False for c in wired)
    steps: list[Step] = []
    after_rollback: list[Step] = []
    refusals: list[str] = []
    if choice.strategy is None:
        refusals.append(choice.reasons[0])
    elif snapshot.offline:
        ctx.warnings.append("offline: no live state was read, so no steps can be laid out")
    elif live:
        try:
            steps, after_rollback = with_hooks(ctx, BY_STRATEGY[choice.strategy].plan(ctx))
        except Refused as refusal:
            found, said = messages.with_refusal(found, str(refusal))
            if said and not miswired:
                refusals.append(f"{choice.strategy.value} cannot be used: {refusal}")
        if miswired:
            steps = []
    if steps and spec.judgement.pause_before:
        try:
            ctx.gates += pause_lines(spec.judgement, steps)
        except UnknownStep as unknown:
            ctx.errors.append(f"judgement.pause_before: {unknown}")
    checks += wired + (live_checks(ctx, snapshot) if live or snapshot.offline else [])
    # with nothing found, the region hint is the one cause: the image check restating it is left out
    errors = [f.line for f in found] + refusals + ctx.errors + (messages.check_errors(checks, found) if live else [])
    warnings = ctx.warnings + [f"{c.name}: {c.detail}" for c in checks if c.ok is False and c.name in _WARN_ONLY]
    warnings += [f.line for f in messages.findings(spec, snapshot, "warning")]
    warnings += _drain_warnings(ctx, steps)
    if spec.health.http is not None and spec.health.checks is not None and Check.HTTP not in spec.health.checks:
        warnings.append("health.http is set but health.checks does not list `http`: the probe is not used "
                        "(add `http` to the checks, or remove the probe)")
    facts = snapshot.facts()
    return Plan(
        service=spec.service, spec_path=spec_path, region=snapshot.region,
        spec_digest=hashlib.sha256(spec_text.encode()).hexdigest()[:16],
        strategy=choice.strategy, strategy_reasons=choice.reasons,
        live_color=ctx.live_color, target_color=ctx.target_color if steps else None,
        state=ctx.state, image=image, changes=ctx.changes, steps=steps, after_rollback=after_rollback if steps else [],
        traffic=_traffic(spec, ctx, steps),
        gates=list(OrderedDict.fromkeys(ctx.gates)) if steps else [],
        rollback=ctx.rollback if steps else [], checks=checks, budgets=budgets(steps),
        warnings=list(OrderedDict.fromkeys(warnings)), errors=list(OrderedDict.fromkeys(errors)),
        unknowns=_unknowns(snapshot), facts=facts, fingerprint=snapshot.fingerprint(), offline=snapshot.offline,
        keep_warm_seconds=spec.keep_blue_warm(choice.strategy) if choice.strategy else 0.0,
        created_at=(now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
    )


_WARN_ONLY = messages.WARN_ONLY


def _traffic(spec: Spec, ctx: Context, steps: list[Step]) -> list[TrafficStep]:
    """The traffic steps as planned: each bake-N step's real hold (a DNS TTL can make it longer), and only
    the steps the strategy really takes (a single target group swaps all at once)."""
    holds = {s.id: s.duration for s in steps if isinstance(s, Bake) and s.phase == "shift"}
    if not steps or ctx.strategy in (Strategy.ECS_NATIVE, Strategy.ECS_CODEDEPLOY):
        return []  # AWS's engine moves the traffic, as its configuration says (the steps say how)
    if not holds:
        return [TrafficStep(percent=p, hold=ctx.hold()) for p in spec.shift.weights()]
    return [TrafficStep(percent=p, hold=holds[f"bake-{p}"]) for p in spec.shift.weights() if f"bake-{p}" in holds]


def _drain_warnings(ctx: Context, steps: list[Step]) -> list[str]:
    bakes = [s for s in steps if isinstance(s, Bake)]
    if not bakes or not ctx.spec.drains:  # nothing drains: discovery did not read the delays either
        return []
    delays = [tg.deregistration_delay for tg in ctx.snapshot.target_groups.values()]
    slowest = max(delays, default=0)
    shortest = min(b.duration for b in bakes)
    if slowest > shortest:
        return [f"deregistration delay {format_duration(slowest)} is longer than the bake time "
                f"{format_duration(shortest)}: connections to the old color may still drain after a step passes"]
    return []


def _unknowns(snapshot: Snapshot) -> list[str]:
    if not snapshot.offline:
        return []
    return ["live color and weights", "current task definition / launch template", "image digest",
            "target group health and settings", "alarm states", "roles and secret references"]


_PHASE_BASIS = {
    "preflight": "alarm and pre-flight reads",
    "prepare": "register revision / launch template version, scale the new color",
    "rollout": "new color healthy: steady state, health-check interval x healthy threshold, probes",
    "shift": "traffic steps x hold (bake, or at least the DNS TTL)",
    "verify": "targets re-checked after the cutover",
    "finalize": "keep-warm not counted: the deploy exits and finalize scales the old color down later",
}


def budgets(steps: list[Step]) -> list[Budget]:
    """Expected seconds per phase, from the live settings carried by each step."""
    seconds: dict[str, float] = OrderedDict()
    for step in steps:
        seconds[step.phase] = seconds.get(step.phase, 0.0) + step.budget()
    return [Budget(phase=phase, seconds=round(total, 1), basis=_PHASE_BASIS[phase]) for phase, total in seconds.items()]
