"""An ECS target-group swap held in memory, faking our adapter boundary (AwsActions and AwsObserver).

Two ECS services (web-blue, web-green), one target group each, one production listener forwarding
to both by weight, and CloudWatch alarms. ECS places tasks at once: a service's running tasks are
its target group's healthy targets. Every change is kept in `changes`, in order, so a test can say
"traffic went back to blue in ONE listener change".

`before(action, do)` runs `do(call)` just before an action changes anything: it may raise (an AWS
error, a KeyboardInterrupt), send a signal, or change the world (fire an alarm).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

ACCOUNT = "123456789012"
LISTENER = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener/app/web-alb/50dc6c495c0c9188/f2f7dc8efc522ab2"
TG_BLUE = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/web-blue/73e2d6bc24d8a067"
TG_GREEN = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/web-green/09b3c0f8a1d2e345"
BLUE_ONLY = {TG_BLUE: 100, TG_GREEN: 0}  # the weights of a listener whose traffic is all on blue


def revision(n: int) -> str:
    return f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/web:{n}"


@dataclass
class Service:
    task_definition: str
    desired: int


@dataclass(frozen=True)
class ServiceView:
    """What the gates read about an ECS service (the fields of adapters.aws.observe.ServiceStatus)."""

    desired: int
    running: int
    pending: int
    task_definition: str
    primary_task_definition: str
    rollout_state: str | None
    rollout_reason: str | None
    deployments: int
    events: tuple[str, ...]


@dataclass
class Call:
    action: str
    args: dict[str, Any]


@dataclass
class _Hook:
    do: Callable[[Call], None]
    when: Callable[[Call], bool]
    times: int


@dataclass
class World:
    weights: dict[str, dict[str, int]] = field(default_factory=lambda: {LISTENER: {TG_BLUE: 100, TG_GREEN: 0}})
    services: dict[str, Service] = field(default_factory=lambda: {
        "web-blue": Service(revision(1), 2), "web-green": Service(revision(1), 0)})
    target_groups: dict[str, str] = field(default_factory=lambda: {TG_BLUE: "web-blue", TG_GREEN: "web-green"})
    alarm_states: dict[str, str] = field(default_factory=dict)
    unhealthy: dict[str, int] = field(default_factory=dict)  # target group -> targets failing health checks
    changes: list[Call] = field(default_factory=list)
    revisions: int = 1
    _hooks: dict[str, list[_Hook]] = field(default_factory=dict)

    # --- arranging the world ------------------------------------------------------------------------

    def before(self, action: str, do: Callable[[Call], None], *, when: Callable[[Call], bool] = lambda call: True,
               times: int = 1) -> None:
        self._hooks.setdefault(action, []).append(_Hook(do, when, times))

    def set_alarm(self, name: str, state: str) -> None:
        self.alarm_states[name] = state

    # --- reading it back ----------------------------------------------------------------------------

    def green_share(self) -> int:
        return self.weights[LISTENER][TG_GREEN]

    def listener_changes(self) -> list[dict[str, int]]:
        return [call.args["weights"] for call in self.changes if call.action == "set_weights"]

    # --- AwsActions ---------------------------------------------------------------------------------

    def register_task_definition(self, base_arn: str, container: str, image: str, environment: Mapping[str, str],
                                 secrets: Mapping[str, str], cpu: int | None, memory: int | None) -> tuple[str, str]:
        self._act("register_task_definition", base_arn=base_arn, container=container, image=image)
        self.revisions += 1
        return revision(self.revisions), f"registered web:{self.revisions} (image {image})"

    def update_service(self, cluster: str, service: str, task_definition: str | None, desired: int) -> str:
        self._act("update_service", cluster=cluster, service=service, task_definition=task_definition, desired=desired)
        current = self.services[service]
        before = f"{current.task_definition.rsplit('/', 1)[-1]} x{current.desired}"
        current.task_definition = task_definition or current.task_definition
        current.desired = desired
        return f"{service}: {before} -> {current.task_definition.rsplit('/', 1)[-1]} x{desired}"

    def set_weights(self, listener_arn: str, rule_arn: str | None, weights: Mapping[str, int]) -> str:
        self._act("set_weights", listener=listener_arn, rule=rule_arn, weights=dict(weights))
        before = self.weights[listener_arn]
        self.weights[listener_arn] = dict(weights)
        return f"weights {before} -> {dict(weights)}"

    def _act(self, action: str, **args: Any) -> None:
        call = Call(action, args)
        for hook in list(self._hooks.get(action, [])):
            if hook.times > 0 and hook.when(call):
                hook.times -= 1
                hook.do(call)
        self.changes.append(call)

    # --- AwsObserver --------------------------------------------------------------------------------

    def service(self, cluster: str, service: str) -> ServiceView:
        s = self.services[service]
        return ServiceView(desired=s.desired, running=s.desired, pending=0, task_definition=s.task_definition,
                           primary_task_definition=s.task_definition, rollout_state="COMPLETED", rollout_reason=None,
                           deployments=1, events=())

    def stopped_reasons(self, cluster: str, service: str, limit: int = 5) -> list[str]:
        return []

    def target_health(self, target_group_arn: str) -> list[tuple[str, str, str | None]]:
        running = self.services[self.target_groups[target_group_arn]].desired
        sick = min(self.unhealthy.get(target_group_arn, 0), running)
        return ([(f"10.0.1.{i}", "healthy", None) for i in range(running - sick)]
                + [(f"10.0.2.{i}", "unhealthy", "Target.ResponseCodeMismatch") for i in range(sick)])

    def alarms(self, names: list[str], *, at_start: bool = False) -> dict[str, str]:
        return {name: self.alarm_states.get(name, "OK") for name in names}

    def listener_weights(self, listener_arn: str, rule_arn: str | None) -> dict[str, int]:
        return dict(self.weights[listener_arn])

    def health_check(self, target_group_arn: str) -> dict[str, Any]:
        return {"TargetGroupArn": target_group_arn, "HealthCheckProtocol": "HTTP", "HealthCheckPath": "/health",
                "HealthCheckPort": "traffic-port", "HealthCheckIntervalSeconds": 10, "HealthCheckTimeoutSeconds": 5,
                "HealthyThresholdCount": 3, "UnhealthyThresholdCount": 2, "Matcher": {"HttpCode": "200"}}
