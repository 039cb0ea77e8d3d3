"""CodeDeploy's ECS calls, answered from `codedeploy.DeploymentSim`: how the simulation hooks into moto.

CreateDeployment of an ECS application checks the revision (an AppSpecContent naming a registered
task definition, the container and port of the service's load balancer) and starts the
simulation; GetDeployment / BatchGetDeployments answer `errorInformation` and `rollbackInfo`;
ContinueDeployment, StopDeployment, ListDeploymentTargets and GetDeploymentTarget, which moto
lacks, are added. Error codes are those botocore's service model lists for each operation.
"""

from __future__ import annotations

import json
from typing import Any

from bluegreen.local import world as worlds
from bluegreen.local.codedeploy import EVENTS, DeploymentSim, _target_service, appspec


def _error(code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)


def _backends(response: Any) -> tuple[Any, Any]:
    from moto.ecs.models import ecs_backends
    from moto.elbv2.models import elbv2_backends

    return (ecs_backends[response.current_account][response.region],
            elbv2_backends[response.current_account][response.region])


class Records:
    """What CodeDeploy records after a deployment ends (attached to moto's backend)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def record_success(self, sim: DeploymentSim) -> None:
        sim.info.deployment_group._bg_last_success = sim.info.deployment_id

    def record_rollback(self, sim: DeploymentSim) -> None:
        """The rollback is a deployment of its own that re-deploys the original task set."""
        from moto.codedeploy.models import DeploymentInfo

        original = sim.info
        group = original.deployment_group
        rollback = DeploymentInfo(original.application, group, original.revision, original.deployment_config_name,
                                  f"Rollback of {original.deployment_id}", None, None, None, None, None, None,
                                  "codeDeployRollback")
        rollback.status = "Succeeded"
        rollback.start_time = rollback.complete_time = sim.world.stamp().isoformat()
        rollback.rollback_info = {"rollbackTriggeringDeploymentId": original.deployment_id,
                                  "rollbackMessage": f"Rollback of {original.deployment_id}: traffic back on the "
                                                     "original task set."}
        self.backend.deployments[rollback.deployment_id] = rollback
        original.rollback_info = {"rollbackDeploymentId": rollback.deployment_id,
                                  "rollbackMessage": f"Deployment {original.deployment_id} was rolled back by "
                                                     f"deployment {rollback.deployment_id}."}


def _records(backend: Any) -> Records:
    if not hasattr(backend, "_bg_records"):
        backend._bg_records = Records(backend)
    return backend._bg_records


def _deployment(response: Any) -> Any:
    deployment_id = response._get_param("deploymentId")
    if not deployment_id:
        raise _error("DeploymentIdRequiredException", "The deployment ID was not specified.")
    found = response.codedeploy_backend.deployments.get(deployment_id)
    if found is None:
        raise _error("DeploymentDoesNotExistException", f"The deployment {deployment_id} could not be found.")
    return found


def _sim_of(info: Any) -> DeploymentSim:
    sim = getattr(info, "_bg", None)
    if sim is None:
        raise _error("UnsupportedActionForDeploymentTypeException",
                     "This action is only supported for ECS blue/green deployments.")
    return sim


def _start(response: Any, info: Any, world: worlds.World) -> DeploymentSim:
    """Check the ECS deployment group and the AppSpec, then start the deployment."""
    group = info.deployment_group
    ecs, elbv2 = _backends(response)
    services = group.ecs_services or []
    if not services:
        raise _error("InvalidDeploymentGroupNameException", "The deployment group has no ECS service.")
    try:
        service = ecs._get_service(services[0]["clusterName"], services[0]["serviceName"])
    except Exception:
        raise _error("InvalidDeploymentGroupNameException",
                     f"The ECS service {services[0].get('serviceName')} could not be found.") from None
    pairs = (group.load_balancer_info or {}).get("targetGroupPairInfoList") or []
    if not pairs or len(pairs[0].get("targetGroups") or []) != 2:
        raise _error("InvalidLoadBalancerInfoException", "An ECS deployment group needs one pair of target groups.")
    pair = pairs[0]
    by_name = {tg.name: arn for arn, tg in elbv2.target_groups.items()}
    names = [tg["name"] for tg in pair["targetGroups"]]
    if any(n not in by_name for n in names):
        raise _error("InvalidLoadBalancerInfoException", f"Target groups {', '.join(names)} must exist.")
    prod = list((pair.get("prodTrafficRoute") or {}).get("listenerArns") or [])
    test = list((pair.get("testTrafficRoute") or {}).get("listenerArns") or [])
    original = _serving(elbv2, prod[0], [by_name[n] for n in names]) if prod else by_name[names[0]]
    replacement = next(by_name[n] for n in names if by_name[n] != original)
    properties = _target_service(appspec(info))
    definition = str(properties.get("TaskDefinition") or "")
    try:
        definition = ecs.describe_task_definition(definition).arn
    except Exception:
        raise _error("InvalidRevisionException", f"The AppSpec's TaskDefinition {definition!r} is not a "
                     "registered task definition.") from None
    lb = properties.get("LoadBalancerInfo") or {}
    wanted = {(x.get("containerName"), x.get("containerPort")) for x in service.load_balancers}
    if (lb.get("ContainerName"), int(lb.get("ContainerPort") or 0)) not in wanted:
        raise _error("InvalidRevisionException", "The AppSpec's LoadBalancerInfo (ContainerName "
                     f"{lb.get('ContainerName')}, ContainerPort {lb.get('ContainerPort')}) does not match the service.")
    tg = elbv2.target_groups[original]
    sim = DeploymentSim(world, info, _records(response.codedeploy_backend), ecs, elbv2, service, definition,
                        original, replacement, prod, test,
                        original_targets=[(t["Id"], int(t.get("Port") or 0)) for t in tg.targets.values()])
    info._bg = sim
    sim.begin()
    return sim


def _serving(elbv2: Any, listener_arn: str, candidates: list[str]) -> str:
    """The target group of the pair that the production listener forwards to (the most weight)."""
    listener = elbv2.describe_listeners(load_balancer_arn=None, listener_arns=[listener_arn])[0]
    weights: dict[str, int] = {}
    for action in listener.default_actions:
        data = action.data if hasattr(action, "data") else dict(action)
        if data.get("TargetGroupArn"):
            weights[data["TargetGroupArn"]] = 100
        for group in (data.get("ForwardConfig") or {}).get("TargetGroups") or []:
            weights[group["TargetGroupArn"]] = int(group.get("Weight", 1))
    return max(candidates, key=lambda arn: weights.get(arn, -1))


def _install_responses() -> None:
    from moto.codedeploy.responses import CodeDeployResponse as R

    original_create = R.create_deployment

    def create_deployment(self: Any) -> str:
        world = worlds.simulating()
        if world is None:
            return original_create(self)
        application = self.codedeploy_backend.applications.get(self._get_param("applicationName"))
        if application is not None and application.compute_platform == "ECS":
            revision = self._get_param("revision") or {}
            if revision.get("revisionType") != "AppSpecContent" or not (revision.get("appSpecContent") or {}).get("content"):
                raise _error("InvalidRevisionException", "An ECS deployment's revision must be an AppSpecContent.")
        answer = original_create(self)
        info = self.codedeploy_backend.deployments[json.loads(answer)["deploymentId"]]
        if application is not None and application.compute_platform == "ECS":
            try:
                _start(self, info, world)
            except Exception:
                del self.codedeploy_backend.deployments[info.deployment_id]
                raise
        return answer

    def continue_deployment(self: Any) -> str:
        info = _deployment(self)
        sim = _sim_of(info)
        wait = self._get_param("deploymentWaitType") or "READY_WAIT"
        if wait not in ("READY_WAIT", "TERMINATION_WAIT"):
            raise _error("InvalidDeploymentWaitTypeException", f"The wait type {wait} is invalid.")
        if info.status in ("Succeeded", "Failed", "Stopped"):
            raise _error("DeploymentAlreadyCompletedException", f"The deployment {info.deployment_id} has already completed.")
        if wait == "READY_WAIT":
            if info.status != "Ready":
                raise _error("DeploymentIsNotInReadyStateException", f"The deployment {info.deployment_id} is not ready.")
            sim.proceed()
        elif sim.terminate_at is None:
            raise _error("InvalidDeploymentStatusException", "The deployment is not waiting to terminate the original task set.")
        else:
            sim.terminate_original()
        return "{}"

    def stop_deployment(self: Any) -> str:
        info = _deployment(self)
        sim = _sim_of(info)
        if info.status in ("Succeeded", "Failed", "Stopped"):
            raise _error("DeploymentAlreadyCompletedException", f"The deployment {info.deployment_id} has already completed.")
        sim.stop(bool(self._get_param("autoRollbackEnabled")))
        return json.dumps({"status": "Succeeded", "statusMessage": f"Deployment {info.deployment_id} stopped."})

    def list_deployment_targets(self: Any) -> str:
        sim = _sim_of(_deployment(self))
        return json.dumps({"targetIds": [f"{sim.service.cluster_name}:{sim.service.name}"]})

    def get_deployment_target(self: Any) -> str:
        sim = _sim_of(_deployment(self))
        target = self._get_param("targetId")
        if not target:
            raise _error("DeploymentTargetIdRequiredException", "A deployment target ID was not specified.")
        view = sim.target_view()
        if target != view["targetId"]:
            raise _error("DeploymentTargetDoesNotExistException", f"The target {target} was not found.")
        return json.dumps({"deploymentTarget": {"deploymentTargetType": "ECSTarget", "ecsTarget": view}})

    R.create_deployment = create_deployment  # type: ignore[method-assign]
    R.continue_deployment = continue_deployment  # type: ignore[attr-defined]
    R.stop_deployment = stop_deployment  # type: ignore[attr-defined]
    R.list_deployment_targets = list_deployment_targets  # type: ignore[attr-defined]
    R.get_deployment_target = get_deployment_target  # type: ignore[attr-defined]


def _install_models() -> None:
    from moto.codedeploy.models import DeploymentInfo

    original = DeploymentInfo.to_dict

    def to_dict(self: Any) -> dict[str, Any]:
        out = original(self)
        if getattr(self, "error", None):
            out["errorInformation"] = self.error
        if getattr(self, "rollback_info", None):
            out["rollbackInfo"] = self.rollback_info
        sim = getattr(self, "_bg", None)
        if sim is not None:
            out["deploymentStatusMessages"] = [f"{e.name}: {e.status}" for e in sim.events if e.status != "Pending"]
        for key in ("createTime", "startTime", "completeTime"):  # the API answers epoch seconds
            if isinstance(out.get(key), str):
                from datetime import datetime

                out[key] = datetime.fromisoformat(out[key].replace("Z", "+00:00")).timestamp()
        return out

    DeploymentInfo.to_dict = to_dict  # type: ignore[method-assign]


def install() -> None:
    _install_responses()
    _install_models()


__all__ = ["EVENTS", "install"]
