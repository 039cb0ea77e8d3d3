"""Hooks in the plan: each of the spec's hooks becomes a `RunHook` step at its stage (pure).

Where each stage falls in a strategy's steps, whatever the strategy:

    before-scale-up         before the first step that starts the new version (UpdateService,
                            UpdateGroup, CreateGroup): the new revision is registered by then
    after-healthy           after the last health wait of the rollout (steady state, targets, InService)
    after-test-traffic      after the last rollout step (the test listener and the HTTP probe)
    before-production-step  before each production traffic move (one hook per step of the shift)
    after-shift             after the last step of the shift (its bake), before the verification
    after-rollback          not in the steps: `Plan.after_rollback`, run once a rollback has finished
"""

from __future__ import annotations

from bluegreen.domain.durations import format_duration
from bluegreen.domain.hook_steps import RunHook
from bluegreen.domain.spec import CommandHook, EcsService, EcsServices, EcsTaskHook, Hook, HookStage, LambdaHook
from bluegreen.domain.steps import (
    Attach, CreateGroup, SetRecordWeights, SetWeights, StartCodeDeployDeployment, StartServiceDeployment, Step,
    UpdateGroup, UpdateService, WaitGroupInService, WaitServiceStable, WaitTargetsHealthy,
)
from bluegreen.planning.context import Context, Refused

_STARTS = (UpdateService, UpdateGroup, CreateGroup, StartServiceDeployment, StartCodeDeployDeployment)
_HEALTH_WAITS = (WaitServiceStable, WaitTargetsHealthy, WaitGroupInService)
_MOVES = (SetWeights, SetRecordWeights, Attach, UpdateService, UpdateGroup)
_ORDER = list(HookStage)


def is_traffic_move(step: Step) -> bool:
    """A step of the shift that moves production traffic (or, in place, replaces what serves it)."""
    return step.phase == "shift" and isinstance(step, _MOVES) and getattr(step, "production", True)


def with_hooks(ctx: Context, steps: list[Step]) -> tuple[list[Step], list[Step]]:
    """The steps with the spec's hooks placed at their stages, and the after-rollback hooks."""
    hooks = [h for h in ctx.spec.hooks if h.name not in ctx.hooks_by_aws]
    if not hooks or not steps:
        return steps, []
    before: dict[int, list[RunHook]] = {}
    for stage in _ORDER:
        for hook in (h for h in hooks if h.stage is stage):
            for index, when, percent in _positions(stage, steps):
                before.setdefault(index, []).append(_step(ctx, hook, when, percent, steps, index))
            if stage is not HookStage.AFTER_ROLLBACK:
                ctx.gates.append(_gate(hook))
    out: list[Step] = []
    for index, step in enumerate(steps):
        out += before.get(index, [])
        out.append(step)
    out += before.get(len(steps), [])
    after = [_step(ctx, h, "after a rollback", None, steps, len(steps)) for h in hooks
             if h.stage is HookStage.AFTER_ROLLBACK]
    for hook in after:
        ctx.rollback.append(f"then {hook.describe()} (reported; it cannot fail the rollback)")
    return out, after


def _positions(stage: HookStage, steps: list[Step]) -> list[tuple[int, str, int | None]]:
    """(index to insert before, when it runs in words, the traffic percent) for a stage."""
    first_move = next((i for i, s in enumerate(steps) if is_traffic_move(s)), len(steps))
    rollout = [i for i, s in enumerate(steps) if s.phase == "rollout"]
    if stage is HookStage.BEFORE_SCALE_UP:
        start = next((i for i, s in enumerate(steps) if isinstance(s, _STARTS) and s.phase != "finalize"), first_move)
        return [(start, "before the new version is scaled up", None)]
    if stage is HookStage.AFTER_HEALTHY:
        waits = [i for i in rollout if isinstance(steps[i], _HEALTH_WAITS)]
        return [((waits or rollout or [first_move - 1])[-1] + 1, "after the new version is healthy", None)]
    if stage is HookStage.AFTER_TEST_TRAFFIC:
        return [((rollout or [first_move - 1])[-1] + 1, "after test traffic", None)]
    if stage is HookStage.BEFORE_PRODUCTION_STEP:
        out = []
        for i, s in enumerate(steps):
            if is_traffic_move(s) and not (i and is_traffic_move(steps[i - 1])):
                percent = _percent(s)
                out.append((i, f"before production traffic {percent}%" if percent is not None
                            else "before the production step", percent))
        return out
    if stage is HookStage.AFTER_SHIFT:
        shift = [i for i, s in enumerate(steps) if s.phase == "shift"]
        return [((shift or [len(steps) - 1])[-1] + 1, "after the shift", None)]
    return []


