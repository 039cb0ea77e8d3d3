"""ECS's built-in blue/green (deploymentConfiguration.strategy BLUE_GREEN, LINEAR, CANARY) on the world's clock.

moto implements none of it. Here an UpdateService that changes the task definition of such a
service starts a *service deployment* that walks ECS's lifecycle stages in order
(RECONCILE_SERVICE ... CLEAN_UP): the new revision's tasks register in whichever of the primary
and alternate target groups serves no production traffic, the test listener rule then the
production listener rule are moved onto it (all at once, in linear steps, or canary then the
rest), the old tasks stay up through the bake time and are stopped at CLEAN_UP. PAUSE hooks wait
for ContinueServiceDeployment (or their timeout action); a ROLLBACK, StopServiceDeployment
ROLLBACK, a deployment alarm in ALARM or the circuit breaker put the traffic back on the old
revision and stop the new tasks. Every choice the documentation leaves open is in DIVERGENCES.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from bluegreen.local import world as worlds
from bluegreen.local.ecs_service import FAILED, ServiceSim

NATIVE = frozenset({"BLUE_GREEN", "LINEAR", "CANARY"})
STAGES = ("RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
          "POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT",
          "BAKE_TIME", "CLEAN_UP")
# Where the documentation's PRE_PRODUCTION_TRAFFIC_SHIFT hooks run: just before the shift.
HOOK_STAGE_BEFORE = {"PRE_PRODUCTION_TRAFFIC_SHIFT": "PRODUCTION_TRAFFIC_SHIFT"}
STAGE_SECONDS = 5.0          # what ECS takes for a stage with nothing to wait for
CHECK_EVERY = 10.0           # how often a waiting stage looks again (tasks healthy, alarms)
DEFAULT_HOOK_TIMEOUT_MINUTES = 60
TRAFFIC_STAGES = frozenset(STAGES[6:9])  # where deployment alarms can roll back
DONE = frozenset({"SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"})


def is_native(service: Any) -> bool:
    return (getattr(service, "deployment_configuration", None) or {}).get("strategy") in NATIVE


@dataclass
class Hook:
    id: str
    spec: dict[str, Any]
    stage: str
    status: str = ""
    expires_at: float | None = None

    def detail(self, world: worlds.World) -> dict[str, Any]:
        timeout = self.spec.get("timeoutConfiguration") or {}
        out: dict[str, Any] = {"hookId": self.id, "targetType": self.spec.get("targetType", "PAUSE"),
                               "status": self.status, "timeoutAction": timeout.get("action", "ROLLBACK")}
        if self.spec.get("hookTargetArn"):
            out["targetArn"] = self.spec["hookTargetArn"]
        if self.expires_at is not None:
            out["expiresAt"] = world.stamp(self.expires_at)
        return out


@dataclass
class ServiceDeployment:
    arn: str
    sim: ServiceSim
    source: str                       # the task definition serving before
    target: str                       # the one being deployed
    config: dict[str, Any]
    created_at: float
    stage_index: int = 0
    status: str = "IN_PROGRESS"
    reason: str = ""
    green_tg: dict[str, str] = field(default_factory=dict)   # primary TG -> the one the new tasks use
    weight: float = 0.0               # production traffic on the new revision, percent
    stage_until: float = 0.0
    hooks: list[Hook] = field(default_factory=list)
    rollback: dict[str, Any] | None = None
    finished_at: float | None = None
    updated_at: float = 0.0
    ecs_id: str = ""                  # the ServiceSim deployment running the new tasks

    @property
    def stage(self) -> str:
        return STAGES[self.stage_index]

    @property
    def world(self) -> worlds.World:
        return self.sim.world


def deployments_of(service: Any) -> list[ServiceDeployment]:
    found: list[ServiceDeployment] = getattr(service, "_bg_native", None) or []
    service._bg_native = found
    return found


def start(service: Any, source: str) -> ServiceDeployment:
    """UpdateService changed a native service's revision: a new service deployment, stage 1."""
    sim: ServiceSim = service._bg
    world = sim.world
    for running in deployments_of(service):
        if running.status not in DONE:  # ECS stops a deployment in flight when a newer one starts
            _finish(running, "STOPPED", "A newer service deployment started.")
    now = world.now()
    arn = (f"arn:aws:ecs:{service.region_name}:{sim.backend.account_id}:service-deployment/"
           f"{service.cluster_name}/{service.name}/{uuid.uuid4().hex[:22]}")
    d = ServiceDeployment(arn, sim, source, service.task_definition, dict(service.deployment_configuration),
                          now, updated_at=now)
    for spec in d.config.get("lifecycleHooks") or []:
        for stage in spec.get("lifecycleStages") or []:
            prefix = "ecs-pause" if spec.get("targetType", "PAUSE") == "PAUSE" else "ecs-hook"
            d.hooks.append(Hook(f"{prefix}-{uuid.uuid4().hex}", spec, HOOK_STAGE_BEFORE.get(stage, stage)))
    deployments_of(service).insert(0, d)
    service.current_service_deployment = arn  # Service.currentServiceDeployment in ECS's answers
    d.stage_until = now + STAGE_SECONDS
    sim.hold = True
    _schedule(d, now)
    return d


