"""One ECS service's deployments and tasks, moved along by the world's clock (see `ecs.py`).

`ServiceSim.reconcile` plays ECS's service scheduler: it runs whenever something about the
service is due (a task changes state, a target changes health, a failed task may be replaced)
and schedules itself for the next such moment, so nothing polls.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from bluegreen.local import elb
from bluegreen.local import world as worlds

PROVISIONING, PENDING, RUNNING = "PROVISIONING", "PENDING", "RUNNING"
DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED = "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"
IN_PROGRESS, COMPLETED, FAILED = "IN_PROGRESS", "COMPLETED", "FAILED"
MAX_EVENTS = 100  # ECS keeps the service's latest 100 events
STOPPED_TASKS_KEPT = 3600.0  # stopped tasks stay listed for about an hour

_task_class: Any = None


def simulated_task_class() -> Any:
    """moto's Task with a lastStatus this module sets (moto's own walks on every describe)."""
    global _task_class
    if _task_class is None:
        from moto.ecs.models import Task

        class SimulatedTask(Task):  # type: ignore[misc]
            @property
            def status(self) -> str:
                return self._status

            @status.setter
            def status(self, value: str) -> None:
                self._status = value

            def advance(self) -> None:
                return None

        _task_class = SimulatedTask
    return _task_class


@dataclass
class Deployment:
    id: str
    task_definition: str
    desired: int
    created_at: float
    updated_at: float
    status: str = "PRIMARY"
    rollout: str = IN_PROGRESS
    reason: str = ""
    failed: int = 0
    tasks: list[Any] = field(default_factory=list)

    def live(self) -> list[Any]:
        return [t for t in self.tasks if t.desired_status == RUNNING]


def _new_id() -> str:
    return f"ecs-svc/{random.randint(10**18, 10**19 - 1)}"


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


@dataclass
class ServiceSim:
    world: worlds.World
    backend: Any
    service: Any
    deployments: list[Deployment] = field(default_factory=list)
    next_launch_at: float = 0.0
    last_completed: tuple[str, str] | None = None  # (task definition, deployment id) last COMPLETED
    _news: list[str] = field(default_factory=list)
    _counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (what, target group) -> n
    _stopped_ids: list[str] = field(default_factory=list)
    # ECS's built-in blue/green (ecs_native.py): where each deployment's tasks register instead of
    # the service's target group, and whether the old deployment's tasks stay up (until CLEAN_UP).
    routes: dict[str, dict[str, str]] = field(default_factory=dict)
    hold: bool = False

    @classmethod
    def start(cls, world: worlds.World, backend: Any, service: Any) -> "ServiceSim":
        sim = cls(world, backend, service)
        world.watch(("ecs", id(sim)), sim.reconcile)
        with world.frozen():
            sim._deploy(service.task_definition, service.desired_count)
            sim.reconcile()
        return sim

    # --- what the API changes -----------------------------------------------------------------

    def updated(self, *, force: bool) -> None:
        """UpdateService: a new revision (or forceNewDeployment) is a new deployment; a new count
        changes the current one."""
        with self.world.frozen():
            self._updated(force)

    def _updated(self, force: bool) -> None:
        td, desired = self.service.task_definition, self.service.desired_count
        primary = self.deployments[0]
        if td != primary.task_definition or force:
            self._deploy(td, desired, adopt=not force)  # forceNewDeployment replaces every task
        else:
            primary.desired, primary.updated_at = desired, self.world.now()
        self.reconcile()

    def abandon(self, reason: str) -> None:
        """Roll back to the previous deployment: its tasks serve again, the new one's are stopped."""
        with self.world.frozen():
            new = self.deployments.pop(0)
            for task in new.live():
                self._stop(task, reason, "ServiceSchedulerInitiated", failure=False)
            self.deployments.insert(1, new)
            self.service.task_definition = self.deployments[0].task_definition
            self.reconcile()

    def deleted(self) -> None:
        for deployment in self.deployments:
            deployment.desired = 0
        self.reconcile()

    def _deploy(self, task_definition: str | None, desired: int, *, adopt: bool = True) -> Deployment:
        now = self.world.now()
        new = Deployment(_new_id(), task_definition or "", desired, now, now)
        new.reason = f"ECS deployment {new.id} in progress."
        for old in self.deployments:
            old.status = "ACTIVE"
            # ECS keeps running tasks of the same revision instead of replacing them
            if adopt and old.task_definition == new.task_definition:
                keep = [t for t in old.live() if t.last_status in (PROVISIONING, PENDING, RUNNING)]
                for task in keep:
                    old.tasks.remove(task)
                    task._bg_deployment = new
                    new.tasks.append(task)
        self.deployments.insert(0, new)
        self.next_launch_at = now
        return new

    # --- the scheduler -------------------------------------------------------------------------

    def reconcile(self) -> None:
        with self.world.frozen():
            self._reconcile(self.world.now())

    def _reconcile(self, now: float) -> None:
        for deployment in list(self.deployments):
            for task in list(deployment.tasks):
                self._advance(task, now)
        self._check_health(now)
        primary = self.deployments[0]
        if primary.rollout != FAILED:
            self._scale(primary, now)
        self._circuit_breaker(primary, now)
        primary = self.deployments[0]
        if not self.hold and primary.rollout != FAILED and self._healthy(primary) >= primary.desired:
            for old in self.deployments[1:]:
                for task in old.live():
                    self._stop(task, f"Scaling activity initiated by (deployment {primary.id})",
                               "ServiceSchedulerInitiated", failure=False)
        self.deployments = [self.deployments[0]] + [d for d in self.deployments[1:]
                                                    if any(t.last_status != STOPPED for t in d.tasks)]
        self._complete(primary)
        self._forget_old_tasks(now)
        self._publish()
        self._wake_up(now)

    def _scale(self, primary: Deployment, now: float) -> None:
        live = primary.live()
        missing = primary.desired - len(live)
        if missing > 0 and now >= self.next_launch_at:
            self._launch(primary, missing, now)
        elif missing < 0:
            extra = sorted(live, key=lambda t: (t.last_status == RUNNING, t._bg_created))[:-missing]
            for task in extra:
                self._stop(task, f"Scaling activity initiated by (deployment {primary.id})",
                           "ServiceSchedulerInitiated", failure=False)

    def _circuit_breaker(self, primary: Deployment, now: float) -> None:
        breaker = (self.service.deployment_configuration or {}).get("deploymentCircuitBreaker") or {}
        if not breaker.get("enable") or primary.rollout != IN_PROGRESS:
            return
        if primary.failed < min(200, max(3, math.ceil(0.5 * primary.desired))):
            return
        primary.rollout, primary.updated_at = FAILED, now
        primary.reason = "ECS deployment circuit breaker: tasks failed to start."
        self._say(f"(deployment {primary.id}) deployment failed: tasks failed to start.")
        for task in primary.live():
            if task.last_status != RUNNING:
                self._stop(task, f"Scaling activity initiated by (deployment {primary.id})",
                           "ServiceSchedulerInitiated", failure=False)
        # Rollback needs a previous COMPLETED deployment of another revision.
        if not self.hold and breaker.get("rollback") and self.last_completed and self.last_completed[0] != primary.task_definition:
            task_definition, deployment_id = self.last_completed
            self.service.task_definition = task_definition
            self._deploy(task_definition, self.service.desired_count)
            self._say(f"rolling back to deployment {deployment_id}.")

    def _complete(self, primary: Deployment) -> None:
        if primary.rollout != IN_PROGRESS or len(self.deployments) > 1:
            return
        live = primary.live()
        if len(live) != primary.desired or self._healthy(primary) < primary.desired:
            return
        primary.rollout, primary.updated_at = COMPLETED, self.world.now()
        primary.reason = f"ECS deployment {primary.id} completed."
        self.last_completed = (primary.task_definition, primary.id)
        self._say(f"(deployment {primary.id}) deployment completed.")
        self._say("has reached a steady state.")

    # --- tasks ---------------------------------------------------------------------------------

    def _launch(self, deployment: Deployment, count: int, now: float) -> None:
        td = self.backend.describe_task_definition(deployment.task_definition)
        cluster = self.backend.clusters[self.service.cluster_name]
        images = [c.get("image") for c in td.container_definitions if c.get("essential", True)]
        behaviour = self.world.images.behaviour(*images)
        t = self.world.timings
        started = []
        for _ in range(count):
            task = simulated_task_class()(
                cluster, td, None, None, backend=self.backend, group=f"service:{self.service.name}",
                launch_type=self.service.launch_type or "FARGATE", started_by=deployment.id,
                tags=self.service.tags if self.service.propagate_tags == "SERVICE" else [],
                networking_configuration=self.service.network_configuration or None,
                platform_version=self.service.platform_version)
            task._status = PROVISIONING
            task._bg_deployment, task._bg_behaviour, task._bg_created = deployment, behaviour, now
            task._bg_targets, task._bg_healthy, task._bg_reported, task._bg_sim = [], False, False, self
            task.started_at = task.stopping_at = task.stopped_at = task.stop_code = None
            task._bg_plan = [(now + t.provisioning, PENDING), (now + t.provisioning + t.pending, RUNNING)]
            task.created_at, task.health_status = self.world.stamp(now), "UNKNOWN"
            task.availability_zone = f"{self.service.region_name}a"
            self.backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
            deployment.tasks.append(task)
            started.append(task)
        self._say(f"has started {len(started)} tasks: " + " ".join(f"(task {t.id})" for t in started) + ".")

    def _advance(self, task: Any, now: float) -> None:
        while task._bg_plan and task._bg_plan[0][0] <= now:
            at, state = task._bg_plan.pop(0)
            self._enter(task, state, at)

    def _enter(self, task: Any, state: str, at: float) -> None:
        behaviour = task._bg_behaviour
        container = task.containers[0] if task.containers else None
        if state == PENDING:
            task._status, task.pull_started_at = PENDING, self.world.stamp(at)
        elif state == RUNNING and task.desired_status == RUNNING:
            task.pull_stopped_at = self.world.stamp(at)
            if behaviour == worlds.PULL_FAILS:
                image = container.image if container else "the image"
                self._stopped(task, at, f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                                        f"failed to resolve ref {image}: not found", "TaskFailedToStart", failure=True)
                return
            task._status, task.started_at, task._bg_started = RUNNING, self.world.stamp(at), at
            if container:
                container.last_status = RUNNING
            self._register(task)
            if behaviour == worlds.EXITS:
                task._bg_plan = [(at + self.world.timings.exit_after, "EXIT")]
        elif state == "EXIT":
            if container:
                container.exitCode, container.last_status = 1, STOPPED
            self._stop(task, "Essential container in task exited", "EssentialContainerExited", failure=True)
        elif state == STOPPING:
            task._status = STOPPING
        elif state == DEPROVISIONING:
            task._status = DEPROVISIONING
        elif state == STOPPED:
            self._stopped(task, at, task.stopped_reason, task.stop_code, failure=False)

    def _register(self, task: Any) -> None:
        ip = _private_ip(task)
        if ip is None:
            return
        ok = task._bg_behaviour != worlds.UNHEALTHY
        for lb in self.service.load_balancers:
            arn = lb.get("targetGroupArn")
            arn = self.routes.get(task._bg_deployment.id, {}).get(arn, arn)
            tg = self._elbv2().target_groups.get(arn) if arn else None
            if tg is None:
                continue
            port = lb.get("containerPort")
            elb.expect(tg, ip, ok)
            self._elbv2().register_targets(arn, [{"Id": ip, "Port": port}])
            task._bg_targets.append((arn, ip, port))
            self._count("registered", arn)

    def _stop(self, task: Any, reason: str, code: str, *, failure: bool) -> None:
        if task.desired_status == STOPPED:
            return
        now = self.world.now()
        task.desired_status, task.stopped_reason, task.stop_code = STOPPED, reason, code
        task.stopping_at = self.world.stamp(now)
        if failure:
            self._failed(task, now)
        if task.last_status != RUNNING:
            task._bg_plan = [(now, STOPPED)]
            self._advance(task, now)
            return
        delay = 0.0
        for arn, ip, port in task._bg_targets:
            tg = self._elbv2().target_groups.get(arn)
            if tg is not None and ip in tg.targets:
                self._elbv2().deregister_targets(arn, [{"Id": ip, "Port": port}])
                delay = max(delay, elb.deregistration_delay(tg))
                self._count("deregistered", arn)
        if task._bg_targets:
            self._count("draining", "")
        task._status = DEACTIVATING
        s = self.world.timings.stopping
        task._bg_plan = [(now + delay, STOPPING), (now + delay + s / 2, DEPROVISIONING), (now + delay + s, STOPPED)]

    def _stopped(self, task: Any, at: float, reason: str, code: str, *, failure: bool) -> None:
        ran = task.started_at is not None
        if task.desired_status != STOPPED:
            task.desired_status, task.stopped_reason, task.stop_code = STOPPED, reason, code
            task.stopping_at = self.world.stamp(at)
            if failure:
                self._failed(task, at)
        task._status, task.stopped_at, task.execution_stopped_at = STOPPED, self.world.stamp(at), self.world.stamp(at)
        task._bg_plan, task._bg_stopped = [], at
        if task.containers:
            task.containers[0].last_status = STOPPED
            if task.stop_code == "TaskFailedToStart":
                task.containers[0].reason = task.stopped_reason
        if ran:
            self._stopped_ids.append(task.id)
        _release_eni(task)

    def _failed(self, task: Any, at: float) -> None:
        deployment = task._bg_deployment
        deployment.failed += 1
        self.next_launch_at = max(self.next_launch_at, at + self.world.timings.replacement_delay)

    def _check_health(self, now: float) -> None:
        grace = float(getattr(self.service, "health_check_grace_period_seconds", None) or 0)
        for deployment in self.deployments:
            for task in deployment.live():
                if task.last_status != RUNNING or not task._bg_targets:
                    if task.last_status == RUNNING and not task._bg_healthy:
                        self._became_healthy(task, deployment)
                    continue
                states = [self._target_state(arn, ip) for arn, ip, _ in task._bg_targets]
                if all(s == elb.HEALTHY for s in states) and not task._bg_healthy:
                    self._became_healthy(task, deployment)
                sick = next(((arn, ip, port) for (arn, ip, port), s in zip(task._bg_targets, states)
                             if s == elb.UNHEALTHY), None)
                if sick is None:
                    continue
                if not task._bg_reported:
                    task._bg_reported = True
                    self._say(f"(task {task.id}) (port {sick[2]}) is unhealthy in (target-group {sick[0]}) due to "
                              f"(reason {elb.FAILED_CODES[1]}).")
                if now >= task._bg_started + grace:
                    self._stop(task, f"Task failed ELB health checks in (target-group {sick[0]})",
                               "ServiceSchedulerInitiated", failure=True)

    def _became_healthy(self, task: Any, deployment: Deployment) -> None:
        task._bg_healthy, task.health_status = True, "HEALTHY"
        deployment.failed = 0  # resetOnHealthyTask defaults to true

    def _healthy(self, deployment: Deployment) -> int:
        return sum(1 for t in deployment.live() if t.last_status == RUNNING and t._bg_healthy)

    def _target_state(self, arn: str, ip: str) -> str | None:
        tg = self._elbv2().target_groups.get(arn)
        found = elb.target_health(tg, ip) if tg is not None else None
        return found[0] if found else None

    # --- bookkeeping ---------------------------------------------------------------------------

    def _wake_up(self, now: float) -> None:
        times = []
        grace = float(getattr(self.service, "health_check_grace_period_seconds", None) or 0)
        for deployment in self.deployments:
            for task in deployment.tasks:
                if task._bg_plan:
                    times.append(task._bg_plan[0][0])
                if task.last_status == RUNNING and task.desired_status == RUNNING:
                    for arn, ip, _ in task._bg_targets:
                        tg = self._elbv2().target_groups.get(arn)
                        change = elb.next_change(tg, ip) if tg is not None else None
                        if change is not None:
                            times.append(change)
                        if self._target_state(arn, ip) == elb.UNHEALTHY:
                            times.append(max(now, task._bg_started + grace))
        primary = self.deployments[0]
        if len(primary.live()) < primary.desired and primary.rollout != FAILED:
            times.append(max(now, self.next_launch_at))
        future = [t for t in times if t >= now]
        if future:
            self.world.schedule(min(future), ("ecs", id(self)), self.reconcile)

    def _forget_old_tasks(self, now: float) -> None:
        tasks = self.backend.tasks.get(self.service.cluster_name, {})
        for deployment in self.deployments:
            for task in list(deployment.tasks):
                if task.last_status == STOPPED and now - getattr(task, "_bg_stopped", now) > STOPPED_TASKS_KEPT:
                    deployment.tasks.remove(task)
                    tasks.pop(task.task_arn, None)

    def _say(self, message: str) -> None:
        self._flush_counts()
        self._news.append(message)

    def _count(self, what: str, target_group: str) -> None:
        key = (what, target_group)
        self._counts[key] = self._counts.get(key, 0) + 1

    def _flush_counts(self) -> None:
        """ECS reports registrations, draining and stops in one event each, with counts."""
        for (what, arn), n in self._counts.items():
            if what == "draining":
                self._news.append(f"has begun draining connections on {n} tasks.")
            else:
                self._news.append(f"{what} {n} targets in (target-group {arn})")
        self._counts.clear()
        if self._stopped_ids:
            ids = " ".join(f"(task {i})" for i in self._stopped_ids)
            self._news.append(f"has stopped {len(self._stopped_ids)} running tasks: {ids}.")
            self._stopped_ids.clear()

    def _publish(self) -> None:
        """Copy the simulation into what moto serializes: deployments, counts, events."""
        service, now = self.service, self.world.now()
        self._flush_counts()
        for message in self._news:
            service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": self.world.stamp(now),
                                      "message": f"(service {service.name}) {message}"})
        del service.events[MAX_EVENTS:]
        self._news.clear()
        service.deployments = [self._deployment_view(d, i == 0) for i, d in enumerate(self.deployments)]
        every = [t for d in self.deployments for t in d.tasks]
        service.running_count = sum(1 for t in every if t.last_status == RUNNING)
        service.pending_count = sum(1 for t in every if t.last_status in (PROVISIONING, PENDING))
        cluster = self.backend.clusters.get(service.cluster_name)
        if cluster is not None:
            tasks = self.backend.tasks.get(cluster.name, {}).values()
            cluster.running_tasks_count = sum(1 for t in tasks if t.last_status == RUNNING)
            cluster.pending_tasks_count = sum(1 for t in tasks if t.last_status in (PROVISIONING, PENDING))

    def _deployment_view(self, d: Deployment, primary: bool) -> dict[str, Any]:
        s = self.service
        return {
            "id": d.id, "status": "PRIMARY" if primary else "ACTIVE", "taskDefinition": d.task_definition,
            "desiredCount": d.desired, "pendingCount": sum(1 for t in d.tasks if t.last_status in (PROVISIONING, PENDING)),
            "runningCount": sum(1 for t in d.tasks if t.last_status == RUNNING), "failedTasks": d.failed,
            "createdAt": self.world.stamp(d.created_at), "updatedAt": self.world.stamp(d.updated_at),
            "launchType": s.launch_type, "platformVersion": s.platform_version,
            "platformFamily": "Linux", "networkConfiguration": s.network_configuration or None,
            "rolloutState": d.rollout, "rolloutStateReason": d.reason,
        }

    def _elbv2(self) -> Any:
        from moto.elbv2.models import elbv2_backends

        return elbv2_backends[self.backend.account_id][self.backend.region_name]


def stop_by_user(task: Any, reason: str) -> None:
    """StopTask: the caller's reason, stopCode UserInitiated; ECS replaces the task if it must."""
    sim: ServiceSim = task._bg_sim
    with sim.world.lock:
        sim._stop(task, reason, "UserInitiated", failure=False)
        sim.reconcile()


def _private_ip(task: Any) -> str | None:
    for attachment in getattr(task, "attachments", []):
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                return detail.get("value")
    return None


def _release_eni(task: Any) -> None:
    """ECS deletes a stopped awsvpc task's network interface."""
    from moto.ec2.models import ec2_backends

    for attachment in getattr(task, "attachments", []):
        for detail in attachment.get("details", []):
            if detail.get("name") == "networkInterfaceId":
                try:
                    ec2_backends[task._account_id][task.region_name].delete_network_interface(detail["value"])
                except Exception:  # already gone; nothing to release
                    pass
        attachment["status"] = "DELETED"
