"""The strategies: each is one compute side composed with one traffic side, and says when it fits.

    ECS target-group swap   ecs.PerColor   + listener.Routes         (weights, a test listener first)
    ECS task-definition     ecs.InPlace    + attachment.StaysAttached (ECS replaces the tasks)
    ASG swap                asg.Groups     + listener.Routes, or attachment.Attachment (join, then leave)
    DNS cutover             ecs.PerColor or asg.Groups + dns.WeightedRecord (each step >= the TTL)

Every composition reads the same way: the traffic side finds the live color (and checks the wiring),
the compute side says what it runs, `decide` stops when nothing changes; then alarms, the idle color
up and gated, traffic moved with bakes, and the old color kept warm before it is retired. The first
strategy in STRATEGIES whose `fits` accepts a spec is the automatic choice, explained by `reason`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from bluegreen.domain.colors import COLORS, Color
from bluegreen.domain.spec import (
    ClassicElbTraffic, DnsTraffic, EcsService, EcsServices, RoutesTraffic, Spec, Strategy, TargetGroupTraffic,
)
from bluegreen.domain.steps import Step
from bluegreen.domain.codedeploy import DeploymentGroup
from bluegreen.domain.native import NativeSetup
from bluegreen.domain.snapshot import EcsService as LiveService, Snapshot
from bluegreen.planning import controlled
from bluegreen.planning.compute import ColorCompute
from bluegreen.planning.compute import asg as asg_compute
from bluegreen.planning.compute import ecs as ecs_compute
from bluegreen.planning.context import Context, Refused, decide
from bluegreen.planning.gates import preflight, probe_steps, wait_targets
from bluegreen.planning.shift import keep_warm
from bluegreen.planning.traffic import attachment, dns, listener


def ecs_target_group_swap(ctx: Context) -> list[Step]:
    ecs, traffic = ctx.spec.ecs, ctx.spec.traffic
    if not isinstance(ecs, EcsServices) or not isinstance(traffic, RoutesTraffic):
        raise Refused("needs one ECS service per color and a listener route")
    routes, compute = listener.Routes(ctx, traffic.routes, traffic.test_listener), ecs_compute.PerColor(ctx, ecs)
    live = ctx.live_color = routes.live_color()
    current = compute.current(live)
    ctx.state.append(f"live color {live}: {ecs_compute.runs(compute.service(live))}")
    if not decide(ctx, current):
        return []
    idle, own = live.other, routes.target_groups(live.other)
    steps = preflight(ctx) + compute.bring_up(live, own) + routes.open_test_listener(idle) + probe_steps(ctx)
    steps += routes.shift(live) + wait_targets(ctx, own, compute.desired(live), "verify")
    steps += compute.settle(steps)
    new = compute.service(idle)
    ctx.rollback.append(f"during the shift: production listener(s) back to {live} 100% in one change each, "
                        f"then {new.name} back to {new.desired} task(s) of its previous revision")
    return steps + keep_warm(ctx, live, compute.retire(live), drain_seconds=routes.drain_seconds(live))


def ecs_task_definition_swap(ctx: Context) -> list[Step]:
    ecs, traffic = ctx.spec.ecs, ctx.spec.traffic
    if not isinstance(ecs, EcsService):
        raise Refused("needs the one ECS service (`service:`)")
    if not isinstance(traffic, (TargetGroupTraffic, ClassicElbTraffic)):
        raise Refused("updates the service behind its own target group or classic ELB; listener routes or a "
                      "DNS record need one ECS service per color (`services: {blue, green}`)")
    compute, behind = ecs_compute.InPlace(ctx, ecs), attachment.StaysAttached(ctx, traffic)
    service = compute.service
    ctx.state.append(ecs_compute.runs(service))
    if not decide(ctx, compute.current()):
        return []
    steps = preflight(ctx) + compute.roll(behind.target_groups()) + probe_steps(ctx) + behind.hold()
    steps += compute.settle(steps)
    ctx.rollback.append(f"update {service.name} back to {service.task_definition.rsplit('/', 1)[-1]} "
                        f"with {service.desired} task(s) and wait for it to be stable")
    if service.circuit_breaker:
        ctx.gates.append("the ECS deployment circuit breaker is on: an ECS-side rollback fails the deployment")
    return steps


def asg_swap(ctx: Context) -> list[Step]:
    asg, traffic = ctx.spec.asg, ctx.spec.traffic
    if asg is None:
        raise Refused("needs an Auto Scaling platform (`asg:`)")
    groups = asg_compute.Groups(ctx, asg)
    if isinstance(traffic, RoutesTraffic):
        return _asg_behind_routes(ctx, groups, listener.Routes(ctx, traffic.routes))
    if isinstance(traffic, (TargetGroupTraffic, ClassicElbTraffic)):
        return _asg_behind_attachment(ctx, groups, attachment.Attachment(ctx, traffic, {c: groups.name(c) for c in COLORS}))
    raise Refused("needs a target group, listener routes or a classic ELB")


def _asg_behind_routes(ctx: Context, groups: asg_compute.Groups, routes: listener.Routes) -> list[Step]:
    """Each color's group has its own target group(s); the listener weights move between them."""
    live = ctx.live_color = routes.live_color()
    if not decide(ctx, groups.current(live)):
        return []
    idle = live.other
    steps = preflight(ctx) + groups.bring_up(live, ())
    steps += attachment.join_own(ctx, groups.name(idle), routes.target_groups(idle), groups.desired(live))
    steps += probe_steps(ctx) + routes.shift(live)
    steps += groups.settle(steps)
    ctx.rollback.append(_asg_rollback(groups, live))
    return steps + keep_warm(ctx, live, groups.retire(live), drain_seconds=routes.drain_seconds(live))


