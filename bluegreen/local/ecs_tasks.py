"""One-off ECS tasks (RunTask) that run on the world's clock and end the way the test chose.

moto's RunTask tasks start RUNNING and walk to STOPPED on successive DescribeTasks, always with
exit code 0. Here a one-off task goes PROVISIONING -> PENDING -> RUNNING -> STOPPED like a Fargate
task (`Timings.provisioning`, `Timings.pending`), runs for the time its `World.tasks` mark says
(20 s by default) and then its essential container exits with the mark's code; the task's
stoppedReason is "Essential container in task exited" (stopCode EssentialContainerExited).
A task whose image is marked PULL_FAILS never starts (CannotPullContainerError, TaskFailedToStart,
no exit code). The mark is matched against the command override and the container's image.
StopTask stops it with the caller's reason (UserInitiated, exit code 137 as for SIGKILL).
"""

from __future__ import annotations

from typing import Any

from bluegreen.local import world as worlds
from bluegreen.local.ecs_service import (
    DEPROVISIONING, PENDING, PROVISIONING, RUNNING, STOPPED, STOPPING, _release_eni, simulated_task_class,
)


def _words(task: Any) -> list[str]:
    words = []
    for override in (task.overrides or {}).get("containerOverrides", []):
        words.append(" ".join(override.get("command") or []))
    words += [c.image for c in task.containers if getattr(c, "image", None)]
    return words


def start(world: worlds.World, task: Any) -> None:
    """Take over a task moto's RunTask just made: it now moves on the world's clock."""
    task.__class__ = simulated_task_class()
    now, t = world.now(), world.timings
    task._status, task._bg_one_off = PROVISIONING, True
    task.created_at, task.started_at, task.stopped_at, task.stop_code = world.stamp(now), None, None, None
    task.stopping_at, task.health_status = None, "UNKNOWN"
    for container in task.containers:
        container.last_status, container.exitCode = PENDING, None
    image = task.containers[0].image if task.containers else ""
    pulls = world.images.behaviour(image) != worlds.PULL_FAILS
    ending = world.tasks.ending(*_words(task))
    running_at = now + t.provisioning + t.pending
    plan = [(now + t.provisioning, PENDING)]
    if pulls:
        plan += [(running_at, RUNNING), (running_at + ending.runs_for, "EXIT")]
    else:
        plan += [(running_at, "PULL-FAILED")]
    task._bg_plan, task._bg_ending = plan, ending
    _schedule(world, task)


def _schedule(world: worlds.World, task: Any) -> None:
    if task._bg_plan:
        world.schedule(task._bg_plan[0][0], ("one-off", task.id), lambda: _advance(world, task))


def _advance(world: worlds.World, task: Any) -> None:
    now = world.now()
    while task._bg_plan and task._bg_plan[0][0] <= now:
        at, state = task._bg_plan.pop(0)
        _enter(world, task, state, at)
    _schedule(world, task)


def _enter(world: worlds.World, task: Any, state: str, at: float) -> None:
    container = task.containers[0] if task.containers else None
    if state == PENDING:
        task._status, task.pull_started_at = PENDING, world.stamp(at)
    elif state == RUNNING:
        task._status, task.started_at, task.pull_stopped_at = RUNNING, world.stamp(at), world.stamp(at)
        if container:
            container.last_status = RUNNING
    elif state == "EXIT":
        _stop(world, task, at, task._bg_ending.reason, "EssentialContainerExited", task._bg_ending.exit_code)
    elif state == "PULL-FAILED":
        image = container.image if container else "the image"
        reason = (f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
                  f"ref {image}: not found")
        if container:
            container.reason = reason
        _stop(world, task, at, reason, "TaskFailedToStart", None)
    elif state in (STOPPING, DEPROVISIONING):
        task._status = state
    elif state == STOPPED:
        task._status, task.stopped_at, task.execution_stopped_at = STOPPED, world.stamp(at), world.stamp(at)
        _release_eni(task)


def _stop(world: worlds.World, task: Any, at: float, reason: str, code: str, exit_code: int | None) -> None:
    task.desired_status, task.stopped_reason, task.stop_code = STOPPED, reason, code
    task.stopping_at = world.stamp(at)
    for container in task.containers:
        container.last_status, container.exitCode = STOPPED, exit_code
    s = world.timings.stopping
    task._status = "DEACTIVATING"
    task._bg_plan = [(at + s / 2, STOPPING), (at + s * 3 / 4, DEPROVISIONING), (at + s, STOPPED)]


def install() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend

    original_run = EC2ContainerServiceBackend.run_task
    original_needs = EC2ContainerServiceBackend._calculate_task_resource_requirements  # a staticmethod

    def needs(task_definition: Any) -> Any:
        # moto adds up container-level memory and fails on a Fargate revision that has only the
        # task-level size (valid in ECS): count a container without one as 0.
        if worlds.simulating() is None:
            return original_needs(task_definition)
        saved = task_definition.container_definitions
        task_definition.container_definitions = [
            c if c.get("memory") is not None or c.get("memoryReservation") is not None or "Memory" in c
            or "MemoryReservation" in c else {**c, "memory": 0} for c in saved]
        try:
            return original_needs(task_definition)
        finally:
            task_definition.container_definitions = saved
    original_stop = EC2ContainerServiceBackend.stop_task

    def run_task(self: Any, *args: Any, **kwargs: Any) -> Any:
        tasks = original_run(self, *args, **kwargs)
        world = worlds.simulating()
        if world is not None:
            with world.frozen():
                for task in tasks:
                    start(world, task)
        return tasks

    def stop_task(self: Any, cluster_str: str, task_str: str, reason: str) -> Any:
        world = worlds.simulating()
        if world is not None:
            cluster = self._get_cluster(cluster_str)
            for arn, task in self.tasks.get(cluster.name, {}).items():
                if arn.endswith(task_str.split("/")[-1]) and getattr(task, "_bg_one_off", False):
                    with world.frozen() as now:
                        if task.desired_status != STOPPED:
                            _stop(world, task, now, reason or "Task stopped by user", "UserInitiated", 137)
                            _schedule(world, task)
                    return task
        return original_stop(self, cluster_str, task_str, reason)

    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(needs)  # type: ignore[method-assign,assignment]
    EC2ContainerServiceBackend.run_task = run_task  # type: ignore[method-assign]
    EC2ContainerServiceBackend.stop_task = stop_task  # type: ignore[method-assign]
