"""Mechanics every strategy shares: the planning context, colors, rollouts, traffic steps, gates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Literal

from bluegreen.domain.durations import format_duration
from bluegreen.domain.snapshot import EcsService, LaunchTemplate, Snapshot, TargetGroup, _short
from bluegreen.domain.plan import Change
from bluegreen.domain.spec import SECRET_LOOKING, Check, Spec, SsmParameterDelivery, Strategy
from bluegreen.domain.steps import (
    Bake, Capacity, CheckAlarms, CreateGroup, CreateLaunchTemplateVersion, DeleteGroup, KeepWarm, Probe, ProbeHttp, PutParameter,
    RegisterTaskDefinition, Step, SuspendProcesses, UpdateGroup, UpdateService, WaitGroupInService,
    WaitServiceStable, WaitTargetsHealthy,
)

Color = Literal["blue", "green"]
OTHER: dict[str, Color] = {"blue": "green", "green": "blue"}


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


def masked(name: str, value: str | None) -> str | None:
    """Values of secret-looking names are never shown, even when a live revision holds them literally."""
    return "****" if value is not None and SECRET_LOOKING.search(name) else value


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

    @property
    def target_color(self) -> Color | None:
        return OTHER[self.live_color] if self.live_color else None

    def decide(self, current: Current) -> bool:
        """Compare what runs with what the spec and image ask for; True when there is something to deploy."""
        self.current = current
        changes: list[Change] = []
        if self.requested_image and self.requested_image != current.image:
            changes.append(Change(field="image", before=current.image, after=self.requested_image))
        ecs = self.spec.ecs
        if ecs is not None:
            for key, value in sorted(ecs.environment.items()):
                if current.environment.get(key) != value:
                    changes.append(Change(field=f"environment.{key}", before=masked(key, current.environment.get(key)),
                                          after=masked(key, value)))
            for key, ref in sorted(ecs.secrets.items()):
                if current.secrets.get(key) != ref:
                    changes.append(Change(field=f"secrets.{key}", before=current.secrets.get(key), after=ref))
            for name in ("cpu", "memory"):
                wanted, live = getattr(ecs, name), getattr(current, name)
                if wanted is not None and wanted != live:
                    changes.append(Change(field=name, before=None if live is None else str(live), after=str(wanted)))
        self.changes = changes
        self.image = (self.requested_image or current.image) if changes else None
        if changes and self.image is None:
            self.errors.append("the live image is unknown, so the new revision has no image; pass --image-tag")
        return bool(changes) and self.image is not None

    def checks_enabled(self, check: Check) -> bool:
        chosen = self.spec.health.checks
        return chosen is None or check in chosen

    @property
    def health(self):  # noqa: ANN201 - the spec's Health model
        return self.spec.health

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


def live_color_from_weights(weights: dict[Color, int], where: str) -> Color:
    """The color that has the traffic; a split means a deployment did not finish."""
    blue, green = weights.get("blue", 0), weights.get("green", 0)
    if blue == 0 and green == 0:
        raise Refused(f"{where} sends no traffic to blue or green")
    if blue and green:
        raise Refused(f"{where} splits traffic blue {blue} / green {green}: a deployment is in flight; "
                      "finish it (bluegreen promote) or roll it back (bluegreen rollback) first")
    return "blue" if blue else "green"


def preflight(ctx: Context) -> list[Step]:
    alarms = ctx.alarms()
    if not alarms:
        return []
    firing = [a for a in alarms if ctx.snapshot.alarms.get(a) == "ALARM"]
    missing = [a for a in alarms if a not in ctx.snapshot.alarms and not ctx.snapshot.offline]
    if firing:
        ctx.errors.append(f"alarm already in ALARM: {', '.join(firing)} (refusing to start a deployment)")
    if missing:
        ctx.errors.append(f"alarm not found: {', '.join(missing)}")
    ctx.gates.append(f"before starting: alarms {', '.join(alarms)} must not be in ALARM")
    return [CheckAlarms(id="check-alarms", phase="preflight", alarms=alarms)]


# --- ECS ------------------------------------------------------------------------------------------


def ecs_service(ctx: Context, name: str) -> EcsService:
    service = ctx.snapshot.ecs_services.get(name)
    if service is None:
        cluster = ctx.spec.ecs.cluster if ctx.spec.ecs else "?"
        raise Refused(f"ECS service {name} not found in cluster {cluster}")
    return service


def ecs_current(ctx: Context, service: EcsService) -> Current:
    """The live container's image, environment, secret references and size, from its task definition."""
    ecs = ctx.spec.ecs
    td = ctx.snapshot.task_definitions.get(service.task_definition)
    if td is None or ecs is None:
        return Current(image=None)
    container = td.container(ecs.container) or {}
    return Current(
        image=container.get("image"),
        environment={e["name"]: e.get("value", "") for e in container.get("environment", [])},
        secrets={e["name"]: e.get("valueFrom", "") for e in container.get("secrets", [])},
        cpu=int(td.body["cpu"]) if td.body.get("cpu") else None,
        memory=int(td.body["memory"]) if td.body.get("memory") else None,
    )


