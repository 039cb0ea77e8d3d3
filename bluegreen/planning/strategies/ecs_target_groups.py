"""ECS target-group swap: one ECS service per color behind listener(s) forwarding to two target groups.

Green is brought up on a new revision, probed through the test listener, then production weights
move per the shift policy; rollback is one listener change while blue is kept warm.
"""

from __future__ import annotations

from typing import Callable

from bluegreen.domain.snapshot import Listener, Rule
from bluegreen.domain.spec import EcsServices, Route
from bluegreen.domain.steps import SetWeights, Step, UpdateService
from bluegreen.planning.common import (
    OTHER, Color, Context, Refused, ecs_current, ecs_rollout, ecs_service, keep_warm, live_color_from_weights,
    preflight, probe_steps, shift_steps, wait_targets,
)


def _route_rule(ctx: Context, route: Route) -> tuple[Listener, Rule, str]:
    listener = ctx.snapshot.listener(route.load_balancer, route.port)
    if listener is None:
        raise Refused(f"no listener on port {route.port} of load balancer {route.load_balancer}")
    rule = listener.rule(route.rule_priority)
    label = f"{route.load_balancer}:{route.port}" + (f" rule {route.rule_priority}" if route.rule_priority else "")
    if rule is None:
        raise Refused(f"listener {label} has no rule with priority {route.rule_priority}")
    return listener, rule, label


def route_colors(ctx: Context, route: Route) -> tuple[Listener, Rule, str, dict[Color, int]]:
    """Current weights by color, checking the listener really forwards to the named target groups."""
    listener, rule, label = _route_rule(ctx, route)
    blue, green = ctx.target_group(route.blue_target_group), ctx.target_group(route.green_target_group)
    forward = dict(rule.forward)
    strangers = [arn for arn, weight in forward.items() if arn not in (blue.arn, green.arn) and weight > 0]
    if strangers or (blue.arn not in forward and green.arn not in forward):
        raise Refused(f"listener {label} forwards to {', '.join(a.split('/')[-2] for a in forward) or 'nothing'}, "
                      f"not to {blue.name} / {green.name}")
    return listener, rule, label, {"blue": forward.get(blue.arn, 0), "green": forward.get(green.arn, 0)}


def live_color(ctx: Context) -> Color:
    colors: set[Color] = set()
    for route in ctx.spec.routes:
        _, _, label, weights = route_colors(ctx, route)
        ctx.state.append(f"listener {label}: blue {weights['blue']}% ({route.blue_target_group}), "
                         f"green {weights['green']}% ({route.green_target_group})")
        colors.add(live_color_from_weights(weights, f"listener {label}"))
    if len(colors) > 1:
        raise Refused("routes disagree on the live color: some forward to blue, others to green")
    return colors.pop()


def weight_mover(ctx: Context, live: Color, idle: Color) -> Callable[[int | None, int], list[Step]]:
    """Listener weight changes for one traffic step, on every route at once."""
    routes = ctx.spec.routes
    tgs = [{c: ctx.target_group(r.target_group(c)) for c in ("blue", "green")} for r in routes]
    names = {tg.arn: tg.name for pair in tgs for tg in pair.values()}

    def move(previous: int | None, percent: int) -> list[Step]:
        out: list[Step] = []
        for i, route in enumerate(routes):
            listener, rule, label, weights = route_colors(ctx, route)
            live_arn, idle_arn = tgs[i][live].arn, tgs[i][idle].arn
            before = ({live_arn: weights[live], idle_arn: weights[idle]} if previous is None
                      else {live_arn: 100 - previous, idle_arn: previous})
            out.append(SetWeights(
                id=f"shift-{percent}" + (f"-route{i}" if len(routes) > 1 else ""), phase="shift",
                listener_arn=listener.arn, rule_arn=rule.arn if rule.priority is not None else None, label=label,
                weights={live_arn: 100 - percent, idle_arn: percent}, previous=before, names=names))
        return out

    return move


def plan(ctx: Context) -> list[Step]:
    ecs, routes = ctx.spec.ecs, ctx.spec.routes
    if not isinstance(ecs, EcsServices) or not routes:
        raise Refused("needs one ECS service per color and a listener route")
    live = ctx.live_color = live_color(ctx)
    idle = OTHER[live]
    live_svc, idle_svc = ecs_service(ctx, ecs.services.of(live)), ecs_service(ctx, ecs.services.of(idle))
    ctx.state.append(f"live color {live}: {live_svc.name} runs {live_svc.running}/{live_svc.desired} "
                     f"of {live_svc.task_definition.rsplit('/', 1)[-1]}")
    if not ctx.decide(ecs_current(ctx, live_svc)):
        return []
    desired = ecs.desired_count if ecs.desired_count is not None else max(live_svc.desired, 1)
    idle_tgs = [ctx.target_group(r.target_group(idle)) for r in routes]
    live_tgs = [ctx.target_group(r.target_group(live)) for r in routes]
    steps = preflight(ctx) + ecs_rollout(ctx, idle_svc, live_svc, _unique(idle_tgs), desired)
    steps += _test_listener(ctx, routes[0], idle_tgs[0].arn, idle_tgs[0].name)
    steps += probe_steps(ctx)

    steps += shift_steps(ctx, weight_mover(ctx, live, idle), target_group_arns=[tg.arn for tg in _unique(idle_tgs)])
    steps += wait_targets(ctx, _unique(idle_tgs), desired, "verify")
    drain = max((tg.deregistration_delay for tg in live_tgs), default=0)
    steps += keep_warm(ctx, live, UpdateService(
        id=f"scale-down-{live_svc.name}", phase="finalize", cluster=ecs.cluster, service=live_svc.name,
        desired_count=0, previous_desired_count=live_svc.desired), drain_seconds=drain)
    ctx.rollback.insert(0, f"during the shift: production listener(s) back to {live} 100% in one change each, "
                           f"then {idle_svc.name} back to {idle_svc.desired} task(s) of its previous revision")
    return steps


def _test_listener(ctx: Context, route: Route, idle_arn: str, idle_name: str) -> list[Step]:
    """Point the test listener at the new color so it can be probed before it gets production traffic."""
    test = ctx.spec.test_listener
    if test is None:
        return []
    listener = ctx.snapshot.listener(route.load_balancer, test.port)
    if listener is None:
        raise Refused(f"no test listener on port {test.port} of load balancer {route.load_balancer}")
    current = dict(listener.default.forward)
    names = {arn: (tg.name if (tg := ctx.snapshot.target_group_by_arn(arn)) else arn) for arn in current}
    names[idle_arn] = idle_name
    weights = {arn: 0 for arn in current} | {idle_arn: 100}
    ctx.gates.append(f"test listener {route.load_balancer}:{test.port} forwards to {idle_name} before production does")
    return [SetWeights(id="open-test-listener", phase="rollout", listener_arn=listener.arn,
                       label=f"{route.load_balancer}:{test.port}", weights=weights,
                       previous={arn: current.get(arn, 0) for arn in weights}, names=names, production=False)]


def _unique(groups: list) -> list:  # type: ignore[type-arg]
    seen: dict[str, object] = {}
    for tg in groups:
        seen.setdefault(tg.arn, tg)
    return list(seen.values())