def _schedule(d: ServiceDeployment, at: float) -> None:
    d.world.schedule(at, ("ecs-native", d.arn), lambda: advance(d))


def advance(d: ServiceDeployment) -> None:
    """Do what is due now; schedule the next look."""
    if d.status in DONE:
        return
    now = d.world.now()
    d.updated_at = now
    while d.status == "IN_PROGRESS":
        if _alarm_fired(d, now):
            return
        waiting = _hook_waits(d, now)
        if waiting is not None:
            if d.status == "IN_PROGRESS":
                _schedule(d, waiting)
            return
        due = _work(d, now)
        if due is not None:
            _schedule(d, due)
            return
        if d.stage == "CLEAN_UP":
            _clean_up(d)
            return
        d.stage_index += 1
        d.stage_until = now + STAGE_SECONDS


def _work(d: ServiceDeployment, now: float) -> float | None:
    """The stage's own work; the time to look again if it is not done yet."""
    stage = d.stage
    if now < d.stage_until and stage not in ("PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME"):
        return d.stage_until
    if stage == "SCALE_UP":
        return _scale_up(d, now)
    if stage == "TEST_TRAFFIC_SHIFT":
        for lb in _load_balancers(d):
            rule = (lb.get("advancedConfiguration") or {}).get("testListenerRule")
            if rule:
                _set_weights(rule, lb, d.green_tg, 100.0)
    if stage == "PRODUCTION_TRAFFIC_SHIFT":
        return _shift(d, now)
    if stage == "BAKE_TIME":
        until = d.stage_until + 60.0 * float(d.config.get("bakeTimeInMinutes") or 0)
        if now < until:
            return min(until, now + CHECK_EVERY)
    return None


