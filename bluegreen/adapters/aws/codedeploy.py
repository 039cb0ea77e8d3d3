"""CodeDeploy calls for ECS services under the CODE_DEPLOY controller: find a service's deployment
group, start a deployment with an AppSpec, look at its progress, continue it past the reroute wait,
stop it with rollback. Each mutating call is idempotent, like `actions.py`: starting finds a
deployment of the same revision already under way, continuing a deployment already past the wait
and stopping one already finished change nothing and say so.
"""

from __future__ import annotations

from typing import Any

from bluegreen.adapters.aws import errors
from bluegreen.adapters.aws.session import Aws
from bluegreen.domain.codedeploy import AppSpec, DeploymentGroup, DeploymentProgress, LifecycleEvent, deployment_group

ACTIVE = ["Created", "Queued", "InProgress", "Ready", "Baking"]


class CodeDeployEcs:
    def __init__(self, aws: Aws) -> None:
        self.aws = aws

    @property
    def _client(self) -> Any:
        return self.aws.client("codedeploy")

    # --- reads ----------------------------------------------------------------------------------

    def find_group(self, cluster: str, service: str) -> DeploymentGroup | None:
        """The ECS deployment group that deploys `cluster`/`service`, if any application has one."""
        info = self.find_group_info(cluster, service)
        return deployment_group(info) if info is not None else None

    def find_group_info(self, cluster: str, service: str) -> dict[str, Any] | None:
        """GetDeploymentGroup's `deploymentGroupInfo` of that group, as AWS answered it."""
        client = self._client
        for application in _paged(client.list_applications, "applications"):
            info = client.get_application(applicationName=application)["application"]
            if info.get("computePlatform") != "ECS":
                continue
            for name in _paged(lambda **kw: client.list_deployment_groups(applicationName=application, **kw),
                               "deploymentGroups"):
                group = client.get_deployment_group(applicationName=application,
                                                    deploymentGroupName=name)["deploymentGroupInfo"]
                if any(s.get("clusterName") in (cluster, cluster.rsplit("/", 1)[-1]) and s.get("serviceName") == service
                       for s in group.get("ecsServices") or []):
                    return dict(group)
        return None

    def progress(self, deployment_id: str, cluster: str, service: str) -> DeploymentProgress:
        client = self._client
        info = client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        events: tuple[LifecycleEvent, ...] = ()
        weight = 0.0
        if info.get("status") not in ("Created", "Queued"):
            target = client.get_deployment_target(deploymentId=deployment_id, targetId=f"{_short(cluster)}:{service}")
            ecs = (target.get("deploymentTarget") or {}).get("ecsTarget") or {}
            events = tuple(LifecycleEvent(e["lifecycleEventName"], e.get("status", "Pending"))
                           for e in ecs.get("lifecycleEvents") or [])
            weight = sum(float(t.get("trafficWeight") or 0) for t in ecs.get("taskSetsInfo") or []
                         if t.get("taskSetLabel") == "Green")
        error = info.get("errorInformation") or {}
        return DeploymentProgress(
            deployment_id=deployment_id, status=info.get("status", "Created"), events=events,
            replacement_weight=weight, termination_wait_started=bool(info.get("instanceTerminationWaitTimeStarted")),
            error=f"{error['code']}: {error.get('message', '')}" if error.get("code") else None,
            rollback_deployment=(info.get("rollbackInfo") or {}).get("rollbackDeploymentId"),
            task_definition=_task_definition(info))

    # --- changes ----------------------------------------------------------------------------------

    def start(self, group: DeploymentGroup, appspec: AppSpec, description: str) -> tuple[str, str]:
        """(deployment id, what happened): a deployment of `appspec`, or the one already under way."""
        return self.start_in(group.application, group.name, group.config, appspec, description)

    def start_in(self, application: str, group: str, config: str, appspec: AppSpec, description: str
                 ) -> tuple[str, str]:
        """`start` by names (what a plan step carries); `config` only describes it (the group's applies)."""
        found = self.active_of(application, group, appspec.task_definition)
        if found is not None:
            return found, f"deployment {found} of {_short(appspec.task_definition)} already under way"
        deployment_id = self._client.create_deployment(
            applicationName=application, deploymentGroupName=group, description=description[:100],
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec.content()}},
        )["deploymentId"]
        return deployment_id, (f"CodeDeploy deployment {deployment_id} of {_short(appspec.task_definition)} "
                               f"({application}/{group}{', ' + config if config else ''})")

    def active_of(self, application: str, group: str, task_definition: str) -> str | None:
        """The deployment of `task_definition` under way in the group, if there is one."""
        client = self._client
        for deployment_id in _paged(lambda **kw: client.list_deployments(
                applicationName=application, deploymentGroupName=group, includeOnlyStatuses=ACTIVE, **kw),
                "deployments"):
            info = client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            if _task_definition(info) == task_definition:
                return deployment_id
        return None

    def proceed(self, deployment_id: str) -> str:
        """ContinueDeployment past the reroute wait; nothing if the deployment no longer waits."""
        status = self._client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"]
        if status != "Ready":
            return f"deployment {deployment_id} is {status}, not waiting for the reroute"
        try:
            self._client.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
        except errors.aws_exceptions():
            now = self._client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"]
            if now == "Ready":
                raise  # still waiting: the call itself was refused
            # a retry of a call that was applied (its answer lost): it no longer waits
        return f"deployment {deployment_id}: Ready -> production traffic rerouted"

    def stop(self, deployment_id: str, *, rollback: bool = True) -> str:
        """StopDeployment (with CodeDeploy's rollback); nothing if it has finished already."""
        info = self._client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        if info["status"] in ("Succeeded", "Failed", "Stopped"):
            return f"deployment {deployment_id} already {info['status']}"
        try:
            answer = self._client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=rollback)
        except errors.aws_exceptions():
            now = self._client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"]
            if now not in ("Succeeded", "Failed", "Stopped"):
                raise  # still running: the call itself was refused
            answer = {"status": f"{now}, its answer was lost: read back"}
        return f"deployment {deployment_id}: {info['status']} -> stopped{' and rolled back' if rollback else ''} " \
               f"({answer.get('status')})"


def _task_definition(info: dict[str, Any]) -> str | None:
    """The TaskDefinition an AppSpecContent revision names (JSON, as bluegreen writes it)."""
    import json

    content = ((info.get("revision") or {}).get("appSpecContent") or {}).get("content") or ""
    try:
        body = json.loads(content)
    except ValueError:
        return None
    for resource in body.get("Resources") or []:
        for value in (resource or {}).values():
            if isinstance(value, dict):
                return (value.get("Properties") or {}).get("TaskDefinition")
    return None


def _paged(call: Any, key: str) -> list[str]:
    out: list[str] = []
    token: str | None = None
    while True:
        answer = call(**({"nextToken": token} if token else {}))
        out.extend(answer.get(key) or [])
        token = answer.get("nextToken")
        if not token:
            return out


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]