def _percent(step: Step) -> int | None:
    if step.id.startswith("shift-"):
        digits = step.id.split("-")[1]
        return int(digits) if digits.isdigit() else None
    return None


def _step(ctx: Context, hook: Hook, when: str, percent: int | None, steps: list[Step], index: int) -> RunHook:
    step_id = f"hook-{hook.name}" + (f"-{percent}" if percent is not None else "")
    if hook.stage is HookStage.BEFORE_PRODUCTION_STEP and percent is None:
        step_id += f"-before-{steps[index].id}"
    facts = _facts(ctx, hook, percent)
    common = dict(id=step_id, phase=_phase(hook.stage, steps, index), hook=hook.name, stage=hook.stage.value,
                  timeout=hook.timeout, on_timeout=hook.on_timeout, when=when, facts=facts)
    if isinstance(hook, CommandHook):
        return RunHook(hook_kind="command", command=list(hook.command), **common)
    if isinstance(hook, LambdaHook):
        return RunHook(hook_kind="lambda", function=hook.function, **common)
    ecs = ctx.spec.ecs
    if not isinstance(hook, EcsTaskHook) or ecs is None:
        raise Refused(f"hook {hook.name}: an ecs-task hook needs an ECS platform")
    service = ecs.service if isinstance(ecs, EcsService) else ecs.services.of(ctx.target_color or "green")
    registered = any(s.id == "register-task-definition" for s in steps)
    if not registered:
        raise Refused(f"hook {hook.name}: an ecs-task hook needs the new task definition this plan registers")
    return RunHook(hook_kind="ecs-task", command=list(hook.command), cluster=ecs.cluster, service=service,
                   task_definition="@register-task-definition", container=hook.container or ecs.container, **common)


def _phase(stage: HookStage, steps: list[Step], index: int) -> str:
    """The phase of the step it precedes (or follows, at the end), so phases stay in order."""
    if stage is HookStage.AFTER_ROLLBACK:
        return "verify"
    if stage is HookStage.BEFORE_SCALE_UP:
        return "prepare"
    neighbour = steps[index] if index < len(steps) else steps[-1]
    if stage in (HookStage.AFTER_HEALTHY, HookStage.AFTER_TEST_TRAFFIC):
        return "rollout" if neighbour.phase not in ("prepare",) else "prepare"
    if stage is HookStage.AFTER_SHIFT:
        return "verify"
    return neighbour.phase


def _facts(ctx: Context, hook: Hook, percent: int | None) -> dict[str, str]:
    """What a hook is told about the deployment: BLUEGREEN_* variables, or the Lambda's payload."""
    facts = {"service": ctx.spec.service, "region": ctx.snapshot.region, "strategy": ctx.strategy.value,
             "stage": hook.stage.value, "hook": hook.name, "image": ctx.image or "",
             "live_color": str(ctx.live_color or ""), "target_color": str(ctx.target_color or "")}
    if percent is not None:
        facts["traffic_percent"] = str(percent)
    return facts


def _gate(hook: Hook) -> str:
    return (f"hook {hook.name} ({hook.kind}, {hook.stage.value}) must succeed within "
            f"{format_duration(hook.timeout)} (on timeout: {hook.on_timeout})")
