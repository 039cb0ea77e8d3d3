"""Who else changes an ECS service while we deploy it: its deployment controller, and Application Auto Scaling.

A service that ECS (built-in blue/green, linear or canary) or CodeDeploy swaps by itself is never
edited behind its back: AWS rejects a task-definition update of a CODE_DEPLOY service, an EXTERNAL
service's task sets belong to another tool, and ECS's own blue/green moves the listener rules we
would move too. Such a service is deployed through its engine (`ecs-native`, `ecs-codedeploy`);
the `deployment controller` check refuses any other strategy on it, and those two on a service
their engine does not deploy, with what was found and what to do instead.

Application Auto Scaling would change the desired counts a deployment sets (scale the new color in
during a bake, or the kept-warm one to its minimum), so each service's scaling is suspended for the
deployment (scale-in, scale-out and scheduled actions) and put back exactly as it was: after the
cutover on success, and by the step's inverse on a rollback or after a crash.
"""

from __future__ import annotations

from typing import Sequence

from bluegreen.domain.plan import PreflightCheck
from bluegreen.domain.snapshot import ECS_CONTROLLER, ROLLING, EcsService, Snapshot
from bluegreen.domain.native import STRATEGIES as NATIVE_STRATEGIES
from bluegreen.domain.spec import Spec, Strategy
from bluegreen.domain.steps import ScalingSuspension, Step, SuspendScaling

CONTROLLER = "deployment controller"
ALL_SUSPENDED = ScalingSuspension(dynamic_in=True, dynamic_out=True, scheduled=True)


def checks(spec: Spec, snapshot: Snapshot, strategy: Strategy | None = None) -> list[PreflightCheck]:
    """One line: every service is deployed the way the strategy drives it; else one line per kind found."""
    ecs = spec.ecs
    if ecs is None:
        return []
    services = [s for name in ecs.service_names if (s := snapshot.ecs_services.get(name)) is not None]
    if not services:
        return []
    wanted = _WANTED.get(strategy, (ECS_CONTROLLER, ROLLING))
    by_kind: dict[tuple[str, str], list[str]] = {}
    for service in services:
        kind = (service.deployment_controller, service.deployment_strategy)
        if not _fits(kind, wanted):
            by_kind.setdefault(kind, []).append(service.name)
    if not by_kind:
        names = ", ".join(s.name for s in services)
        return [PreflightCheck(name=CONTROLLER, ok=True, detail=f"{names}: {_OK.get(strategy, 'ECS controller, rolling updates')}")]
    return [PreflightCheck(name=CONTROLLER, ok=False, detail=_refusal(controller, kind_strategy, names, strategy))
            for (controller, kind_strategy), names in by_kind.items()]


# What each strategy drives: (controller, deployment strategy); "*" is any native strategy.
_WANTED = {Strategy.ECS_NATIVE: (ECS_CONTROLLER, "*"), Strategy.ECS_CODEDEPLOY: ("CODE_DEPLOY", ROLLING)}
_OK = {Strategy.ECS_NATIVE: "ECS's built-in blue/green: ECS moves the traffic, bluegreen follows and gates it",
       Strategy.ECS_CODEDEPLOY: "CODE_DEPLOY controller: CodeDeploy moves the traffic, bluegreen drives and gates it"}


def _fits(kind: tuple[str, str], wanted: tuple[str, str]) -> bool:
    if wanted[1] == "*":
        return kind[0] == wanted[0] and kind[1] in NATIVE_STRATEGIES
    if wanted[0] == "CODE_DEPLOY":
        return kind[0] == "CODE_DEPLOY"
    return kind == wanted


def _refusal(controller: str, strategy: str, names: list[str], chosen: Strategy | None) -> str:
    who = f"ECS service{'s' if len(names) > 1 else ''} {' and '.join(names)}"
    uses = "use" if len(names) > 1 else "uses"
    if chosen is Strategy.ECS_NATIVE or chosen is Strategy.ECS_CODEDEPLOY:
        found = (f"the {controller} deployment controller" if controller != ECS_CONTROLLER
                 else f"ECS's {strategy} deployments")
        fits = ("ecs-codedeploy" if controller == "CODE_DEPLOY" else "ecs-native" if strategy in NATIVE_STRATEGIES
                else "ecs-task-definition-swap or ecs-target-group-swap" if controller == ECS_CONTROLLER else None)
        need = ("ECS's built-in blue/green (deploymentConfiguration.strategy BLUE_GREEN, LINEAR or CANARY)"
                if chosen is Strategy.ECS_NATIVE else "the CODE_DEPLOY deployment controller")
        return (f"{who} {uses} {found}; strategy {chosen.value} needs {need}"
                + (f": use {fits} (or strategy auto)" if fits else ""))
    if controller == "CODE_DEPLOY":
        return (f"{who} {uses} the CODE_DEPLOY deployment controller: CodeDeploy swaps it, and ECS refuses a "
                "task-definition update from anyone else; use strategy ecs-codedeploy (or auto), which drives "
                "CodeDeploy, or move the service to the ECS controller")
    if controller == "EXTERNAL":
        return (f"{who} {uses} the EXTERNAL deployment controller: its task sets belong to another tool, and "
                "ECS takes no task-definition update through UpdateService; deploy it with that tool or move it "
                "to the ECS controller")
    return (f"{who} {uses} ECS's built-in {strategy} deployments: ECS moves its listener rules itself, and "
            "editing them too would fight it; use strategy ecs-native (or auto), which lets ECS deploy it and "
            "gates it, or set its deploymentConfiguration.strategy to ROLLING")


def suspend_scaling(services: Sequence[EcsService]) -> list[Step]:
    """Freeze Application Auto Scaling of each service that has a target and is not fully frozen already."""
    steps: list[Step] = []
    for service in services:
        target = service.scaling
        if target is None:
            continue
        now = ScalingSuspension(dynamic_in=target.dynamic_in_suspended, dynamic_out=target.dynamic_out_suspended,
                                scheduled=target.scheduled_suspended)
        if now == ALL_SUSPENDED:
            continue
        steps.append(SuspendScaling(id=f"suspend-scaling-{service.name}", phase="prepare", service=service.name,
                                    resource_id=target.resource_id, dimension=target.dimension,
                                    suspended=ALL_SUSPENDED, previous=now))
    return steps


def restore_scaling(steps: Sequence[Step]) -> list[Step]:
    """After the cutover: each service's scaling back to exactly what it was (recorded in the suspend steps)."""
    return [s.inverse().model_copy(update={"id": f"restore-scaling-{s.service}", "phase": "verify"})
            for s in steps if isinstance(s, SuspendScaling) and s.suspended == ALL_SUSPENDED]
