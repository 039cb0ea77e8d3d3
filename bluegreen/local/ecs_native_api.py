"""The service-deployment API of ECS's built-in blue/green, which moto lacks (see `ecs_native.py`).

ListServiceDeployments, DescribeServiceDeployments, StopServiceDeployment and
ContinueServiceDeployment, answered from the world's service deployments with the error codes
botocore's ECS model lists for them; moto serializes the answers by the same model.
"""

from __future__ import annotations

from typing import Any

from bluegreen.local import ecs_native
from bluegreen.local import world as worlds

ACTIONS = ("CONTINUE", "ROLLBACK")
STOP_TYPES = ("ABORT", "ROLLBACK")
MAX_DESCRIBE = 20


def _error(code: str, message: str) -> Exception:
    from moto.ecs.exceptions import ECSException

    return ECSException(code, message)


def _all(backend: Any) -> list[ecs_native.ServiceDeployment]:
    return [d for service in backend.services.values() for d in ecs_native.deployments_of(service)]


def _find(backend: Any, arn: str | None) -> ecs_native.ServiceDeployment:
    if not arn:
        raise _error("InvalidParameterException", "serviceDeploymentArn must be provided.")
    found = next((d for d in _all(backend) if d.arn == arn), None)
    if found is None:
        raise _error("ServiceDeploymentNotFoundException", f"Service deployment {arn} not found.")
    return found


def _world() -> worlds.World:
    world = worlds.simulating()
    if world is None:
        raise _error("UnsupportedFeatureException", "Service deployments need the realistic emulator.")
    return world


def install() -> None:
    from moto.core.responses import ActionResult
    from moto.ecs.responses import EC2ContainerServiceResponse

    def list_service_deployments(self: Any) -> Any:
        _world()
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
        statuses = self._get_param("status") or []
        found = [d for d in ecs_native.deployments_of(service) if not statuses or d.status in statuses]
        limit = int(self._get_param("maxResults") or 20)
        if not 1 <= limit <= 100:
            raise _error("InvalidParameterException", "maxResults must be between 1 and 100.")
        return ActionResult({"serviceDeployments": [ecs_native.brief(d) for d in found[:limit]]})

    def describe_service_deployments(self: Any) -> Any:
        _world()
        arns = self._get_param("serviceDeploymentArns") or []
        if not arns or len(arns) > MAX_DESCRIBE:
            raise _error("InvalidParameterException", f"serviceDeploymentArns must hold 1 to {MAX_DESCRIBE} ARNs.")
        known = {d.arn: d for d in _all(self.ecs_backend)}
        return ActionResult({
            "serviceDeployments": [ecs_native.describe(known[a]) for a in arns if a in known],
            "failures": [{"arn": a, "reason": "MISSING"} for a in arns if a not in known]})

    def stop_service_deployment(self: Any) -> Any:
        world = _world()
        stop_type = self._get_param("stopType") or "ROLLBACK"
        if stop_type not in STOP_TYPES:
            raise _error("InvalidParameterException", f"stopType must be one of {', '.join(STOP_TYPES)}.")
        with world.frozen():
            d = _find(self.ecs_backend, self._get_param("serviceDeploymentArn"))
            if d.status in ecs_native.DONE:
                raise _error("ConflictException", f"Service deployment {d.arn} is {d.status} and cannot be stopped.")
            ecs_native.stop(d, stop_type)
        return ActionResult({"serviceDeploymentArn": d.arn})

    def continue_service_deployment(self: Any) -> Any:
        world = _world()
        action = self._get_param("action") or "CONTINUE"
        if action not in ACTIONS:
            raise _error("InvalidParameterException", f"action must be one of {', '.join(ACTIONS)}.")
        hook_id = self._get_param("hookId")
        if not hook_id:
            raise _error("InvalidParameterException", "hookId must be provided.")
        with world.frozen():
            d = _find(self.ecs_backend, self._get_param("serviceDeploymentArn"))
            if not ecs_native.continue_deployment(d, hook_id, action):
                raise _error("InvalidParameterException",
                             f"No lifecycle hook {hook_id} awaits action in service deployment {d.arn}.")
        return ActionResult({"serviceDeploymentArn": d.arn})

    for handler in (list_service_deployments, describe_service_deployments, stop_service_deployment,
                    continue_service_deployment):
        setattr(EC2ContainerServiceResponse, handler.__name__, handler)
