"""Views of plans: text for terminals, Markdown for pull-request comments (`markdown`), JSON for machines.

Renderers only read the Plan; they never decide anything. Secret values never reach a plan, and
environment values with secret-looking names are masked before they get here.
"""

from __future__ import annotations

from bluegreen.cli.render.markdown import markdown
from bluegreen.cli.render.summary import VERDICT_TEXT, check_line, strategy
from bluegreen.domain.durations import format_duration
from bluegreen.domain.plan import Plan, dump


def text(plans: list[Plan]) -> str:
    out: list[str] = []
    for plan in plans:
        out.append(f"== {plan.service} ({plan.spec_path}) ==")
        out.append(f"strategy: {strategy(plan)}")
        out += [f"  why: {r}" for r in plan.strategy_reasons]
        if plan.offline:
            out.append("OFFLINE: planned from the spec alone; not known: " + ", ".join(plan.unknowns))
        out += [f"state: {s}" for s in plan.state]
        if plan.live_color:
            out.append(f"live color: {plan.live_color}" + (f"; deploying to {plan.target_color}" if plan.target_color else ""))
        if plan.image and plan.image.pinned:
            out.append(f"image: {plan.image.tag} pinned as {plan.image.pinned}")
        if plan.changes:
            out.append("changes:")
            out += [f"  ~ {c.field}: {c.before if c.before is not None else '(none)'} -> {c.after}" for c in plan.changes]
        elif not plan.errors and not plan.offline:
            out.append("changes: none (nothing to deploy)")
        if plan.steps:
            out.append("steps:")
            out += [f"  {i:2}. [{s.phase}] {s.describe()}" for i, s in enumerate(plan.steps, 1)]
        if plan.traffic:
            out.append("traffic: " + " -> ".join(f"{t.percent}%" for t in plan.traffic)
                       + f" (each held {format_duration(plan.traffic[0].hold)})")
        out += [f"gate: {g}" for g in plan.gates]
        out += [f"rollback: {r}" for r in plan.rollback]
        out += [f"check: {VERDICT_TEXT[c.ok]} {check_line(plan, c)}" for c in plan.checks]
        if plan.budgets:
            out.append(f"estimated duration: {format_duration(plan.estimated_seconds)} ("
                       + ", ".join(f"{b.phase} {format_duration(b.seconds)}" for b in plan.budgets) + ")")
        out += [f"warning: {w}" for w in plan.warnings]
        out += [f"ERROR: {e}" for e in plan.errors]
        out.append("")
    pending = sum(1 for p in plans if p.has_changes)
    failed = sum(1 for p in plans if p.errors)
    out.append(f"{len(plans)} service(s) planned: {pending} with changes, {failed} with errors")
    return "\n".join(out) + "\n"


def json_(plans: list[Plan]) -> str:
    return dump(plans) + "\n"


RENDERERS = {"text": text, "markdown": markdown, "json": json_}