def asg_current(ctx: Context, group_name: str) -> Current:
    """The image the live group's instances run: from its launch template's user data or SSM parameter."""
    asg = ctx.spec.asg
    if asg is None:
        return Current(image=None)
    if isinstance(asg.image_delivery, SsmParameterDelivery):
        name = asg.image_delivery.name_for(ctx.live_color or "blue")
        return Current(image=ctx.snapshot.image_parameters.get(name))
    group = ctx.snapshot.asgs.get(group_name)
    lt = ctx.snapshot.launch_templates.get(asg.launch_template)
    text = group.user_data if group is not None and group.user_data is not None else (lt.user_data if lt else None)
    match = _RUN_IMAGE.search(text or "")
    return Current(image=match.group(1) if match else None)


_RUN_IMAGE = re.compile(r"docker run [^\n]*?(\S+@sha256:[0-9a-f]{64}|\S+:\S+)\s*$", re.M)


def ecs_rollout(ctx: Context, service: EcsService, base: EcsService, target_groups: list[TargetGroup],
                desired: int, phase: Literal["prepare", "shift"] = "prepare") -> list[Step]:
    """Register a revision copied from `base`'s and run it on `service`, then wait until it is healthy."""
    ecs, image = ctx.spec.ecs, ctx.image
    if ecs is None or image is None:
        raise Refused("needs an ECS platform and an image to deploy")
    base_td = ctx.snapshot.task_definitions.get(base.task_definition)
    if base_td is None:
        raise Refused(f"task definition {base.task_definition} of {base.name} not found")
    if base_td.container(ecs.container) is None:
        raise Refused(f"container {ecs.container} not found in {_short(base_td.arn)}")
    family = ecs.task_definition_family or base_td.family
    h = ctx.health
    steps: list[Step] = [
        RegisterTaskDefinition(id="register-task-definition", phase="prepare", family=family, base_arn=base_td.arn,
                               container=ecs.container, image=image, environment=dict(ecs.environment),
                               secrets=dict(ecs.secrets), cpu=ecs.cpu, memory=ecs.memory),
        UpdateService(id=f"deploy-{service.name}", phase=phase, cluster=ecs.cluster, service=service.name,
                      task_definition="@register-task-definition", previous_task_definition=service.task_definition,
                      desired_count=desired, previous_desired_count=service.desired),
    ]
    if ctx.checks_enabled(Check.ECS_STEADY_STATE):
        steps.append(WaitServiceStable(id=f"wait-{service.name}-stable", phase="rollout", cluster=ecs.cluster,
                                       service=service.name, task_definition="@register-task-definition",
                                       desired_count=desired, deadline=h.deadline, interval=h.interval))
        ctx.gates.append(f"{service.name}: {desired} task(s) of the new revision running, deployment COMPLETED "
                         "(an ECS circuit-breaker rollback counts as a failure)")
    steps += wait_targets(ctx, target_groups, desired, "rollout")
    return steps


def wait_targets(ctx: Context, target_groups: list[TargetGroup], min_healthy: int, phase: Literal["rollout", "verify"],
                 group: str | None = None) -> list[Step]:
    if not ctx.checks_enabled(Check.TARGET_HEALTH) or min_healthy == 0:
        return []
    h = ctx.health
    steps: list[Step] = []
    for tg in target_groups:
        steps.append(WaitTargetsHealthy(
            id=f"{phase}-{tg.name}-healthy", phase=phase, target_group_arn=tg.arn, target_group=tg.name,
            min_healthy=min_healthy, deadline=h.deadline, interval=h.interval, expected=tg.health_budget, group=group))
        if phase == "rollout":
            ctx.gates.append(f"{tg.name}: {min_healthy} healthy target(s) (health check "
                             f"{tg.health_check_interval}s x {tg.healthy_threshold} = {format_duration(tg.health_budget)})")
    return steps


