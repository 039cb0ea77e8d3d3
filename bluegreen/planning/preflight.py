"""Pre-flight checks besides the wiring: the image, roles, secret references, alarms, and live health.

Each is read from the snapshot (values of secrets are never read). A check that had nothing to look
at is left out rather than reported as passing; a failed check's detail is one sentence naming what
was found, so it reads the same on the check's line and on the plan's error line. A check whose
reads failed (AWS unreachable or denied for that call) is unknown (`ok=None`) with the failed read as
its detail, never passed: a green tick next to "could not read alarm" would be a claim nobody checked.
A failure found in what was read still fails the check (a known problem outranks an unknown).
"""

from __future__ import annotations

from bluegreen.domain.colors import Color
from bluegreen.domain.plan import ImageRef, PreflightCheck
from bluegreen.domain.snapshot import Snapshot
from bluegreen.domain.spec import EcsService, EcsServices, Spec
from bluegreen.planning.context import Context

IMAGE = "image tag resolves to a digest"
LIVE_HEALTH = "live color healthy"
ROLES = "roles exist"
SECRETS = "secret references exist"
ALARMS = "alarms not in ALARM"

# What each check reads, by the subjects of discovery's findings: a failed read of any of them leaves
# the check unknown. Roles and secret references are named by the task definitions the services run.
READS: dict[str, tuple[str, ...]] = {
    IMAGE: ("image ", "ecr repository "),
    ROLES: ("role ", "task definition ", "ecs service "),
    SECRETS: ("secret ", "task definition ", "ecs service "),
    ALARMS: ("alarm ",),
}
# The wiring and controller checks compare listeners, target groups and the workloads using them.
WIRING_READS = ("load balancer ", "listener ", "target group ", "ecs service ", "auto scaling group ",
                "classic load balancer ")


def unread(snapshot: Snapshot, subjects: tuple[str, ...]) -> list[str]:
    """Discovery's lines for the reads of `subjects` (prefixes such as "alarm ") that failed."""
    return list(dict.fromkeys(f.line for f in snapshot.findings
                              if f.kind == "unreadable" and f.subject.startswith(subjects)))


def unknown(name: str, reasons: list[str]) -> PreflightCheck:
    return PreflightCheck(name=name, ok=None, detail="; ".join(reasons))


def settled(check: PreflightCheck, snapshot: Snapshot, subjects: tuple[str, ...]) -> PreflightCheck:
    """A passing check stays passed only when every read it depends on answered."""
    reasons = unread(snapshot, subjects) if check.ok else []
    if not reasons:
        return check
    return unknown(check.name, [f"only partly checked ({check.detail})", *reasons])


def image_checks(spec: Spec, snapshot: Snapshot, tag: str | None, image: ImageRef | None) -> list[PreflightCheck]:
    if tag is None:
        return [PreflightCheck(name="image", ok=True, detail="no --image-tag: the live image is kept")]
    if snapshot.offline:
        return [PreflightCheck(name=IMAGE, ok=None, detail="offline: not looked up")]
    if image is not None and image.digest:
        return [PreflightCheck(name=IMAGE, ok=True, detail=f"{tag} -> {image.digest}")]
    if failed := unread(snapshot, READS[IMAGE]):
        return [unknown(IMAGE, failed)]
    where = spec.image.repository
    if snapshot.image is not None and not snapshot.image.repository_exists:
        return [PreflightCheck(name=IMAGE, ok=False, detail=f"ECR repository {where} does not exist")]
    return [PreflightCheck(name=IMAGE, ok=False, detail=f"tag {tag} not found in ECR repository {where}")]


def live_checks(ctx: Context, snapshot: Snapshot) -> list[PreflightCheck]:
    """Roles, secret references, alarms and live health."""
    if snapshot.offline:
        return [PreflightCheck(name=n, ok=None, detail="offline: not looked up")
                for n in (ROLES, SECRETS, ALARMS, LIVE_HEALTH)]
    in_use = len(snapshot.roles_in_use)  # a subset of `roles`
    checks = _exist(ROLES, snapshot.roles, snapshot, "role(s)" + (
        f" ({in_use} in use by running tasks, not read again)" if in_use else "")) + _exist(
        SECRETS, snapshot.secrets, snapshot, "reference(s), values not read")
    alarms = [a for a in ctx.alarms() if a in snapshot.alarms]  # a missing alarm is a finding
    firing = [a for a in alarms if snapshot.alarms[a] == "ALARM"]
    failed = unread(snapshot, READS[ALARMS])
    if firing:
        checks.append(PreflightCheck(name=ALARMS, ok=False, detail=(
            f"alarm{'s' if len(firing) > 1 else ''} {', '.join(firing)} {'are' if len(firing) > 1 else 'is'} "
            "in ALARM (no deployment starts while a gate alarm fires)")))
    elif failed:
        checks.append(unknown(ALARMS, failed))
    elif alarms:
        checks.append(PreflightCheck(name=ALARMS, ok=True, detail=f"{len(alarms)} alarm(s) OK"))
    return checks + live_health(ctx, snapshot)


