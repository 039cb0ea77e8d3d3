"""The AWS calls of hooks: a synchronous Lambda invocation, and a one-off ECS task (RunTask, DescribeTasks).

Each returns plain data; what it means for the deployment is decided in `execution/hooks.py`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from bluegreen.adapters.aws.session import Aws


@dataclass(frozen=True)
class LambdaAnswer:
    function_error: str | None  # the X-Amz-Function-Error header: Unhandled / Handled
    payload: str  # the function's answer (or its error object), as text


@dataclass(frozen=True)
class TaskState:
    arn: str
    last_status: str
    stopped_reason: str | None
    stop_code: str | None
    exit_codes: dict[str, int | None]  # container name -> exit code (None: it never ran)
    container_reasons: dict[str, str]


class AwsHooks:
    def __init__(self, aws: Aws) -> None:
        self.aws = aws

    # --- Lambda ---------------------------------------------------------------------------------

    def invoke(self, function: str, payload: dict[str, Any], timeout: float) -> LambdaAnswer | None:
        """Invoke synchronously; None when no answer came within `timeout` (the call is left to finish)."""
        client = self.aws.client("lambda")
        name, _, qualifier = function.partition(":") if not function.startswith("arn:") else (function, "", "")
        args: dict[str, Any] = {"FunctionName": name, "InvocationType": "RequestResponse",
                                "Payload": json.dumps(payload).encode()}
        if qualifier:
            args["Qualifier"] = qualifier
        box: dict[str, Any] = {}

        def call() -> None:
            try:
                box["answer"] = client.invoke(**args)
            except BaseException as error:  # handed to the caller's thread
                box["error"] = error

        worker = threading.Thread(target=call, name=f"lambda-{name}", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            return None
        if "error" in box:
            raise box["error"]
        answer = box["answer"]
        body = answer["Payload"].read().decode("utf-8", "replace") if answer.get("Payload") else ""
        return LambdaAnswer(function_error=answer.get("FunctionError"), payload=body)

    # --- one-off ECS tasks -------------------------------------------------------------------------

    def run_task(self, cluster: str, service: str, task_definition: str, container: str, command: list[str],
                 started_by: str) -> str:
        """RunTask of `task_definition` where `service` runs: its launch type, platform version and
        network configuration, with `container`'s command overridden. Returns the task's ARN."""
        ecs = self.aws.client("ecs")
        found = ecs.describe_services(cluster=cluster, services=[service])["services"]
        if not found:
            raise LookupError(f"ECS service {service} not found in {cluster}")
        live = found[0]
        args: dict[str, Any] = {"cluster": cluster, "taskDefinition": task_definition, "count": 1,
                                "startedBy": started_by[:36],
                                "overrides": {"containerOverrides": [{"name": container, "command": command}]}}
        if live.get("networkConfiguration"):
            args["networkConfiguration"] = live["networkConfiguration"]
        if live.get("capacityProviderStrategy"):
            args["capacityProviderStrategy"] = live["capacityProviderStrategy"]
        elif live.get("launchType"):
            args["launchType"] = live["launchType"]
        if live.get("platformVersion") and live.get("launchType") == "FARGATE":
            args["platformVersion"] = live["platformVersion"]
        answer = ecs.run_task(**args)
        if not answer.get("tasks"):
            failures = "; ".join(f"{f.get('arn', '')} {f.get('reason', '')}".strip() for f in answer.get("failures", []))
            raise RuntimeError(f"RunTask started no task: {failures or 'no reason given'}")
        return answer["tasks"][0]["taskArn"]

    def task(self, cluster: str, arn: str) -> TaskState:
        found = self.aws.client("ecs").describe_tasks(cluster=cluster, tasks=[arn]).get("tasks", [])
        if not found:
            raise LookupError(f"task {arn} not found in {cluster}")
        t = found[0]
        containers = t.get("containers", [])
        return TaskState(arn=t["taskArn"], last_status=t.get("lastStatus", ""), stopped_reason=t.get("stoppedReason"),
                         stop_code=t.get("stopCode"),
                         exit_codes={c["name"]: c.get("exitCode") for c in containers},
                         container_reasons={c["name"]: c["reason"] for c in containers if c.get("reason")})

    def essential_containers(self, task_definition: str) -> list[str]:
        td = self.aws.client("ecs").describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
        return [c["name"] for c in td.get("containerDefinitions", []) if c.get("essential", True)]