def _scale_up(d: ServiceDeployment, now: float) -> float | None:
    sim = d.sim
    if not d.ecs_id:
        for lb in _load_balancers(d):
            primary, alternate = lb.get("targetGroupArn"), (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
            rule = (lb.get("advancedConfiguration") or {}).get("productionListenerRule")
            serving = _weights(rule).get(primary, 0) if rule else 100
            d.green_tg[primary] = alternate if serving > 0 and alternate else primary
        d.sim.updated(force=False)
        d.ecs_id = sim.deployments[0].id
        sim.routes[d.ecs_id] = dict(d.green_tg)
    new = next((x for x in sim.deployments if x.id == d.ecs_id), None)
    if new is None or new.rollout == FAILED:
        _roll_back(d, "ECS deployment circuit breaker: tasks failed to start.")
        return None
    if sim._healthy(new) >= new.desired:
        return None
    return now + CHECK_EVERY


def _shift(d: ServiceDeployment, now: float) -> float | None:
    """Move production traffic: all at once, or linear steps / canary then the rest, each step baked."""
    strategy = d.config.get("strategy")
    if strategy == "LINEAR":
        linear = d.config.get("linearConfiguration") or {}
        step = float(linear.get("stepPercent") or 10.0)  # the documented defaults: 10% every 6 minutes
        wait = 60.0 * float(linear.get("stepBakeTimeInMinutes", 6))
    elif strategy == "CANARY":
        canary = d.config.get("canaryConfiguration") or {}
        step, wait = float(canary.get("canaryPercent") or 10.0), 60.0 * float(canary.get("canaryBakeTimeInMinutes") or 0)
    else:
        step, wait = 100.0, 0.0
    if now < d.stage_until:
        return d.stage_until
    if d.weight >= 100.0:
        return None
    d.weight = 100.0 if strategy == "CANARY" and d.weight > 0 else min(100.0, d.weight + step)
    for lb in _load_balancers(d):
        rule = (lb.get("advancedConfiguration") or {}).get("productionListenerRule")
        if rule:
            _set_weights(rule, lb, d.green_tg, d.weight)
    if d.weight >= 100.0:
        return None
    d.stage_until = now + wait
    return d.stage_until


def _hook_waits(d: ServiceDeployment, now: float) -> float | None:
    """The stage's hooks: a PAUSE hook awaits ContinueServiceDeployment until it times out; Lambda
    hooks are not invoked here and succeed. The time to look again, or None when all are done."""
    for hook in (h for h in d.hooks if h.stage == d.stage):
        if hook.status == "SUCCEEDED":
            continue
        if hook.spec.get("targetType", "PAUSE") != "PAUSE":
            hook.status = "SUCCEEDED"
            continue
        timeout = hook.spec.get("timeoutConfiguration") or {}
        if not hook.status:
            hook.status = "AWAITING_ACTION"
            minutes = float(timeout.get("timeoutInMinutes") or DEFAULT_HOOK_TIMEOUT_MINUTES)
            hook.expires_at = now + 60.0 * minutes
        if hook.status == "AWAITING_ACTION" and hook.expires_at is not None and now >= hook.expires_at:
            hook.status = "TIMED_OUT"
            if timeout.get("action", "ROLLBACK") == "ROLLBACK":
                _roll_back(d, f"Lifecycle hook {hook.id} timed out at {d.stage}.")
                return now
            hook.status = "SUCCEEDED"
            continue
        return hook.expires_at
    return None


def continue_deployment(d: ServiceDeployment, hook_id: str, action: str) -> bool:
    """ContinueServiceDeployment; False when no hook with that id awaits action."""
    hook = next((h for h in d.hooks if h.id == hook_id and h.status == "AWAITING_ACTION"), None)
    if hook is None or d.status != "IN_PROGRESS":
        return False
    if action == "ROLLBACK":
        hook.status = "FAILED"
        _roll_back(d, f"Rolled back by ContinueServiceDeployment at lifecycle hook {hook_id}.")
    else:
        hook.status = "SUCCEEDED"
        _schedule(d, d.world.now())
    return True


def stop(d: ServiceDeployment, stop_type: str) -> None:
    """StopServiceDeployment: ROLLBACK puts the old revision back; ABORT leaves things where they are."""
    if stop_type == "ROLLBACK":
        d.status = "ROLLBACK_REQUESTED"
        _roll_back(d, "Rollback requested by StopServiceDeployment.")
    else:
        _finish(d, "STOPPED", "Stopped by StopServiceDeployment.")


def _alarm_fired(d: ServiceDeployment, now: float) -> bool:
    alarms = d.config.get("alarms") or {}
    if d.stage not in TRAFFIC_STAGES or not alarms.get("enable") or not alarms.get("rollback"):
        return False
    fired = [name for name in alarms.get("alarmNames") or [] if _alarm_state(d, name) == "ALARM"]
    if fired:
        _roll_back(d, f"CloudWatch alarm {fired[0]} is in ALARM.")
    return bool(fired)


def _alarm_state(d: ServiceDeployment, name: str) -> str | None:
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends[d.sim.backend.account_id][d.sim.backend.region_name]
    alarm = backend.alarms.get(name)
    return alarm.state_value if alarm is not None else None


def _roll_back(d: ServiceDeployment, reason: str) -> None:
    world, sim = d.world, d.sim
    now = world.now()
    d.status = "ROLLBACK_IN_PROGRESS"
    d.rollback = {"reason": reason, "startedAt": world.stamp(now), "serviceRevisionArn": _revision(d, d.source)}
    for lb in _load_balancers(d):
        advanced = lb.get("advancedConfiguration") or {}
        for rule in (advanced.get("productionListenerRule"), advanced.get("testListenerRule")):
            if rule and d.green_tg:
                _set_weights(rule, lb, d.green_tg, 0.0)
    d.weight = 0.0
    sim.hold = False
    if d.ecs_id and sim.deployments and sim.deployments[0].id == d.ecs_id and len(sim.deployments) > 1:
        sim.abandon(f"Rolled back by service deployment {d.arn}")
    elif not d.ecs_id:
        sim.service.task_definition = d.source
    _finish(d, "ROLLBACK_SUCCESSFUL", reason)


def _clean_up(d: ServiceDeployment) -> None:
    d.sim.hold = False
    d.sim.reconcile()
    _finish(d, "SUCCESSFUL", "Service deployment completed.")


def _finish(d: ServiceDeployment, status: str, reason: str) -> None:
    d.status, d.reason = status, reason
    d.finished_at = d.updated_at = d.world.now()


# --- the load balancer ------------------------------------------------------------------------------

def _load_balancers(d: ServiceDeployment) -> list[dict[str, Any]]:
    return [lb for lb in d.sim.service.load_balancers or [] if lb.get("targetGroupArn")]


def _rule(arn: str) -> tuple[Any, Any]:
    """The listener rule with that ARN, and its listener."""
    from moto.elbv2.models import elbv2_backends

    for regions in elbv2_backends.values():
        for backend in regions.values():
            for lb in backend.load_balancers.values():
                for listener in lb.listeners.values():
                    for rule in listener.rules.values():
                        if rule.arn == arn:
                            return rule, listener
    return None, None


def _weights(rule_arn: str) -> dict[str, int]:
    rule, _ = _rule(rule_arn)
    if rule is None:
        return {}
    out: dict[str, int] = {}
    for action in rule.actions:
        forward = action.data.get("ForwardConfig") or {}
        for tg in forward.get("TargetGroups", []):
            out[tg["TargetGroupArn"]] = int(tg.get("Weight", 1))
        if action.data.get("TargetGroupArn"):
            out[action.data["TargetGroupArn"]] = 1
    return out


def _set_weights(rule_arn: str, lb: dict[str, Any], green_tg: dict[str, str], percent: float) -> None:
    """The rule forwards `percent` to the new revision's target group and the rest to the other one."""
    from moto.elbv2.models import FakeAction

    rule, listener = _rule(rule_arn)
    primary = lb.get("targetGroupArn")
    alternate = (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
    green = green_tg.get(primary, alternate)
    blue = alternate if green == primary else primary
    if rule is None or not green or not blue:
        return
    weight = int(round(percent))
    rule.actions = [FakeAction({"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": 100 - weight},
                         {"TargetGroupArn": green, "Weight": weight}],
        "TargetGroupStickinessConfig": {"Enabled": False}}})]
    if rule.is_default:  # a listener answers its default rule's actions as its DefaultActions
        listener.default_actions = rule.actions