def _exist(name: str, found: dict[str, bool], snapshot: Snapshot, counted: str) -> list[PreflightCheck]:
    """Roles or secret references: failed when one is missing, unknown when a read failed, else passed."""
    missing = [ref for ref, ok in found.items() if not ok]
    failed = unread(snapshot, READS[name])
    if missing:
        return [PreflightCheck(name=name, ok=False, detail=f"not found: {', '.join(missing)}")]
    if failed:
        return [unknown(name, failed)]
    return [PreflightCheck(name=name, ok=True, detail=f"{len(found)} {counted}")] if found else []


def live_health(ctx: Context, snapshot: Snapshot) -> list[PreflightCheck]:
    """Is the color that has traffic healthy now? A deploy onto a sick blue has nothing to roll back to.
    Not a refusal (a deployment may be the fix), but the plan says so. Unknown when a read of what it
    looks at failed, or when the live color itself could not be told because its traffic was not read."""
    color, spec = ctx.live_color, ctx.spec
    services, group_name, tgs = _live_resources(spec, color)
    subjects = ([f"ecs service {n}" for n in services] + [f"auto scaling group {group_name}"] * bool(group_name)
                + [f"target group {n}" for n in tgs])
    unreadable = {f.subject for f in snapshot.findings if f.kind == "unreadable"}
    failed = [f.line for f in snapshot.findings if f.kind == "unreadable" and f.subject in subjects]
    if color is None and _colored(spec):  # which color serves was not read: all about it is unknown
        failed += unread(snapshot, WIRING_READS)
    looked, unhealthy = _health(snapshot, services, group_name,
                                [t for t in tgs if f"target group {t}" not in unreadable])
    if not unhealthy and failed:
        return [unknown(LIVE_HEALTH, list(dict.fromkeys(failed)))]
    if not looked:
        return []
    return [PreflightCheck(name=LIVE_HEALTH, ok=not unhealthy,
                           detail="; ".join(unhealthy) if unhealthy else f"{color or 'live'}: {', '.join(looked)}")]


def _colored(spec: Spec) -> bool:
    """Whether what serves depends on the live color (not one service or group taking turns)."""
    return bool(spec.routes) or isinstance(spec.ecs, EcsServices) or spec.asg is not None or spec.dns is not None


def _live_resources(spec: Spec, color: Color | None) -> tuple[list[str], str | None, list[str]]:
    """The live color's ECS services, Auto Scaling group and target groups, by name."""
    ecs, asg = spec.ecs, spec.asg
    services = ([ecs.services.of(color)] if isinstance(ecs, EcsServices) and color
                else [ecs.service] if isinstance(ecs, EcsService) else [])
    group = asg.group_name(color) if asg is not None and color else None
    tgs = [r.target_group(color) for r in spec.routes] if color else []
    tgs += [spec.target_group] if spec.target_group else []
    if spec.dns is not None and spec.dns.target_groups is not None and color:
        tgs.append(spec.dns.target_groups.of(color))
    return services, group, list(dict.fromkeys(tgs))


def _health(snapshot: Snapshot, services: list[str], group_name: str | None,
            tgs: list[str]) -> tuple[list[str], list[str]]:
    """What was looked at, and what of it is unhealthy (target groups whose health was not read are
    left out by the caller: an unread health is not "no registered target")."""
    looked: list[str] = []
    unhealthy: list[str] = []
    for name in services:
        svc = snapshot.ecs_services.get(name)
        if svc is None:
            continue
        looked.append(f"{svc.name} runs {svc.running}/{svc.desired}")
        if svc.running < svc.desired:
            unhealthy.append(f"{svc.name} runs {svc.running} of {svc.desired} task(s)")
    group = snapshot.asgs.get(group_name) if group_name else None
    if group is not None:
        looked.append(f"{group.name} {group.in_service}/{group.desired} InService")
        if group.in_service < group.desired:
            unhealthy.append(f"{group.name} has {group.in_service} of {group.desired} instance(s) InService")
    for name in tgs:
        tg = snapshot.target_groups.get(name)
        if tg is None:
            continue
        counted = tg.host_counts
        source = f" ({counted[1]} unhealthy, counted by CloudWatch)" if counted else ""
        looked.append(f"{tg.name} {tg.healthy_count} healthy{source}")
        if counted is None and not tg.targets:
            unhealthy.append(f"{tg.name} has no registered target")
        elif tg.healthy_count == 0:
            unhealthy.append(f"{tg.name} has no healthy target{source}")
    return looked, unhealthy
