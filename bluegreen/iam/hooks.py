"""The policy statements hooks and notifications need: what `adapters/aws/hooks.py` and
`adapters/aws/notify.py` call, scoped to what the spec names."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluegreen.domain.spec import EcsTaskHook, LambdaHook, Spec

if TYPE_CHECKING:
    from bluegreen.iam.policy import Arns, Group


def hook_groups(spec: Spec, arns: "Arns") -> list["Group"]:
    from bluegreen.iam.policy import Group

    out: list[Group] = []
    functions = sorted({h.function for h in spec.hooks if isinstance(h, LambdaHook)})
    if functions:
        resources = [r for f in functions for r in _function(arns, f)]
        out.append(Group("HookInvokeLambdas", ("lambda:Invoke",),
                         "hooks: invoke the spec's Lambda functions synchronously (any version or alias)",
                         tuple(resources)))
    ecs = spec.ecs
    if ecs is not None and any(isinstance(h, EcsTaskHook) for h in spec.hooks):
        family = ecs.task_definition_family or "*"
        out.append(Group("HookRunTasks", ("ecs:RunTask",),
                         "hooks: a one-off task of the new revision (a migration), with the service's network "
                         "configuration; the new revision's family is the live one's unless the spec names it",
                         (arns.regional("ecs", f"task-definition/{family}:*"),)))
        out.append(Group("HookWatchTasks", ("ecs:DescribeTasks", "ecs:DescribeServices", "ecs:DescribeTaskDefinition"),
                         "hooks: the service's network configuration, the revision's essential containers, "
                         "and the task until it has STOPPED (its exit code and stopped reason)"))
    return out


def notify_groups(spec: Spec, arns: "Arns") -> list["Group"]:
    from bluegreen.iam.policy import Group

    notes = spec.notifications
    if notes is None:
        return []
    out: list[Group] = []
    if notes.sns_topic:
        out.append(Group("NotifySns", ("sns:Publish",), "notifications to the spec's SNS topic (its ARN names "
                         "its account)", (notes.sns_topic,)))
    if notes.event_bus:
        bus = notes.event_bus if notes.event_bus.startswith("arn:") else arns.regional("events", f"event-bus/{notes.event_bus}")
        out.append(Group("NotifyEventBridge", ("events:PutEvents",), "notifications to the spec's EventBridge bus",
                         (bus,)))
    return out


def _function(arns: "Arns", function: str) -> list[str]:
    if function.startswith("arn:"):
        base = ":".join(function.split(":")[:7])
    else:
        base = arns.regional("lambda", f"function:{function.split(':', 1)[0]}")
    return [base, f"{base}:*"]