def probe_steps(ctx: Context) -> list[Step]:
    probe = ctx.probe()
    if probe is None:
        return []
    ctx.gates.append(f"HTTP probe {probe.url} answers {'/'.join(map(str, probe.expected_status))}")
    return [ProbeHttp(id="probe-green", phase="rollout", probe=probe, deadline=ctx.health.deadline,
                      interval=ctx.health.interval)]


# --- Auto Scaling ------------------------------------------------------------------------------------


def asg_rollout(ctx: Context, live: str, idle: str, attach_on_create: list[str] | None = None) -> list[Step]:
    """New image into the launch template (or SSM), scaling processes frozen, idle group to live capacity.

    The idle group may be gone (`max_remaining_groups: 1` deletes the old group): it is then created
    as a copy of the live one, empty, and its inverse deletes it again.
    """
    asg, image = ctx.spec.asg, ctx.image
    if asg is None or image is None:
        raise Refused("needs an Auto Scaling platform and an image to deploy")
    snap = ctx.snapshot
    live_group, idle_group = snap.asgs.get(live), snap.asgs.get(idle)
    lt = snap.launch_templates.get(asg.launch_template)
    if live_group is None:
        raise Refused(f"Auto Scaling group {live} not found")
    if lt is None:
        raise Refused(f"launch template {asg.launch_template} not found")
    steps: list[Step] = []
    pinned = _pinned_version(live_group.launch_template_version, lt)
    if pinned is not None:
        # A group that follows $Latest would start launching the new image on any scale-out or
        # replacement as soon as the new version exists: pin blue to what it runs now first.
        current = Capacity(min=live_group.min_size, max=live_group.max_size, desired=live_group.desired)
        steps.append(UpdateGroup(id=f"pin-{live}", phase="prepare", group=live, capacity=current,
                                 previous_capacity=current, launch_template=lt.name, launch_template_version=pinned,
                                 previous_launch_template_version=pinned))  # kept on rollback: what blue runs
    for group in (idle_group, live_group):
        frozen = [p for p in asg.suspend_processes if group is not None and p not in group.suspended]
        if frozen and group is not None:
            steps.append(SuspendProcesses(id=f"suspend-{group.name}", phase="prepare", group=group.name, processes=frozen))
    version: str | None = None
    delivery = asg.image_delivery
    if isinstance(delivery, SsmParameterDelivery):
        name = delivery.name_for(ctx.target_color or "green")
        steps.append(PutParameter(id="put-image-parameter", phase="prepare", name=name, value=image,
                                  previous=snap.image_parameters.get(name)))
    else:
        steps.append(CreateLaunchTemplateVersion(
            id="create-launch-template-version", phase="prepare", template=lt.name, source_version=lt.latest_version,
            image=image, user_data=user_data(image, delivery.host_port, delivery.container_port)))
        version = "@create-launch-template-version"
    if idle_group is None:
        created_version = version or pinned or live_group.launch_template_version or str(lt.default_version)
        steps.append(CreateGroup(
            id=f"create-{idle}", phase="prepare", group=idle, copy_of=live, launch_template=lt.name,
            launch_template_version=created_version, subnets=list(live_group.subnets),
            health_check_type=live_group.health_check_type, health_check_grace=live_group.health_check_grace,
            tags={k: v for k, v in live_group.tags if not k.startswith("aws:")},
            target_group_arns=list(attach_on_create or [])))
        if asg.suspend_processes:
            steps.append(SuspendProcesses(id=f"suspend-{idle}", phase="prepare", group=idle,
                                          processes=list(asg.suspend_processes)))
        previous, previous_version = Capacity(min=0, max=0, desired=0), created_version
    else:
        previous = Capacity(min=idle_group.min_size, max=idle_group.max_size, desired=idle_group.desired)
        previous_version = (_pinned_version(idle_group.launch_template_version, lt)
                            or idle_group.launch_template_version or str(lt.default_version))
    wanted = asg.capacity or Capacity(min=live_group.min_size, max=live_group.max_size, desired=live_group.desired)
    capacity = Capacity(min=wanted.min, max=wanted.max, desired=wanted.desired)
    steps.append(UpdateGroup(
        id=f"scale-{idle}", phase="prepare", group=idle, capacity=capacity, previous_capacity=previous,
        launch_template=lt.name if version else None, launch_template_version=version,
        previous_launch_template_version=previous_version if version else None))
    if ctx.checks_enabled(Check.ASG_IN_SERVICE):
        grace = (idle_group or live_group).health_check_grace
        steps.append(WaitGroupInService(id=f"wait-{idle}-in-service", phase="rollout", group=idle,
                                        desired=capacity.desired, deadline=ctx.health.deadline,
                                        interval=ctx.health.interval, expected=max(60.0, grace)))
        ctx.gates.append(f"{idle}: {capacity.desired} instance(s) InService on the new launch template version")
    return steps


