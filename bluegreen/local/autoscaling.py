"""EC2 Auto Scaling with an instance lifecycle, computed from the world's clock.

- A launched instance is `Pending` for `Timings.instance_boot`, then `InService`; only then is it
  registered with the group's target groups and classic load balancers (whose health checks
  then take interval x healthy threshold, see `elb.py`). Pending instances count toward the
  desired capacity, so moto does not launch more while they boot.
- After the health check grace period (counted from InService), a group with HealthCheckType
  ELB marks an instance its load balancer finds unhealthy `Unhealthy` and replaces it.
- Scaled-in instances are deregistered (their targets drain) and are listed as `Terminating`
  for the target groups' deregistration delay.
"""

from __future__ import annotations

import copy
from typing import Any

from bluegreen.local import elb
from bluegreen.local import world as worlds

PENDING, IN_SERVICE, TERMINATING = "Pending", "InService", "Terminating"


def _ghosts(group: Any) -> list[Any]:
    if not hasattr(group, "_bg_leaving"):
        group._bg_leaving = []  # (gone at, InstanceState copy)
    return group._bg_leaving


def _in_service(group: Any) -> list[Any]:
    return [s for s in group.instance_states if s.lifecycle_state == IN_SERVICE]


def _launched(world: worlds.World, group: Any, states: list[Any]) -> None:
    now = world.now()
    for state in states:
        state.lifecycle_state, state.health_status = PENDING, "Healthy"
        state._bg_launched = now
        world.schedule(now + world.timings.instance_boot, ("asg-in-service", state.instance.id),
                       lambda s=state, g=group: _comes_in_service(world, g, s))


def _comes_in_service(world: worlds.World, group: Any, state: Any) -> None:
    if state not in group.instance_states or state.lifecycle_state != PENDING:
        return
    state.lifecycle_state, state._bg_in_service = IN_SERVICE, world.now()
    backend = group.autoscaling_backend
    if group.name in backend.autoscaling_groups:
        backend.update_attached_elbs(group.name)
        backend.update_attached_target_groups(group.name)
    _check_health(world, group)


def _grace(group: Any) -> float:
    return float(group.health_check_grace_period or 0)


def _unhealthy_in_load_balancer(group: Any, instance_id: str) -> bool:
    backend = group.autoscaling_backend
    for arn in group.target_group_arns:
        tg = backend.elbv2_backend.target_groups.get(arn)
        health = elb.target_health(tg, instance_id) if tg is not None else None
        if health and health[0] == elb.UNHEALTHY:
            return True
    for name in group.load_balancer_names:
        lb = backend.elb_backend.load_balancers.get(name)
        if lb is not None and instance_id in lb.instance_ids and elb.instance_state(lb, instance_id)[1] == "Instance":
            return True
    return False


def _check_health(world: worlds.World, group: Any) -> None:
    """Replace instances the load balancer finds unhealthy once their grace period is over."""
    backend = group.autoscaling_backend
    if group.name not in backend.autoscaling_groups:
        return
    now, wake = world.now(), []
    if group.health_check_type == "ELB":
        sick = []
        for state in _in_service(group):
            grace_end = getattr(state, "_bg_in_service", now) + _grace(group)
            if now < grace_end:
                wake.append(grace_end)
            elif _unhealthy_in_load_balancer(group, state.instance.id):
                sick.append(state)
        for state in sick:
            state.health_status = "Unhealthy"
        if sick:
            _terminate(world, group, sick)
            group.set_desired_capacity(group.desired_capacity)  # launches the replacements
        wake += _load_balancer_changes(group)
    future = [t for t in wake if t > now]
    if future:
        world.schedule(min(future), ("asg-health", id(group)), lambda: _check_health(world, group))


def _load_balancer_changes(group: Any) -> list[float]:
    backend, out = group.autoscaling_backend, []
    for state in _in_service(group):
        for arn in group.target_group_arns:
            tg = backend.elbv2_backend.target_groups.get(arn)
            change = elb.next_change(tg, state.instance.id) if tg is not None else None
            if change is not None:
                out.append(change)
        for name in group.load_balancer_names:
            lb = backend.elb_backend.load_balancers.get(name)
            change = elb.classic_next_change(lb, state.instance.id) if lb is not None else None
            if change is not None:
                out.append(change)
    return out


def _terminate(world: worlds.World, group: Any, states: list[Any]) -> None:
    ids = [s.instance.id for s in states]
    group.instance_states = [s for s in group.instance_states if s not in states]
    _leaving(world, group, states)
    group.autoscaling_backend.ec2_backend.terminate_instances(ids)  # target groups start draining
    group.autoscaling_backend.update_attached_elbs(group.name)