# --- what the API answers ---------------------------------------------------------------------------

def _revision(d: ServiceDeployment, task_definition: str) -> str:
    suffix = task_definition.rsplit("/", 1)[-1].replace(":", "-")
    return d.arn.replace(":service-deployment/", ":service-revision/").rsplit("/", 1)[0] + f"/{suffix}"


def brief(d: ServiceDeployment) -> dict[str, Any]:
    service, world = d.sim.service, d.world
    out = {"serviceDeploymentArn": d.arn, "serviceArn": service.arn, "clusterArn": _cluster_arn(d),
           "createdAt": world.stamp(d.created_at), "startedAt": world.stamp(d.created_at),
           "targetServiceRevisionArn": _revision(d, d.target), "status": d.status}
    if d.reason:
        out["statusReason"] = d.reason
    if d.finished_at is not None:
        out["finishedAt"] = world.stamp(d.finished_at)
    return out


def describe(d: ServiceDeployment) -> dict[str, Any]:
    world = d.world
    out = brief(d)
    out.pop("targetServiceRevisionArn")
    new = next((x for x in d.sim.deployments if x.id == d.ecs_id), None)
    running = sum(1 for t in new.tasks if t.last_status == "RUNNING") if new else 0
    out.update({
        "updatedAt": world.stamp(d.updated_at), "lifecycleStage": d.stage,
        "sourceServiceRevisions": [{"arn": _revision(d, d.source), "requestedTaskCount": d.sim.service.desired_count,
                                    "requestedProductionTrafficWeight": 100.0 - d.weight}],
        "targetServiceRevision": {"arn": _revision(d, d.target), "requestedTaskCount": d.sim.service.desired_count,
                                  "runningTaskCount": running, "requestedProductionTrafficWeight": d.weight},
        "lifecycleHookDetails": [h.detail(world) for h in d.hooks if h.status],
        "deploymentConfiguration": d.config,
    })
    if d.status == "STOPPED" and d.finished_at is not None:
        out["stoppedAt"] = world.stamp(d.finished_at)
    if d.rollback:
        out["rollback"] = d.rollback
    return out


def _cluster_arn(d: ServiceDeployment) -> str:
    service = d.sim.service
    return f"arn:aws:ecs:{service.region_name}:{d.sim.backend.account_id}:cluster/{service.cluster_name}"