def _asg_behind_attachment(ctx: Context, groups: asg_compute.Groups, side: attachment.Attachment) -> list[Step]:
    """Both colors share one target group or classic ELB: the new group joins, then the old one leaves."""
    live = ctx.live_color = side.live_color()
    if not decide(ctx, groups.current(live)):
        return []
    steps = preflight(ctx) + groups.bring_up(live, ())
    steps += side.switch(live, groups.desired(live))
    steps += groups.settle(steps)
    ctx.rollback.append(_asg_rollback(groups, live))
    return steps + keep_warm(ctx, live, groups.retire(live), drain_seconds=side.drain_seconds())


def _asg_rollback(groups: asg_compute.Groups, live: Color) -> str:
    old, new = groups.name(live), groups.name(live.other)
    return (f"during the swap: re-attach {old}, detach {new}, restore {new}'s capacity and resume exactly the "
            "scaling processes this deployment suspended")


def dns_cutover(ctx: Context) -> list[Step]:
    traffic = ctx.spec.traffic
    if not isinstance(traffic, DnsTraffic):
        raise Refused("needs a Route53 record with endpoints and a TTL (`traffic.dns`)")
    record = dns.WeightedRecord(ctx, traffic.dns)
    live = ctx.live_color = record.live_color()
    compute = _stack_compute(ctx)
    if not decide(ctx, compute.current(live)):
        return []
    own = record.target_groups(live.other)
    steps = preflight(ctx) + compute.bring_up(live, own) + probe_steps(ctx) + record.shift(live, own)
    steps += compute.settle(steps)
    ctx.rollback.append(f"record weights back to {live} 100% in one change; clients may keep the new "
                        f"answer for up to {record.ttl}s")
    return steps + keep_warm(ctx, live, compute.retire(live))


def _stack_compute(ctx: Context) -> ColorCompute:
    """Each DNS stack runs its own color: one ECS service or one Auto Scaling group per color."""
    ecs, asg = ctx.spec.ecs, ctx.spec.asg
    if isinstance(ecs, EcsServices):
        return ecs_compute.PerColor(ctx, ecs)
    if asg is not None:
        return asg_compute.Groups(ctx, asg)
    raise Refused("on ECS needs one service per color (`services: {blue, green}`)")


# --- when each strategy fits, and why ---------------------------------------------------------------


