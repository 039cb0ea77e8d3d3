"""Auto Scaling group swap behind an ALB target group, two weighted target groups, or a classic ELB."""

from __future__ import annotations

from bluegreen.domain.spec import Check
from bluegreen.domain.steps import Attach, Step, WaitGroupInService
from bluegreen.planning.common import (
    OTHER, Color, Context, Refused, asg_current, asg_rollout, bake, keep_warm, preflight, probe_steps, resume_processes,
    retire_group, shift_steps, wait_targets,
)
from bluegreen.planning.strategies.ecs_target_groups import live_color as listener_live_color, weight_mover


def live_color(ctx: Context) -> Color:
    """From attachments: the group attached to the production target group / ELB is live."""
    spec, asg = ctx.spec, ctx.spec.asg
    if asg is None:
        raise Refused("needs an Auto Scaling platform (`asg:`)")
    if spec.routes:
        return listener_live_color(ctx)
    attached: list[Color] = []
    present = [c for c in ("blue", "green") if asg.group_name(c) in ctx.snapshot.asgs]
    if not present:
        raise Refused(f"neither Auto Scaling group ({asg.group_name('blue')}, {asg.group_name('green')}) exists")
    for color in ("blue", "green"):
        group = ctx.snapshot.asgs.get(asg.group_name(color))
        if group is None:
            ctx.state.append(f"{asg.group_name(color)}: absent (the deployment recreates it)")
            continue
        if spec.target_group:
            on = ctx.target_group(spec.target_group).arn in group.target_group_arns
        else:
            on = spec.classic_elb in group.load_balancer_names
        ctx.state.append(f"{group.name}: {'attached' if on else 'not attached'}, "
                         f"{group.in_service}/{group.desired} InService")
        if on and group.desired > 0:
            attached.append(color)  # type: ignore[arg-type]
    where = spec.target_group or spec.classic_elb
    if not attached:
        raise Refused(f"neither group is attached to {where} with capacity")
    if len(attached) == 2:
        raise Refused(f"both groups are attached to {where}: a swap is in flight; roll it back or promote it first")
    return attached[0]


def plan(ctx: Context) -> list[Step]:
    spec, asg = ctx.spec, ctx.spec.asg
    if asg is None:
        raise Refused("needs an Auto Scaling platform (`asg:`)")
    live = ctx.live_color = live_color(ctx)
    idle = OTHER[live]
    live_name, idle_name = asg.group_name(live), asg.group_name(idle)
    if not ctx.decide(asg_current(ctx, live_name)):
        return []
    steps = preflight(ctx)
    rollout = asg_rollout(ctx, live_name, idle_name)
    steps += rollout
    desired = next(s.capacity.desired for s in rollout if getattr(s, "group", None) == idle_name and hasattr(s, "capacity"))
    if spec.routes:
        tgs = {c: ctx.target_group(spec.routes[0].target_group(c)) for c in ("blue", "green")}
        steps.append(Attach(id=f"attach-{idle_name}", phase="rollout", group=idle_name,
                            target_group_arns=[tgs[idle].arn], names={tgs[idle].arn: tgs[idle].name}))
        steps += wait_targets(ctx, [tgs[idle]], desired, "rollout", group=idle_name)
        steps += probe_steps(ctx)
        steps += shift_steps(ctx, weight_mover(ctx, live, idle), target_group_arns=[tgs[idle].arn])
        drain = tgs[live].deregistration_delay
    else:
        steps += _attach_then_detach(ctx, live_name, idle_name, desired)
        drain = ctx.target_group(spec.target_group).deregistration_delay if spec.target_group else 0
    steps += resume_processes(rollout)
    steps += keep_warm(ctx, live, retire_group(ctx, live_name), drain_seconds=drain)
    ctx.rollback.insert(0, f"during the swap: re-attach {live_name}, detach {idle_name}, restore {idle_name}'s "
                           "capacity and resume exactly the scaling processes this deployment suspended")
    return steps


def _attach_then_detach(ctx: Context, live_name: str, idle_name: str, desired: int) -> list[Step]:
    """Single target group or classic ELB: green joins, is gated, then blue leaves (all at once)."""
    spec = ctx.spec
    if spec.target_group:
        tg = ctx.target_group(spec.target_group)
        where = {"target_group_arns": [tg.arn], "names": {tg.arn: tg.name}}
    else:
        if spec.classic_elb not in ctx.snapshot.classic_elbs:
            raise Refused(f"classic load balancer {spec.classic_elb} not found")
        where = {"classic_elbs": [spec.classic_elb]}
    steps: list[Step] = [Attach(id=f"attach-{idle_name}", phase="shift", group=idle_name, **where)]
    if spec.target_group:
        steps += wait_targets(ctx, [ctx.target_group(spec.target_group)], desired, "rollout", group=idle_name)
    elif ctx.checks_enabled(Check.ASG_IN_SERVICE) or ctx.checks_enabled(Check.TARGET_HEALTH):
        steps.append(WaitGroupInService(id=f"wait-{idle_name}-in-elb", phase="rollout", group=idle_name,
                                        desired=desired, classic_elb=spec.classic_elb,
                                        deadline=ctx.health.deadline, interval=ctx.health.interval, expected=30.0))
    steps += probe_steps(ctx)
    steps.append(Attach(id=f"detach-{live_name}", phase="shift", group=live_name, detach=True, **where))
    if ctx.spec.shift.mode != "all-at-once":  # listed for the warning only
        ctx.warnings.append(f"shift {ctx.spec.shift.mode} needs two weighted target groups (routes); "
                            "with one target group or a classic ELB the swap is all at once")
    steps.append(bake(ctx, "bake-100", "shift", list(where.get("target_group_arns", [])), ctx.hold()))
    return steps