def _leaving(world: worlds.World, group: Any, states: list[Any]) -> None:
    """Auto Scaling deregisters leaving instances from its target groups (they drain) and lists
    them Terminating meanwhile."""
    backend = group.autoscaling_backend
    ids = {s.instance.id for s in states}
    delays = []
    for arn in group.target_group_arns:
        tg = backend.elbv2_backend.target_groups.get(arn)
        if tg is None:
            continue
        registered = [{"Id": i} for i in tg.targets if i in ids]
        if registered:
            tg.deregister(registered)
        delays.append(elb.deregistration_delay(tg))
    gone_at = world.now() + max(delays, default=0.0)
    for state in states:
        ghost = copy.copy(state)
        ghost.lifecycle_state = TERMINATING
        _ghosts(group).append((gone_at, ghost))


def install() -> None:
    from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup

    original_replace = FakeAutoScalingGroup.replace_autoscaling_group_instances
    original_active = FakeAutoScalingGroup.active_instances
    original_set = FakeAutoScalingGroup.set_desired_capacity
    original_instances = FakeAutoScalingGroup.instances
    original_elbs = AutoScalingBackend.update_attached_elbs
    original_tgs = AutoScalingBackend.update_attached_target_groups

    def replace_autoscaling_group_instances(self: Any, count_needed: int, propagated_tags: dict[str, str]) -> None:
        before = list(self.instance_states)
        original_replace(self, count_needed, propagated_tags)
        world = worlds.simulating()
        if world is not None:
            _launched(world, self, [s for s in self.instance_states if s not in before])

    def active_instances(self: Any) -> list[Any]:
        if worlds.simulating() is None:
            return original_active(self)
        return [s for s in self.instance_states if s.lifecycle_state in (PENDING, IN_SERVICE)]

    def set_desired_capacity(self: Any, new_capacity: int | None) -> None:
        world = worlds.simulating()
        before = list(self.instance_states)
        original_set(self, new_capacity)
        if world is not None:
            gone = [s for s in before if s not in self.instance_states]
            if gone:
                _leaving(world, self, gone)

    def instances(self: Any) -> list[Any]:
        states = original_instances.fget(self)
        world = worlds.simulating()
        if world is None:
            return states
        now = world.now()
        self._bg_leaving = [(at, ghost) for at, ghost in _ghosts(self) if at > now]
        return states + [ghost for _, ghost in self._bg_leaving]

    def update_attached_elbs(self: Any, group_name: str) -> None:
        if worlds.simulating() is None:
            return original_elbs(self, group_name)
        group = self.autoscaling_groups[group_name]
        if not group.load_balancer_names:
            return
        wanted = {s.instance.id for s in _in_service(group)}
        for lb in self.elb_backend.describe_load_balancers(names=group.load_balancer_names):
            present = set(lb.instance_ids)
            self.elb_backend.register_instances(lb.name, sorted(wanted - present), from_autoscaling=True)
            self.elb_backend.deregister_instances(lb.name, sorted(present - wanted), from_autoscaling=True)

    def update_attached_target_groups(self: Any, group_name: str) -> None:
        if worlds.simulating() is None:
            return original_tgs(self, group_name)
        group = self.autoscaling_groups[group_name]
        if not group.target_group_arns:
            return
        ids = [s.instance.id for s in _in_service(group)]
        for tg in self.elbv2_backend.describe_target_groups(target_group_arns=group.target_group_arns,
                                                            load_balancer_arn=None, names=None):
            if ids:
                self.elbv2_backend.register_targets(tg.arn, [{"Id": i, "Port": tg.port} for i in ids])
        world = worlds.simulating()
        if world is not None and ids:
            look = lambda: _check_health(world, group)  # noqa: E731
            world.watch(("asg-health", id(group)), look)
            world.schedule(world.now(), ("asg-health", id(group)), look)


    FakeAutoScalingGroup.replace_autoscaling_group_instances = replace_autoscaling_group_instances  # type: ignore[method-assign]
    FakeAutoScalingGroup.active_instances = active_instances  # type: ignore[method-assign]
    FakeAutoScalingGroup.set_desired_capacity = set_desired_capacity  # type: ignore[method-assign]
    FakeAutoScalingGroup.instances = property(instances)  # type: ignore[assignment]
    AutoScalingBackend.update_attached_elbs = update_attached_elbs  # type: ignore[method-assign]
    AutoScalingBackend.update_attached_target_groups = update_attached_target_groups  # type: ignore[method-assign]