def retire_group(ctx: Context, name: str) -> Step:
    """After keep-warm: scale the old group to 0, or delete it when only one group is to remain."""
    asg = ctx.spec.asg
    if asg is not None and asg.max_remaining_groups < 2:
        return DeleteGroup(id=f"delete-{name}", phase="finalize", group=name,
                           reason=f"max_remaining_groups {asg.max_remaining_groups}; the next deploy recreates it")
    return scale_down_group(ctx, name)


def _pinned_version(version: str | None, lt: "LaunchTemplate") -> str | None:
    """The numeric version a `$Latest` / `$Default` reference means now; None when already numeric."""
    if version == "$Latest":
        return str(lt.latest_version)
    if version == "$Default":
        return str(lt.default_version)
    return None


def user_data(image: str, host_port: int, container_port: int) -> str:
    """Boot script that runs the pinned image; the image reference is the only thing that varies."""
    return ("#!/bin/bash\nset -euo pipefail\n"
            f"docker pull {image}\n"
            f"docker run -d --restart always --name app -p {host_port}:{container_port} {image}\n")


def resume_processes(steps: list[Step]) -> list[Step]:
    """Resume exactly what this deployment suspended (recorded in the suspend steps)."""
    return [s.model_copy(update={"id": f"resume-{s.group}", "phase": "verify", "resume": True})
            for s in steps if isinstance(s, SuspendProcesses) and not s.resume]


def scale_down_group(ctx: Context, name: str) -> Step:
    group = ctx.snapshot.asgs[name]
    return UpdateGroup(id=f"scale-down-{name}", phase="finalize", group=name,
                       capacity=Capacity(min=0, max=group.max_size, desired=0),
                       previous_capacity=Capacity(min=group.min_size, max=group.max_size, desired=group.desired))


# --- traffic ---------------------------------------------------------------------------------------


def shift_steps(ctx: Context, move: Callable[[int | None, int], list[Step]], *, target_group_arns: list[str],
                minimum_hold: float = 0.0, hold_reason: str = "") -> list[Step]:
    """For each step of the shift policy: move traffic, then bake with gates.

    `move(previous_percent, percent)` returns the steps that give the new color `percent` of the
    traffic; `previous_percent` is None for the first step (the weights are then the live ones).
    """
    steps: list[Step] = []
    hold = max(ctx.hold(), minimum_hold)
    previous: int | None = None
    for percent in ctx.spec.shift.weights():
        steps += move(previous, percent)
        steps.append(bake(ctx, f"bake-{percent}", "shift", target_group_arns, hold,
                          hold_reason if minimum_hold > ctx.hold() else ""))
        previous = percent
    alarms, probe = ctx.alarms(), ctx.probe()
    watched_tgs = target_group_arns if ctx.checks_enabled(Check.TARGET_HEALTH) else []
    if alarms or watched_tgs or probe:
        ctx.gates.append(f"after each traffic step: hold {format_duration(hold)} while "
                         + ", ".join(filter(None, ["no alarm fires" if alarms else "",
                                                   "target health holds" if watched_tgs else "",
                                                   "the probe passes" if probe else ""])))
    return steps


def bake(ctx: Context, step_id: str, phase: Literal["shift", "verify"], target_group_arns: list[str],
         hold: float, reason: str = "") -> Bake:
    """Hold with gates: any named alarm in ALARM, unhealthy targets or a failing probe fails it."""
    watched = target_group_arns if ctx.checks_enabled(Check.TARGET_HEALTH) else []
    return Bake(id=step_id, phase=phase, duration=hold, alarms=ctx.alarms(), target_group_arns=list(watched),
                probe=ctx.probe(), interval=min(ctx.health.interval, hold or 1.0), reason=reason)


def keep_warm(ctx: Context, old: str, scale_down: Step, drain_seconds: float = 0.0) -> list[Step]:
    duration = ctx.spec.keep_blue_warm(ctx.strategy)
    ctx.rollback.append(f"until {format_duration(duration)} after the switch: one traffic change back to {old}, "
                        f"which is still running (bluegreen rollback {ctx.spec.service})")
    return [KeepWarm(id=f"keep-{old}-warm", phase="finalize", color=old, duration=duration, drain_seconds=drain_seconds),
            scale_down]
