"""ECS that runs its services (rolling-update `ECS` controller), computed from the world's clock.

- CreateService / UpdateService start a deployment: its tasks go PROVISIONING -> PENDING ->
  RUNNING and, once RUNNING, are registered (their awsvpc address, the container port) in the
  service's target groups; the deployment's rolloutState goes IN_PROGRESS -> COMPLETED when the
  service reaches a steady state; earlier deployments are drained (DEACTIVATING for the target
  group's deregistration delay) and stopped once the new tasks are healthy.
- A task whose image is marked (`World.images`) fails to start (CannotPullContainerError),
  exits ("Essential container in task exited") or fails its target group's health checks
  ("Task failed ELB health checks in ...", after the service's health check grace period).
  ECS replaces failed tasks; with the deployment circuit breaker on, the deployment goes FAILED
  after max(3, min(200, ceil(0.5 x desired))) failures and, with rollback, ECS starts a new
  deployment of the last COMPLETED one's task definition by itself.
- Service events, task stoppedReason / stopCode and the deployment counts are filled in;
  ListTasks honours serviceName and defaults desiredStatus to RUNNING.

The moving parts are in `ecs_service.py`; this module hooks them into moto.
"""

from __future__ import annotations

from typing import Any

from bluegreen.local import ecs_native, ecs_native_api
from bluegreen.local import world as worlds
from bluegreen.local.ecs_service import ServiceSim, simulated_task_class, stop_by_user


def _sim(service: Any) -> ServiceSim | None:
    return getattr(service, "_bg", None)


def _install_responses() -> None:
    from moto.ecs.responses import EC2ContainerServiceResponse

    original_create = EC2ContainerServiceResponse.create_service
    original_update = EC2ContainerServiceResponse.update_service

    def create_service(self: Any) -> Any:
        world = worlds.simulating()
        result = original_create(self)
        if world is not None:
            service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
            service.deployment_configuration = _deployment_configuration(self._get_param("deploymentConfiguration"))
            service.health_check_grace_period_seconds = self._get_param("healthCheckGracePeriodSeconds")
            if service.deployment_controller.get("type", "ECS") == "ECS":
                service._bg = ServiceSim.start(world, self.ecs_backend, service)
        return result

    def update_service(self: Any) -> Any:
        world = worlds.simulating()
        if world is None:
            return original_update(self)
        cluster, name = self._get_param("cluster", "default"), self._get_param("service")
        service = self.ecs_backend._get_service(cluster, name)
        source = service.task_definition
        result = original_update(self)
        if self._get_param("taskDefinition"):  # moto stores the literal string; ECS answers the ARN
            service.task_definition = self.ecs_backend.describe_task_definition(self._get_param("taskDefinition")).arn
        if self._get_param("deploymentConfiguration") is not None:
            service.deployment_configuration = _deployment_configuration(self._get_param("deploymentConfiguration"))
        if self._get_param("healthCheckGracePeriodSeconds") is not None:
            service.health_check_grace_period_seconds = self._get_param("healthCheckGracePeriodSeconds")
        sim = _sim(service)
        if sim is not None and ecs_native.is_native(service) and service.task_definition != source:
            ecs_native.start(service, source)  # ECS's built-in blue/green takes it from here
        elif sim is not None:
            sim.updated(force=bool(self._get_param("forceNewDeployment")))
        return result

    EC2ContainerServiceResponse.create_service = create_service  # type: ignore[method-assign]
    EC2ContainerServiceResponse.update_service = update_service  # type: ignore[method-assign]


def _deployment_configuration(given: dict[str, Any] | None) -> dict[str, Any]:
    """What ECS answers for a service's deploymentConfiguration: the given one over its defaults."""
    out: dict[str, Any] = {"maximumPercent": 200, "minimumHealthyPercent": 100,
                           "deploymentCircuitBreaker": {"enable": False, "rollback": False}}
    for key, value in (given or {}).items():
        out[key] = value
    return out


def _install_backend() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend

    original_list = EC2ContainerServiceBackend.list_tasks
    original_stop = EC2ContainerServiceBackend.stop_task
    original_delete = EC2ContainerServiceBackend.delete_service
    simulated = simulated_task_class()

    def list_tasks(self: Any, cluster_str: str | None = None, container_instance: str | None = None,
                   family: str | None = None, started_by: str | None = None, service_name: str | None = None,
                   desiredStatus: str | None = None) -> list[Any]:  # noqa: N803 - moto's name
        if worlds.simulating() is None:
            return original_list(self, cluster_str, container_instance, family, started_by, service_name, desiredStatus)
        tasks = original_list(self, cluster_str, container_instance, family, started_by, None, desiredStatus or "RUNNING")
        if service_name:
            group = f"service:{service_name.split('/')[-1]}"
            tasks = [t for t in tasks if t.group == group]
        return tasks

    def stop_task(self: Any, cluster_str: str, task_str: str, reason: str) -> Any:
        if worlds.simulating() is not None:
            cluster = self._get_cluster(cluster_str)
            for arn, task in self.tasks.get(cluster.name, {}).items():
                if arn.endswith(task_str.split("/")[-1]) and isinstance(task, simulated):
                    stop_by_user(task, reason or "Task stopped by user")
                    return task
        return original_stop(self, cluster_str, task_str, reason)

    def delete_service(self: Any, cluster_name: str, service_name: str, force: bool) -> Any:
        service = original_delete(self, cluster_name, service_name, force)
        sim = _sim(service)
        if sim is not None and worlds.simulating() is not None:
            sim.deleted()
        return service

    EC2ContainerServiceBackend.list_tasks = list_tasks  # type: ignore[method-assign]
    EC2ContainerServiceBackend.stop_task = stop_task  # type: ignore[method-assign]
    EC2ContainerServiceBackend.delete_service = delete_service  # type: ignore[method-assign]


def install() -> None:
    _install_responses()
    ecs_native_api.install()
    _install_backend()
