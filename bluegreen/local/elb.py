"""Elastic Load Balancing that health-checks: target health is computed from the clock.

Application/Network Load Balancer target groups (elbv2):
- a registered target is `initial` (Elb.RegistrationInProgress, then Elb.InitialHealthChecking)
  until interval x healthy threshold has passed, then `healthy`; a target whose health endpoint
  fails goes `unhealthy` (Target.ResponseCodeMismatch / Target.FailedHealthChecks) after
  interval x unhealthy threshold; a change of condition later counts from the change;
- a deregistered target is `draining` (Target.DeregistrationInProgress) for the group's
  `deregistration_delay.timeout_seconds`, then gone;
- a group no listener or rule forwards to reports its targets `unused` (Target.NotInUse).

Classic ELB: a registered instance is OutOfService ("Instance registration is still in progress.")
until interval x healthy threshold, then InService; a failing one is OutOfService after interval x
unhealthy threshold.

Whether a target's health endpoint answers is modelled, not probed (the task IPs are made up and
only loopback addresses may ever be targets): ECS says so for its tasks from the image's marked
behaviour, an EC2 instance from its user data's image, and a test with `set_target_health`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Iterator

from bluegreen.local import world as worlds

HEALTHY, INITIAL, UNHEALTHY, DRAINING, UNUSED = "healthy", "initial", "unhealthy", "draining", "unused"
FAILED_CODES = ("Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]")
NOT_ANSWERING = ("Target.FailedHealthChecks", "Health checks failed")


@dataclass
class Condition:
    """Whether the target answers its health check, since when, and what it was then."""

    ok: bool
    since: float
    before: str  # the state when the condition last changed
    why: tuple[str, str] = FAILED_CODES


@dataclass
class TargetSim:
    registered_at: float
    port: Any
    condition: Condition

    def state(self, interval: float, healthy_after: int, unhealthy_after: int, now: float) -> tuple[str, str | None, str | None]:
        c = self.condition
        if c.ok and c.before != HEALTHY and now < c.since + interval * healthy_after:
            return self._waiting(c.before, interval, now)
        if not c.ok and c.before != UNHEALTHY and now < c.since + interval * unhealthy_after:
            return self._waiting(c.before, interval, now)
        if c.ok:
            return HEALTHY, None, None
        return UNHEALTHY, c.why[0], c.why[1]

    def _waiting(self, state: str, interval: float, now: float) -> tuple[str, str | None, str | None]:
        if state == INITIAL:
            if now < self.registered_at + interval:
                return INITIAL, "Elb.RegistrationInProgress", "Target registration is in progress"
            return INITIAL, "Elb.InitialHealthChecking", "Initial health checks in progress"
        if state == UNHEALTHY:
            return UNHEALTHY, self.condition.why[0], self.condition.why[1]
        return HEALTHY, None, None

    def next_change(self, interval: float, healthy_after: int, unhealthy_after: int, now: float) -> float | None:
        c = self.condition
        if c.ok and c.before != HEALTHY:
            at = c.since + interval * healthy_after
        elif not c.ok and c.before != UNHEALTHY:
            at = c.since + interval * unhealthy_after
        else:
            return None
        return at if at > now else None

    def change(self, ok: bool, why: tuple[str, str], interval: float, healthy_after: int,
               unhealthy_after: int, now: float) -> None:
        if ok == self.condition.ok:
            return
        state = self.state(interval, healthy_after, unhealthy_after, now)[0]
        self.condition = Condition(ok, now, state, why)


# --- target groups (elbv2) ---------------------------------------------------------------------


def _checks(tg: Any) -> tuple[float, int, int]:
    return (float(tg.health_check_interval_seconds), int(tg.healthy_threshold_count),
            int(tg.unhealthy_threshold_count))


def _sims(tg: Any) -> dict[str, TargetSim]:
    if not hasattr(tg, "_bg_sims"):
        tg._bg_sims = {}
        tg._bg_draining = {}  # target id -> (gone at, port)
        tg._bg_expected = {}  # target id -> Condition pieces the registering service announced
    return tg._bg_sims


def expect(tg: Any, target_id: str, ok: bool, why: tuple[str, str] = FAILED_CODES) -> None:
    """Say, before registering it, whether `target_id` will answer its health check (ECS does this
    for its tasks: it knows what their image does)."""
    _sims(tg)
    tg._bg_expected[target_id] = (ok, why)


def target_health(tg: Any, target_id: str) -> tuple[str, str | None, str | None] | None:
    """(state, reason, description) of a registered or draining target now, or None."""
    world = worlds.simulating()
    if world is None:
        return None
    now = world.now()
    sims = _sims(tg)
    _forget_drained(tg, now)
    if target_id in tg._bg_draining:
        return DRAINING, "Target.DeregistrationInProgress", "Target deregistration is in progress"
    sim = sims.get(target_id)
    if sim is None:
        return None
    return sim.state(*_checks(tg), now)


def next_change(tg: Any, target_id: str) -> float | None:
    world = worlds.simulating()
    sim = _sims(tg).get(target_id)
    if world is None or sim is None:
        return None
    return sim.next_change(*_checks(tg), world.now())


def deregistration_delay(tg: Any) -> float:
    return float(tg.attributes.get("deregistration_delay.timeout_seconds", 300))


def _forget_drained(tg: Any, now: float) -> None:
    for target_id, (gone_at, _) in list(tg._bg_draining.items()):
        if gone_at <= now:
            del tg._bg_draining[target_id]


def _condition_at_registration(tg: Any, target_id: str, world: worlds.World, now: float) -> Condition:
    expected = tg._bg_expected.pop(target_id, None)
    if expected is not None:
        ok, why = expected
    else:
        ok, why = _instance_answers(tg, target_id, world), NOT_ANSWERING
    override = _overrides(world).get(target_id)
    if override is not None:
        ok = override
    return Condition(ok, now, INITIAL, why)


def _instance_answers(tg: Any, target_id: str, world: worlds.World) -> bool:
    """An EC2 instance answers if the image its user data runs starts and is healthy."""
    if not target_id.startswith("i-"):
        return True
    instance = tg.ec2_backend.get_instance_by_id(target_id)
    return world.images.behaviour(user_data_text(instance)) == worlds.STARTS


def user_data_text(instance: Any) -> str:
    data = getattr(instance, "user_data", None)
    if not data:
        return ""
    chunks = data if isinstance(data, list) else [data]
    out = []
    for chunk in chunks:
        text = chunk.decode() if isinstance(chunk, bytes) else str(chunk)
        try:
            out.append(base64.b64decode(text, validate=True).decode("utf-8", "replace"))
        except ValueError:
            out.append(text)
    return "\n".join(out)


def _overrides(world: worlds.World) -> dict[str, bool]:
    if not hasattr(world, "_bg_target_health"):
        world._bg_target_health = {}  # type: ignore[attr-defined]
    return world._bg_target_health  # type: ignore[attr-defined]


def set_target_health(world: worlds.World, target_id: str, ok: bool) -> None:
    """From now on `target_id` answers its health checks (ok) or fails them, in every target group
    and classic ELB it is (or will be) registered with."""
    with world.lock:
        world.settle()
        _overrides(world)[target_id] = ok
        now = world.now()
        for tg in _all_target_groups():
            sim = _sims(tg).get(target_id)
            if sim is not None:
                sim.change(ok, FAILED_CODES, *_checks(tg), now)
        for lb in _all_classic_elbs():
            sim = _classic_sims(lb).get(target_id)
            if sim is not None:
                sim.change(ok, FAILED_CODES, *_classic_checks(lb), now)
        world.wake_all()  # ECS and Auto Scaling act on what the health checks will find


def _all_target_groups() -> Iterator[Any]:
    from moto.elbv2.models import elbv2_backends

    for account in dict.values(elbv2_backends):
        for backend in dict.values(account):
            yield from backend.target_groups.values()


def _all_classic_elbs() -> Iterator[Any]:
    from moto.elb.models import elb_backends

    for account in dict.values(elb_backends):
        for backend in dict.values(account):
            yield from backend.load_balancers.values()


def in_use(backend: Any, tg_arn: str) -> bool:
    """Whether any listener or rule forwards to the target group (health checks run only then)."""
    for lb in backend.load_balancers.values():
        for listener in lb.listeners.values():
            for rule in listener.rules.values():
                for action in rule.actions:
                    if tg_arn in backend._get_target_group_arns_from(action_data=action.data):
                        return True
    return False


def _install_target_groups() -> None:
    from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup

    original_register = FakeTargetGroup.register
    original_deregister = FakeTargetGroup.deregister
    original_terminated = FakeTargetGroup.deregister_terminated_instances
    original_describe = ELBv2Backend.describe_target_health

    def register(self: Any, targets: list[dict[str, Any]]) -> None:
        world = worlds.simulating()
        if world is None:
            return original_register(self, targets)
        original_register(self, targets)
        now = world.now()
        sims = _sims(self)
        for target in targets:
            target_id = target["Id"]
            self._bg_draining.pop(target_id, None)  # registering a draining target starts it afresh
            if target_id not in sims:  # registering a registered target changes nothing
                sims[target_id] = TargetSim(now, self.targets[target_id]["Port"],
                                            _condition_at_registration(self, target_id, world, now))

    def deregister(self: Any, targets: list[dict[str, Any]]) -> None:
        world = worlds.simulating()
        if world is None:
            return original_deregister(self, targets)
        original_deregister(self, targets)
        _drain(self, [t["Id"] for t in targets], world.now())

    def deregister_terminated_instances(self: Any, instance_ids: list[str]) -> None:
        world = worlds.simulating()
        if world is None:
            return original_terminated(self, instance_ids)
        leaving = [i for i in self.targets if i in instance_ids]
        original_terminated(self, instance_ids)
        for instance_id in leaving:
            self.terminated_targets.pop(instance_id, None)
        _drain(self, leaving, world.now())

    def describe_target_health(self: Any, target_group_arn: str, targets: list[dict[str, Any]]) -> list[Any]:
        world = worlds.simulating()
        if world is None:
            return original_describe(self, target_group_arn, targets)
        tg = self.target_groups.get(target_group_arn)
        if tg is None:
            return original_describe(self, target_group_arn, targets)  # moto's TargetGroupNotFound
        now = world.now()
        _sims(tg)
        _forget_drained(tg, now)
        ids = [t["Id"] for t in targets] if targets else list(tg.targets) + list(tg._bg_draining)
        used = in_use(self, target_group_arn)
        out = []
        for target_id in ids:
            health = target_health(tg, target_id)
            port = tg.targets.get(target_id, {}).get("Port") or tg._bg_draining.get(target_id, (0, tg.port))[1]
            if health is None:  # never registered: moto's answer (unused / unavailable)
                out.append(tg.health_for(_find(targets, target_id) or {"Id": target_id}, self.ec2_backend))
                continue
            state, reason, description = health
            if state != DRAINING and not used:
                state, reason, description = UNUSED, "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"
            out.append(FakeHealthStatus(target_id, port, tg.health_check_port, state, reason, description))
        return out

    FakeTargetGroup.register = register  # type: ignore[method-assign]
    FakeTargetGroup.deregister = deregister  # type: ignore[method-assign]
    FakeTargetGroup.deregister_terminated_instances = deregister_terminated_instances  # type: ignore[method-assign]
    ELBv2Backend.describe_target_health = describe_target_health  # type: ignore[method-assign]


def _find(targets: list[dict[str, Any]], target_id: str) -> dict[str, Any] | None:
    return next((t for t in targets if t.get("Id") == target_id), None)


def _drain(tg: Any, target_ids: list[str], now: float) -> None:
    sims = _sims(tg)
    gone_at = now + deregistration_delay(tg)
    for target_id in target_ids:
        sim = sims.pop(target_id, None)
        if sim is not None:
            tg._bg_draining[target_id] = (gone_at, sim.port)


# --- classic ELB ---------------------------------------------------------------------------------


def _classic_checks(lb: Any) -> tuple[float, int, int]:
    check = lb.health_check
    if check is None:  # AWS's defaults for a classic load balancer
        return 30.0, 10, 2
    return float(check.interval), int(check.healthy_threshold), int(check.unhealthy_threshold)


def _classic_sims(lb: Any) -> dict[str, TargetSim]:
    if not hasattr(lb, "_bg_sims"):
        lb._bg_sims = {}
    return lb._bg_sims


def instance_state(lb: Any, instance_id: str) -> tuple[str, str, str]:
    """(State, ReasonCode, Description) as DescribeInstanceHealth reports it."""
    world = worlds.simulating()
    sim = _classic_sims(lb).get(instance_id)
    if world is None or sim is None:
        return "InService", "N/A", "N/A"
    state, _, _ = sim.state(*_classic_checks(lb), world.now())
    if state == HEALTHY:
        return "InService", "N/A", "N/A"
    if state == INITIAL:
        return "OutOfService", "ELB", "Instance registration is still in progress."
    return "OutOfService", "Instance", "Instance has failed at least the UnhealthyThreshold number of health checks consecutively."


def classic_next_change(lb: Any, instance_id: str) -> float | None:
    world = worlds.simulating()
    sim = _classic_sims(lb).get(instance_id)
    if world is None or sim is None:
        return None
    return sim.next_change(*_classic_checks(lb), world.now())


def _install_classic() -> None:
    from moto.ec2.exceptions import InvalidInstanceIdError
    from moto.core.responses import ActionResult
    from moto.elb.models import ELBBackend
    from moto.elb.responses import ELBResponse
    from moto.ec2.models import ec2_backends

    original_register = ELBBackend.register_instances
    original_deregister = ELBBackend.deregister_instances
    original_response = ELBResponse.describe_instance_health

    def register_instances(self: Any, load_balancer_name: str, instance_ids: Any, from_autoscaling: bool = False) -> Any:
        world = worlds.simulating()
        ids = list(instance_ids)
        lb = original_register(self, load_balancer_name, ids, from_autoscaling)
        if world is not None:
            now, sims = world.now(), _classic_sims(lb)
            ec2 = ec2_backends[self.account_id][self.region_name]
            for instance_id in ids:
                if instance_id not in sims:
                    try:
                        text = user_data_text(ec2.get_instance(instance_id))
                    except InvalidInstanceIdError:
                        text = ""
                    ok = _overrides(world).get(instance_id, world.images.behaviour(text) == worlds.STARTS)
                    sims[instance_id] = TargetSim(now, None, Condition(ok, now, INITIAL, FAILED_CODES))
        return lb

    def deregister_instances(self: Any, load_balancer_name: str, instance_ids: Any, from_autoscaling: bool = False) -> Any:
        ids = list(instance_ids)
        lb = original_deregister(self, load_balancer_name, ids, from_autoscaling)
        if worlds.simulating() is not None:
            for instance_id in ids:
                if instance_id not in lb.instance_ids:
                    _classic_sims(lb).pop(instance_id, None)
        return lb

    def describe_instance_health(self: Any) -> Any:
        if worlds.simulating() is None:
            return original_response(self)
        lb_name = self._get_param("LoadBalancerName")
        wanted = self._get_param("Instances", [])
        lb = self.elb_backend.get_load_balancer(lb_name)
        found = self.elb_backend.describe_instance_health(lb_name, wanted)  # moto's errors and Unknown
        states = []
        for entry in found:
            if entry["State"] == "Unknown":
                states.append({"InstanceId": entry["InstanceId"], "State": "Unknown", "ReasonCode": "N/A",
                               "Description": "N/A"})
                continue
            state, code, description = instance_state(lb, entry["InstanceId"])
            states.append({"InstanceId": entry["InstanceId"], "State": state, "ReasonCode": code,
                           "Description": description})
        return ActionResult({"InstanceStates": states})

    ELBBackend.register_instances = register_instances  # type: ignore[method-assign]
    ELBBackend.deregister_instances = deregister_instances  # type: ignore[method-assign]
    ELBResponse.describe_instance_health = describe_instance_health  # type: ignore[method-assign]


def install() -> None:
    _install_target_groups()
    _install_classic()
