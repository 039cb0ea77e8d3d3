"""ECS task-definition swap: one service; a new revision rolled out with UpdateService.

There is no second color to keep warm: rollback updates the service back to the previous revision.
"""

from __future__ import annotations

from bluegreen.domain.spec import EcsService
from bluegreen.domain.steps import Step
from bluegreen.planning.common import Context, Refused, bake, ecs_current, ecs_rollout, ecs_service, preflight, probe_steps


def plan(ctx: Context) -> list[Step]:
    ecs = ctx.spec.ecs
    if not isinstance(ecs, EcsService):
        raise Refused("needs the one ECS service (`service:`)")
    service = ecs_service(ctx, ecs.service)
    ctx.state.append(f"{service.name} runs {service.running}/{service.desired} of "
                     f"{service.task_definition.rsplit('/', 1)[-1]}")
    if not ctx.decide(ecs_current(ctx, service)):
        return []
    tgs = [ctx.target_group(ctx.spec.target_group)] if ctx.spec.target_group else []
    desired = ecs.desired_count if ecs.desired_count is not None else max(service.desired, 1)
    steps = preflight(ctx) + ecs_rollout(ctx, service, service, tgs, desired, phase="shift") + probe_steps(ctx)
    steps.append(bake(ctx, "bake", "verify", [tg.arn for tg in tgs], ctx.health.bake))
    ctx.rollback.append(f"update {service.name} back to {service.task_definition.rsplit('/', 1)[-1]} "
                        f"with {service.desired} task(s) and wait for it to be stable")
    if service.circuit_breaker:
        ctx.gates.append("the ECS deployment circuit breaker is on: an ECS-side rollback fails the deployment")
    return steps
