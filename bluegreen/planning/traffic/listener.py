"""Listener routes: weighted forward actions move production traffic between two target groups per route.

Each route (a listener's default action, or one rule of it on a shared ALB) must forward only to its
blue and green target groups; all routes move together, and all must agree on the live color.
"""

from __future__ import annotations

from typing import Sequence

from bluegreen.domain.colors import COLORS, Color
from bluegreen.domain.durations import format_duration
from bluegreen.domain.snapshot import Listener, Rule, TargetGroup
from bluegreen.domain.spec import Route, TestListener
from bluegreen.domain.steps import SetWeights, Step
from bluegreen.domain.weights import percentages
from bluegreen.planning.context import Context, Refused
from bluegreen.planning.gates import unique
from bluegreen.planning.shift import Move, live_color_from_weights, shift_steps
from bluegreen.planning.wiring import route_problem


class Routes:
    def __init__(self, ctx: Context, routes: Sequence[Route], test_listener: TestListener | None = None):
        if not routes:
            raise Refused("needs a listener route with blue and green target groups (`traffic.routes`)")
        self.ctx, self.routes, self.test = ctx, list(routes), test_listener

    def _rule(self, route: Route) -> tuple[Listener, Rule]:
        listener = self.ctx.snapshot.listener(route.load_balancer, route.port)
        if listener is None:
            raise Refused(f"no listener on port {route.port} of load balancer {route.load_balancer}")
        rule = listener.rule(route.rule_priority)
        if rule is None:
            raise Refused(f"listener {route.label} has no rule with priority {route.rule_priority}")
        return listener, rule

    def weights(self, route: Route) -> tuple[Listener, Rule, dict[Color, int]]:
        """The route's weights by color, checking it really forwards to the spec's target groups only."""
        listener, rule = self._rule(route)
        blue, green = (self.ctx.target_group(route.target_group(c)) for c in COLORS)
        forward = dict(rule.forward)
        # The planner's wiring check says this first; refusing here too keeps the weights never guessed.
        problem = route_problem(route.label, rule.forward, blue, green, self.ctx.snapshot)
        if problem:
            raise Refused(problem)
        return listener, rule, {Color.BLUE: forward.get(blue.arn, 0), Color.GREEN: forward.get(green.arn, 0)}

    def live_color(self) -> Color:
        """The color every route forwards to; the weights go into the plan's state."""
        colors: set[Color] = set()
        for route in self.routes:
            _, rule, weights = self.weights(route)
            share = percentages(weights)
            self.ctx.state.append(f"listener {route.label}: blue {share[Color.BLUE]}% ({route.blue_target_group}), "
                                  f"green {share[Color.GREEN]}% ({route.green_target_group})" + _kept(rule))
            colors.add(live_color_from_weights(weights, f"listener {route.label}"))
        if len(colors) > 1:
            raise Refused("routes disagree on the live color: some forward to blue, others to green")
        return colors.pop()

    def target_groups(self, color: Color) -> list[TargetGroup]:
        """The color's target groups over all routes, each once."""
        return unique([self.ctx.target_group(r.target_group(color)) for r in self.routes])

    def drain_seconds(self, color: Color) -> int:
        """How long connections to `color` drain once it stops getting traffic: its slowest target group."""
        return max((tg.deregistration_delay for tg in self.target_groups(color)), default=0)

    def open_test_listener(self, idle: Color) -> list[Step]:
        """Point the test listener at the new color so it can be probed before it gets production traffic."""
        if self.test is None:
            return []
        route = self.routes[0]
        listener = self.ctx.snapshot.listener(route.load_balancer, self.test.port)
        if listener is None:
            raise Refused(f"no test listener on port {self.test.port} of load balancer {route.load_balancer}")
        target = self.ctx.target_group(route.target_group(idle))
        current = dict(listener.default.forward)
        names = {arn: (tg.name if (tg := self.ctx.snapshot.target_group_by_arn(arn)) else arn) for arn in current}
        names[target.arn] = target.name
        weights = {arn: 0 for arn in current} | {target.arn: 100}
        self.ctx.gates.append(f"test listener {route.load_balancer}:{self.test.port} forwards to {target.name} "
                              "before production does")
        return [SetWeights(id="open-test-listener", phase="rollout", listener_arn=listener.arn,
                           label=f"{route.load_balancer}:{self.test.port}", weights=weights,
                           previous={arn: current.get(arn, 0) for arn in weights}, names=names, production=False)]

    def shift(self, live: Color) -> list[Step]:
        """The spec's shift policy on every route at once, each step baked watching the new color's targets."""
        watched = [tg.arn for tg in self.target_groups(live.other)]
        return shift_steps(self.ctx, self._mover(live), target_group_arns=watched)

    def _mover(self, live: Color) -> Move:
        idle = live.other
        pairs = [{c: self.ctx.target_group(r.target_group(c)) for c in COLORS} for r in self.routes]
        names = {tg.arn: tg.name for pair in pairs for tg in pair.values()}

        def move(previous: int | None, percent: int) -> list[Step]:
            out: list[Step] = []
            for i, route in enumerate(self.routes):
                listener, rule, weights = self.weights(route)
                live_arn, idle_arn = pairs[i][live].arn, pairs[i][idle].arn
                before = ({live_arn: weights[live], idle_arn: weights[idle]} if previous is None
                          else {live_arn: 100 - previous, idle_arn: previous})
                out.append(SetWeights(
                    id=f"shift-{percent}" + (f"-route{i}" if len(self.routes) > 1 else ""), phase="shift",
                    listener_arn=listener.arn, rule_arn=rule.arn if rule.priority is not None else None,
                    label=route.label, weights={live_arn: 100 - percent, idle_arn: percent}, previous=before,
                    names=names))
            return out

        return move


def _kept(rule: Rule) -> str:
    """What the weight changes leave as it is, said where the weights are shown."""
    around = [a for a in rule.actions if a != "forward"]
    kept = ([f"{' and '.join(around)} before the forward"] if around else []) + (
        [f"stickiness {format_duration(rule.stickiness)}"] if rule.stickiness else [])
    return f"; kept as is: {', '.join(kept)}" if kept else ""
