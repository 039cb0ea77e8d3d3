"""ECS compute: a new task-definition revision copied from the live one, run where the new version goes.

`PerColor` (one service per color) runs it on the idle color's service and scales the old one to 0
after keep-warm; `InPlace` (the one service of a task-definition swap) updates the service itself.
Either way, Application Auto Scaling of the services is suspended first and restored by `settle`.
"""

from __future__ import annotations

from typing import Literal, Sequence

from bluegreen.domain.colors import Color
from bluegreen.domain.snapshot import EcsService, TargetGroup, _short
from bluegreen.domain.spec import Check, EcsService as OneService, EcsServices
from bluegreen.domain.steps import RegisterTaskDefinition, Step, SuspendScaling, UpdateService, WaitServiceStable
from bluegreen.planning.context import Context, Current, Refused
from bluegreen.planning.controllers import restore_scaling, suspend_scaling
from bluegreen.planning.gates import wait_targets


def find_service(ctx: Context, cluster: str, name: str) -> EcsService:
    service = ctx.snapshot.ecs_services.get(name)
    if service is None:
        raise Refused(f"ECS service {name} not found in cluster {cluster}")
    return service


def current(ctx: Context, container: str, service: EcsService) -> Current:
    """The live container's image, environment, secret references and size, from its task definition."""
    td = ctx.snapshot.task_definitions.get(service.task_definition)
    if td is None:
        return Current(image=None)
    found = td.container(container) or {}
    return Current(
        image=found.get("image"),
        environment={e["name"]: e.get("value", "") for e in found.get("environment", [])},
        secrets={e["name"]: e.get("valueFrom", "") for e in found.get("secrets", [])},
        cpu=int(td.body["cpu"]) if td.body.get("cpu") else None,
        memory=int(td.body["memory"]) if td.body.get("memory") else None,
    )


def runs(service: EcsService) -> str:
    """`web-blue runs 2/2 of web:3`, for the plan's state."""
    return f"{service.name} runs {service.running}/{service.desired} of {service.task_definition.rsplit('/', 1)[-1]}"


def rollout(ctx: Context, ecs: OneService | EcsServices, service: EcsService, base: EcsService,
            target_groups: Sequence[TargetGroup], desired: int,
            phase: Literal["prepare", "shift"] = "prepare") -> list[Step]:
    """Register a revision copied from `base`'s and run it on `service`, then wait until it is healthy."""
    h = ctx.health
    steps: list[Step] = [
        register(ctx, ecs, base),
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
    return steps + wait_targets(ctx, target_groups, desired, "rollout")


def register(ctx: Context, ecs: OneService | EcsServices, base: EcsService) -> RegisterTaskDefinition:
    """A new revision copied field for field from what `base` runs; only the image and the spec's fields differ."""
    image = ctx.new_image()
    base_td = ctx.snapshot.task_definitions.get(base.task_definition)
    if base_td is None:
        raise Refused(f"task definition {base.task_definition} of {base.name} not found")
    if base_td.container(ecs.container) is None:
        raise Refused(f"container {ecs.container} not found in {_short(base_td.arn)}")
    return RegisterTaskDefinition(id="register-task-definition", phase="prepare",
                                  family=ecs.task_definition_family or base_td.family, base_arn=base_td.arn,
                                  container=ecs.container, image=image, environment=dict(ecs.environment),
                                  secrets=dict(ecs.secrets), cpu=ecs.cpu, memory=ecs.memory)


def desired_count(ecs: OneService | EcsServices, base: EcsService) -> int:
    """The spec's count, else what runs now (at least one: a new version nobody runs cannot be gated)."""
    return ecs.desired_count if ecs.desired_count is not None else max(base.desired, 1)


class PerColor:
    """One ECS service per color: the idle one gets the new revision, the live one is kept warm."""

    def __init__(self, ctx: Context, ecs: EcsServices):
        self.ctx, self.ecs = ctx, ecs

    def service(self, color: Color) -> EcsService:
        return find_service(self.ctx, self.ecs.cluster, self.ecs.services.of(color))

    def current(self, live: Color) -> Current:
        running, _idle = self.service(live), self.service(live.other)  # both colors' services must exist
        return current(self.ctx, self.ecs.container, running)

    def desired(self, live: Color) -> int:
        return desired_count(self.ecs, self.service(live))

    def bring_up(self, live: Color, own_target_groups: Sequence[TargetGroup]) -> list[Step]:
        base, idle = self.service(live), self.service(live.other)
        frozen = frozen_scaling(self.ctx, [base, idle])
        return frozen + rollout(self.ctx, self.ecs, idle, base, own_target_groups, self.desired(live))

    def settle(self, steps: Sequence[Step]) -> list[Step]:
        """Application Auto Scaling back to exactly what it was, once traffic has moved."""
        return restore_scaling(steps)

    def retire(self, live: Color) -> Step:
        old = self.service(live)
        return UpdateService(id=f"scale-down-{old.name}", phase="finalize", cluster=self.ecs.cluster,
                             service=old.name, desired_count=0, previous_desired_count=old.desired)


class InPlace:
    """The one ECS service of a task-definition swap: updated to the new revision where it runs."""

    def __init__(self, ctx: Context, ecs: OneService):
        self.ctx, self.ecs = ctx, ecs

    @property
    def service(self) -> EcsService:
        return find_service(self.ctx, self.ecs.cluster, self.ecs.service)

    def current(self) -> Current:
        return current(self.ctx, self.ecs.container, self.service)

    def roll(self, target_groups: Sequence[TargetGroup]) -> list[Step]:
        """The update is the traffic move here: ECS replaces the tasks behind the service's target group."""
        service = self.service
        return frozen_scaling(self.ctx, [service]) + rollout(
            self.ctx, self.ecs, service, service, target_groups, desired_count(self.ecs, service), phase="shift")

    def settle(self, steps: Sequence[Step]) -> list[Step]:
        return restore_scaling(steps)


def frozen_scaling(ctx: Context, services: Sequence[EcsService]) -> list[Step]:
    """Suspend Application Auto Scaling of `services` for the deployment, and say so in the rollback path."""
    steps = suspend_scaling(services)
    if steps:
        names = ", ".join(s.service for s in steps if isinstance(s, SuspendScaling))
        ctx.rollback.append(f"Application Auto Scaling of {names} is suspended for the deployment and put back "
                            "exactly as it was: after the cutover, or by the rollback")
    return steps
