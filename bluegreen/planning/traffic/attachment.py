"""Attachments: an Auto Scaling group joins or leaves a target group or classic ELB.

With one production target group (or classic ELB) for both colors, attaching the new color's group
*is* the traffic move: it joins, is gated, then the old group leaves, all at once. With weighted
routes, `join_own` attaches the new color's group to its own target groups before weights move.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from bluegreen.domain.colors import COLORS, Color
from bluegreen.domain.snapshot import TargetGroup
from bluegreen.domain.spec import Check, ClassicElbTraffic, TargetGroupTraffic
from bluegreen.domain.steps import Attach, Step, WaitGroupInService
from bluegreen.planning.context import Context, Refused
from bluegreen.planning.gates import probe_steps, wait_targets
from bluegreen.planning.shift import bake


def join_own(ctx: Context, group: str, target_groups: Sequence[TargetGroup], desired: int) -> list[Step]:
    """Attach `group` to the new color's own target groups (no production traffic yet), then wait for health."""
    return [Attach(id=f"attach-{group}", phase="rollout", group=group, target_group_arns=[tg.arn for tg in target_groups],
                   names={tg.arn: tg.name for tg in target_groups})] \
        + wait_targets(ctx, target_groups, desired, "rollout", group=group)


class Attachment:
    """One target group or classic ELB that both colors' groups take turns being attached to."""

    def __init__(self, ctx: Context, traffic: TargetGroupTraffic | ClassicElbTraffic, groups: Mapping[Color, str]):
        self.ctx, self.traffic, self.groups = ctx, traffic, dict(groups)

    @property
    def where(self) -> str:
        return self.traffic.target_group if isinstance(self.traffic, TargetGroupTraffic) else self.traffic.classic_elb

    def _target_group(self) -> TargetGroup | None:
        if isinstance(self.traffic, TargetGroupTraffic):
            return self.ctx.target_group(self.traffic.target_group)
        return None

    def live_color(self) -> Color:
        """The color whose group is attached with capacity; the attachments go into the plan's state."""
        asgs = self.ctx.snapshot.asgs
        if not any(self.groups[c] in asgs for c in COLORS):
            raise Refused(f"neither Auto Scaling group ({self.groups[Color.BLUE]}, {self.groups[Color.GREEN]}) exists")
        tg = self._target_group()
        attached: list[Color] = []
        for color in COLORS:
            group = asgs.get(self.groups[color])
            if group is None:
                self.ctx.state.append(f"{self.groups[color]}: absent (the deployment recreates it)")
                continue
            on = tg.arn in group.target_group_arns if tg is not None else self.where in group.load_balancer_names
            self.ctx.state.append(f"{group.name}: {'attached' if on else 'not attached'}, "
                                  f"{group.in_service}/{group.desired} InService")
            if on and group.desired > 0:
                attached.append(color)
        if not attached:
            raise Refused(f"neither group is attached to {self.where} with capacity")
        if len(attached) == 2:
            raise Refused(f"both groups are attached to {self.where}: a swap is in flight; roll it back or promote it first")
        return attached[0]

    def _attach(self, step_id: str, group: str, detach: bool = False) -> Attach:
        tg = self._target_group()
        if tg is not None:
            return Attach(id=step_id, phase="shift", group=group, target_group_arns=[tg.arn], names={tg.arn: tg.name},
                          detach=detach)
        return Attach(id=step_id, phase="shift", group=group, classic_elbs=[self.where], detach=detach)

    def join(self, idle: Color, desired: int) -> list[Step]:
        """The new color's group joins production, then is gated: healthy targets, or InService in the ELB."""
        if isinstance(self.traffic, ClassicElbTraffic) and self.where not in self.ctx.snapshot.classic_elbs:
            raise Refused(f"classic load balancer {self.where} not found")
        name = self.groups[idle]
        steps: list[Step] = [self._attach(f"attach-{name}", name)]
        tg = self._target_group()
        if tg is not None:
            return steps + wait_targets(self.ctx, [tg], desired, "rollout", group=name)
        if self.ctx.checks_enabled(Check.ASG_IN_SERVICE) or self.ctx.checks_enabled(Check.TARGET_HEALTH):
            h = self.ctx.health
            steps.append(WaitGroupInService(id=f"wait-{name}-in-elb", phase="rollout", group=name, desired=desired,
                                            classic_elb=self.where, deadline=h.deadline, interval=h.interval,
                                            expected=30.0))
        return steps

    def switch(self, live: Color, desired: int) -> list[Step]:
        """Join the new color, probe it, then the old color leaves; held once with gates (all at once)."""
        steps = self.join(live.other, desired) + probe_steps(self.ctx)
        steps.append(self._attach(f"detach-{self.groups[live]}", self.groups[live], detach=True))
        mode = self.ctx.spec.shift.mode
        if mode != "all-at-once":
            self.ctx.warnings.append(f"shift {mode} needs two weighted target groups (routes); "
                                     "with one target group or a classic ELB the swap is all at once")
        tg = self._target_group()
        return steps + [bake(self.ctx, "bake-100", "shift", [tg.arn] if tg is not None else [], self.ctx.hold())]

    def drain_seconds(self) -> int:
        tg = self._target_group()
        return tg.deregistration_delay if tg is not None else 0


class StaysAttached:
    """A task-definition swap's one target group: nothing attaches or detaches. ECS replaces the tasks
    behind it, so the rollout is gated on it and then held once with gates."""

    def __init__(self, ctx: Context, traffic: TargetGroupTraffic | ClassicElbTraffic):
        self.ctx, self.traffic = ctx, traffic

    def target_groups(self) -> list[TargetGroup]:
        if isinstance(self.traffic, TargetGroupTraffic):
            return [self.ctx.target_group(self.traffic.target_group)]
        return []  # a classic ELB has no target health to watch; alarms and the probe still gate

    def hold(self) -> list[Step]:
        arns = [tg.arn for tg in self.target_groups()]
        return [bake(self.ctx, "bake", "verify", arns, self.ctx.health.bake)]