@dataclass(frozen=True)
class StrategyDef:
    strategy: Strategy
    fits: Callable[[Spec], bool]  # the spec's shape asks for it (the plan then checks the live side)
    reason: Callable[[Spec], str]
    plan: Callable[[Context], list[Step]]


def _dns_reason(spec: Spec) -> str:
    record = spec.dns.record if spec.dns else "?"
    return f"traffic is the Route53 weighted record {record} with one endpoint per color -> DNS cutover"


def _asg_reason(spec: Spec) -> str:
    where = (f"target group {spec.target_group}" if spec.target_group else f"classic ELB {spec.classic_elb}"
             if spec.classic_elb else "listener routes with blue and green target groups")
    names = (f"{spec.asg.group_name(Color.BLUE)} / {spec.asg.group_name(Color.GREEN)}" if spec.asg else "?")
    return f"platform is EC2 Auto Scaling ({names}) behind {where} -> ASG swap"


def _target_group_swap_reason(spec: Spec) -> str:
    r = spec.routes[0]
    return (f"listener {r.load_balancer}:{r.port} has blue and green target groups ({r.blue_target_group}, "
            f"{r.green_target_group}) and each color has its own ECS service -> ECS target-group swap")


def _task_definition_reason(spec: Spec) -> str:
    behind = f" behind target group {spec.target_group}" if spec.target_group else ""
    name = spec.ecs.service if isinstance(spec.ecs, EcsService) else "?"
    return f"one ECS service ({name}){behind} -> ECS task-definition swap"


def _native_reason(service: LiveService, setup: NativeSetup) -> str:
    alternate = ", ".join(lb.alternate_target_group_arn.rsplit("/", 2)[-2] for lb in setup.load_balancers) or "none"
    return (f"ECS service {service.name} is deployed by ECS's built-in {setup.strategy} (alternate target group "
            f"{alternate}): ECS moves its listener rules itself, bluegreen follows and gates it -> ecs-native")


def _codedeploy_reason(service: LiveService, group: DeploymentGroup) -> str:
    return (f"ECS service {service.name} uses the CODE_DEPLOY controller (CodeDeploy {group.application}/{group.name}, "
            f"{group.config}): CodeDeploy swaps it, bluegreen drives and gates the deployment -> ecs-codedeploy")


def controlled_choice(spec: Spec, snapshot: Snapshot) -> tuple[Strategy, str] | None:
    """A spec's one ECS service that AWS deploys itself picks that engine's strategy, whatever the spec's shape."""
    ecs = spec.ecs
    if not isinstance(ecs, EcsService):
        return None
    service = snapshot.ecs_services.get(ecs.service)
    if service is None:
        return None
    if service.native is not None:
        return Strategy.ECS_NATIVE, _native_reason(service, service.native)
    if service.codedeploy is not None:
        return Strategy.ECS_CODEDEPLOY, _codedeploy_reason(service, service.codedeploy)
    return None


# In the order the automatic choice tries them.
STRATEGIES: tuple[StrategyDef, ...] = (
    StrategyDef(Strategy.DNS_CUTOVER, lambda s: s.dns is not None, _dns_reason, dns_cutover),
    StrategyDef(Strategy.ASG_SWAP, lambda s: s.asg is not None, _asg_reason, asg_swap),
    StrategyDef(Strategy.ECS_TARGET_GROUPS, lambda s: isinstance(s.ecs, EcsServices) and bool(s.routes),
                _target_group_swap_reason, ecs_target_group_swap),
    StrategyDef(Strategy.ECS_TASK_DEFINITION, lambda s: isinstance(s.ecs, EcsService), _task_definition_reason,
                ecs_task_definition_swap),
)

# Chosen from the live service (`controlled_choice`), never from the spec's shape alone.
CONTROLLED: tuple[StrategyDef, ...] = (
    StrategyDef(Strategy.ECS_NATIVE, lambda s: False, lambda s: "", controlled.ecs_native),
    StrategyDef(Strategy.ECS_CODEDEPLOY, lambda s: False, lambda s: "", controlled.ecs_codedeploy),
)

BY_STRATEGY: dict[Strategy, StrategyDef] = {s.strategy: s for s in STRATEGIES + CONTROLLED}
