"""Views of plans: text for terminals, Markdown for pull-request comments, JSON for machines.

Renderers only read the Plan; they never decide anything. Secret values never reach a plan, and
environment values with secret-looking names are masked before they get here.
"""

from __future__ import annotations

from bluegreen.domain.durations import format_duration
from bluegreen.domain.plan import Plan, PreflightCheck, dump


def _strategy(plan: Plan) -> str:
    return plan.strategy.value if plan.strategy else "none"


def _summary_change(plan: Plan) -> str:
    if plan.errors:
        return "cannot apply"
    if plan.offline:
        return "unknown (offline)"
    if not plan.has_changes:
        return "no changes"
    parts = []
    for change in plan.changes:
        if change.field == "image":
            parts.append(f"image -> {plan.image.tag if plan.image and plan.image.tag else change.after}")
        else:
            parts.append(change.field)
    return ", ".join(parts)


def _route(plan: Plan) -> str:
    if plan.live_color and plan.target_color:
        return f"{plan.live_color} -> {plan.target_color}"
    return plan.live_color or "-"


# A check that did not run (offline, or its read failed) is "unknown", never shown as passed.
VERDICT_TEXT = {True: "ok  ", False: "FAIL", None: "unknown"}
VERDICT_MARK = {True: "✅", False: "❌", None: "❔ unknown:"}


def _check(plan: Plan, check: PreflightCheck) -> str:
    """`name: detail`; a failure whose detail an error or warning line says already is named only (said once)."""
    if check.ok is False and any(check.detail in line for line in (*plan.errors, *plan.warnings)):
        return f"{check.name} (see below)"
    return f"{check.name}: {check.detail}"


def text(plans: list[Plan]) -> str:
    out: list[str] = []
    for plan in plans:
        out.append(f"== {plan.service} ({plan.spec_path}) ==")
        out.append(f"strategy: {_strategy(plan)}")
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
        out += [f"check: {VERDICT_TEXT[c.ok]} {_check(plan, c)}" for c in plan.checks]
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


def _md(text_: object) -> str:
    """Escape what would break a table cell or start Markdown/HTML."""
    s = str(text_)
    for ch in ("\\", "|", "<", ">", "*", "_", "`"):
        s = s.replace(ch, "\\" + ch)
    return s.replace("\n", " ")


def markdown(plans: list[Plan]) -> str:
    pending = sum(1 for p in plans if p.has_changes)
    failed = sum(1 for p in plans if p.errors)
    out = ["## bluegreen plan", "",
           f"{len(plans)} service(s): **{pending}** with changes, **{failed}** with errors.", "",
           "| service | strategy | live | changes | estimate | status |",
           "| --- | --- | --- | --- | --- | --- |"]
    for p in plans:
        status = "error" if p.errors else "offline" if p.offline else "changes" if p.has_changes else "no changes"
        estimate = format_duration(p.estimated_seconds) if p.steps else "-"
        out.append(f"| {_md(p.service)} | {_md(_strategy(p))} | {_md(_route(p))} | {_md(_summary_change(p))} "
                   f"| {estimate} | {status} |")
    for p in plans:
        out += ["", "<details>", f"<summary><b>{_md(p.service)}</b>: {_md(_strategy(p))}, {_md(_summary_change(p))}</summary>", ""]
        out += [f"- **Why this strategy:** {_md(r)}" for r in p.strategy_reasons]
        if p.offline:
            out.append(f"- **Offline plan.** Not known without AWS access: {_md(', '.join(p.unknowns))}")
        out += [f"- **State:** {_md(s)}" for s in p.state]
        if p.image and p.image.pinned:
            out.append(f"- **Image:** `{p.image.tag}` pinned as `{p.image.pinned}`")
        if p.changes:
            out += ["", "| field | before | after |", "| --- | --- | --- |"]
            out += [f"| {_md(c.field)} | {_md(c.before if c.before is not None else '(none)')} | {_md(c.after)} |"
                    for c in p.changes]
        if p.steps:
            out += ["", "**Steps**", ""]
            out += [f"{i}. `{s.phase}` {_md(s.describe())}" for i, s in enumerate(p.steps, 1)]
        if p.traffic:
            out += ["", "**Traffic:** " + " → ".join(f"{t.percent}%" for t in p.traffic)
                    + f", each held {format_duration(p.traffic[0].hold)}"]
        if p.gates:
            out += ["", "**Gates**", ""] + [f"- {_md(g)}" for g in p.gates]
        if p.rollback:
            out += ["", "**Rollback path**", ""] + [f"- {_md(r)}" for r in p.rollback]
        if p.checks:
            out += ["", "**Pre-flight checks**", ""]
            out += [f"- {VERDICT_MARK[c.ok]} {_md(_check(p, c))}" for c in p.checks]
        if p.budgets:
            out += ["", f"**Estimated duration:** {format_duration(p.estimated_seconds)} ("
                    + ", ".join(f"{b.phase} {format_duration(b.seconds)}" for b in p.budgets) + ")"]
        out += ["", *[f"> ⚠️ {_md(w)}" for w in p.warnings]] if p.warnings else []
        out += ["", *[f"> ❌ **{_md(e)}**" for e in p.errors]] if p.errors else []
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def json_(plans: list[Plan]) -> str:
    return dump(plans) + "\n"


RENDERERS = {"text": text, "markdown": markdown, "json": json_}
