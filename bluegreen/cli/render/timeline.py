"""A plan's timeline: when each step is expected to run, from the steps' own time budgets.

The same budgets make the plan's estimate (`planner.budgets`), so the picture and the number agree.
Keep-warm is drawn after the deploy (the estimate does not count it: the deploy exits and `finalize`
scales the old color down later), at most as long as the deploy; what follows it (scaling blue down)
starts when it ends.
`mermaid_gantt` draws the spans as a mermaid gantt, which GitHub renders in a PR comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bluegreen.domain.durations import format_duration
from bluegreen.domain.weights import percentages
from bluegreen.domain.plan import Plan
from bluegreen.domain.controlled_steps import (
    AnswerLifecycleHook, ContinueCodeDeployDeployment, FollowCodeDeployDeployment, FollowServiceDeployment,
    RollBackServiceDeployment, StartCodeDeployDeployment, StartServiceDeployment, StopCodeDeployDeployment,
)
from bluegreen.domain.steps import (
    Attach, Bake, CheckAlarms, CreateGroup, CreateLaunchTemplateVersion, DeleteGroup, KeepWarm, ProbeHttp,
    PutParameter, RegisterTaskDefinition, SetRecordWeights, SetWeights, Step, SuspendProcesses, SuspendScaling,
    UpdateGroup, UpdateService, WaitGroupInService, WaitServiceStable, WaitTargetsHealthy,
)

Kind = Literal["step", "bake", "test", "keep-warm"]
SHORTEST = 1.0  # seconds: a step shorter than this is still drawn wide enough to see


@dataclass(frozen=True)
class Span:
    phase: str
    label: str
    start: float  # seconds from the deploy's start
    seconds: float
    kind: Kind = "step"

    @property
    def end(self) -> float:
        return self.start + self.seconds


def spans(plan: Plan) -> list[Span]:
    """One span per step, back to back, each as long as its budget. Keep-warm is drawn as long as its
    duration but never longer than the deploy itself: a 24-hour keep-warm at full length would leave
    the deploy a sliver at the left edge. Its label gives the real duration."""
    out: list[Span] = []
    at = 0.0
    for step in plan.steps:
        if isinstance(step, KeepWarm):
            seconds, kind = min(step.duration, max(plan.estimated_seconds, SHORTEST)), "keep-warm"
        else:
            seconds = step.budget()
            kind = "bake" if isinstance(step, Bake) else (
                "test" if isinstance(step, SetWeights) and not step.production else "step")
        out.append(Span(step.phase, label(step), at, max(seconds, SHORTEST), kind))
        at += seconds
    return out


def label(step: Step) -> str:
    """A few words for the picture; the plan's numbered steps carry the full sentence."""
    match step:
        case CheckAlarms():
            return "alarms not firing"
        case RegisterTaskDefinition():
            return f"register {step.family} revision"
        case UpdateService():
            return f"update {step.service}, desired {step.desired_count}"
        case WaitServiceStable():
            return f"{step.service} steady"
        case WaitTargetsHealthy():
            return f"{step.target_group} healthy"
        case SetWeights() if not step.production:
            return f"test listener {step.label} to green"
        case SetWeights():
            return f"{step.label} {_share(step.weights, step.names)}"
        case ProbeHttp():
            return "HTTP probe"
        case Bake():
            percent = step.id.removeprefix("bake-") if step.phase == "shift" else ""
            return f"bake {format_duration(step.duration)}" + (f" at {percent}%" if percent.isdigit() else "")
        case KeepWarm():
            return f"keep {step.color} warm {format_duration(step.duration)}"
        case SetRecordWeights():
            return f"{step.record} {_share(step.weights, {})}"
        case SuspendScaling():
            return f"scaling of {step.service}"
        case CreateLaunchTemplateVersion():
            return f"{step.template} new version"
        case PutParameter():
            return f"parameter {step.name}"
        case UpdateGroup():
            return f"update {step.group}, desired {step.capacity.desired}"
        case SuspendProcesses():
            return f"{'resume' if step.resume else 'suspend'} {step.group} processes"
        case Attach():
            return f"{'detach' if step.detach else 'attach'} {step.group}"
        case WaitGroupInService():
            return f"{step.group} InService"
        case CreateGroup():
            return f"create {step.group}"
        case DeleteGroup():
            return f"delete {step.group}"
        case StartServiceDeployment():
            return f"ECS {step.strategy} deployment of {step.service}"
        case FollowServiceDeployment():
            return f"ECS {step.until}" + (" hook" if step.at_hook else "")
        case AnswerLifecycleHook():
            return f"gates at ECS hook {step.stage}"
        case RollBackServiceDeployment() | StopCodeDeployDeployment():
            return f"roll {step.service} back"
        case StartCodeDeployDeployment():
            return f"CodeDeploy deployment of {step.service}"
        case FollowCodeDeployDeployment():
            return f"CodeDeploy {step.until}"
        case ContinueCodeDeployDeployment():
            return "gates at the reroute wait"
    raise TypeError(f"no timeline label for step kind {type(step).__name__}")  # a new step type needs one


def _share(weights: dict[str, int], names: dict[str, str]) -> str:
    return " / ".join(f"{names.get(k, k)} {p}%" for k, p in percentages(weights).items())


# --- mermaid ------------------------------------------------------------------------------------------

_TAGS = {"bake": "active, ", "keep-warm": "done, ", "test": "", "step": ""}


def chart_text(value: str) -> str:
    """Task and section names: a colon ends a task's name in mermaid, `#` starts an entity and `;` a
    statement; each becomes a space here rather than breaking the chart."""
    return re.sub(r"\s+", " ", re.sub(r"[:;#]", " ", value)).strip()


def mermaid_gantt(plan: Plan) -> str:
    """The timeline as mermaid gantt source (no fence). Times are milliseconds from the start
    (`dateFormat x`): mermaid reads start and end the same way only in that format."""
    drawn = spans(plan)
    total = max((s.end for s in drawn), default=0.0)
    lines = ["gantt",
             f"    title {chart_text(plan.service)} expected {format_duration(plan.estimated_seconds)}"
             + (" then keep-warm" if any(s.kind == "keep-warm" for s in drawn) else ""),
             "    dateFormat x",
             f"    axisFormat {'%M:%S' if total < 3600 else '%H:%M'}"]
    phase = None
    for i, span in enumerate(drawn, 1):
        if span.phase != phase:
            phase = span.phase
            lines.append(f"    section {chart_text(phase)}")
        lines.append(f"    {chart_text(span.label)} :{_TAGS[span.kind]}s{i}, {round(span.start * 1000)}, "
                     f"{round(span.end * 1000)}")
    return "\n".join(lines)
