"""Pre-flight checks besides the wiring: the image, roles, secret references, alarms, and live health.

Each is read from the snapshot (values of secrets are never read). A check that had nothing to look
at is left out rather than reported as passing; a failed check's detail is one sentence naming what
was found, so it reads the same on the check's line and on the plan's error line.
"""

from __future__ import annotations

from bluegreen.domain.plan import ImageRef, PreflightCheck
from bluegreen.domain.snapshot import Snapshot
from bluegreen.domain.spec import EcsService, EcsServices, Spec
from bluegreen.planning.context import Context

IMAGE = "image tag resolves to a digest"
LIVE_HEALTH = "live color healthy"


def image_checks(spec: Spec, snapshot: Snapshot, tag: str | None, image: ImageRef | None) -> list[PreflightCheck]:
    if tag is None:
        return [PreflightCheck(name="image", ok=True, detail="no --image-tag: the live image is kept")]
    if snapshot.offline:
        return [PreflightCheck(name=IMAGE, ok=None, detail="offline: not looked up")]
    if image is not None and image.digest:
        return [PreflightCheck(name=IMAGE, ok=True, detail=f"{tag} -> {image.digest}")]
    where = spec.image.repository
    if snapshot.image is not None and not snapshot.image.repository_exists:
        return [PreflightCheck(name=IMAGE, ok=False, detail=f"ECR repository {where} does not exist")]
    return [PreflightCheck(name=IMAGE, ok=False, detail=f"tag {tag} not found in ECR repository {where}")]


def live_checks(ctx: Context, snapshot: Snapshot) -> list[PreflightCheck]:
    """Roles, secret references, alarms and live health."""
    if snapshot.offline:
        return [PreflightCheck(name=n, ok=None, detail="offline: not looked up")
                for n in ("roles exist", "secret references exist", "alarms not in ALARM", LIVE_HEALTH)]
    checks: list[PreflightCheck] = []
    if snapshot.roles:
        missing = [arn for arn, ok in snapshot.roles.items() if not ok]
        checks.append(PreflightCheck(name="roles exist", ok=not missing,
                                     detail=f"not found: {', '.join(missing)}" if missing
                                     else f"{len(snapshot.roles)} role(s)"))
    if snapshot.secrets:
        missing = [arn for arn, ok in snapshot.secrets.items() if not ok]
        checks.append(PreflightCheck(name="secret references exist", ok=not missing,
                                     detail=f"not found: {', '.join(missing)}" if missing
                                     else f"{len(snapshot.secrets)} reference(s), values not read"))
    alarms = [a for a in ctx.alarms() if a in snapshot.alarms]  # a missing alarm is a finding
    if alarms:
        firing = [a for a in alarms if snapshot.alarms[a] == "ALARM"]
        detail = (f"alarm{'s' if len(firing) > 1 else ''} {', '.join(firing)} {'are' if len(firing) > 1 else 'is'} "
                  "in ALARM (no deployment starts while a gate alarm fires)") if firing else f"{len(alarms)} alarm(s) OK"
        checks.append(PreflightCheck(name="alarms not in ALARM", ok=not firing, detail=detail))
    return checks + live_health(ctx, snapshot)


def live_health(ctx: Context, snapshot: Snapshot) -> list[PreflightCheck]:
    """Is the color that has traffic healthy now? A deploy onto a sick blue has nothing to roll back to.
    Not a refusal (a deployment may be the fix), but the plan says so."""
    color, spec = ctx.live_color, ctx.spec
    unhealthy: list[str] = []
    looked: list[str] = []
    ecs, asg = spec.ecs, spec.asg
    names = ([ecs.services.of(color)] if isinstance(ecs, EcsServices) and color
             else [ecs.service] if isinstance(ecs, EcsService) else [])
    for name in names:
        svc = snapshot.ecs_services.get(name)
        if svc is None:
            continue
        looked.append(f"{svc.name} runs {svc.running}/{svc.desired}")
        if svc.running < svc.desired:
            unhealthy.append(f"{svc.name} runs {svc.running} of {svc.desired} task(s)")
    group = snapshot.asgs.get(asg.group_name(color)) if asg is not None and color else None
    if group is not None:
        looked.append(f"{group.name} {group.in_service}/{group.desired} InService")
        if group.in_service < group.desired:
            unhealthy.append(f"{group.name} has {group.in_service} of {group.desired} instance(s) InService")
    tgs = [r.target_group(color) for r in spec.routes] if color else []
    tgs += [spec.target_group] if spec.target_group else []
    if spec.dns is not None and spec.dns.target_groups is not None and color:
        tgs.append(spec.dns.target_groups.of(color))
    for name in dict.fromkeys(tgs):
        tg = snapshot.target_groups.get(name)
        if tg is None:
            continue
        looked.append(f"{tg.name} {tg.healthy_count} healthy")
        if not tg.targets:
            unhealthy.append(f"{tg.name} has no registered target")
        elif tg.healthy_count == 0:
            unhealthy.append(f"{tg.name} has no healthy target")
    if not looked:
        return []
    return [PreflightCheck(name=LIVE_HEALTH, ok=not unhealthy,
                           detail="; ".join(unhealthy) if unhealthy else f"{color or 'live'}: {', '.join(looked)}")]
