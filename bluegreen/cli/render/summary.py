"""What every view of a plan says the same way: the strategy's name, the route between colors, the
one-line summary of the changes, and a pre-flight check's verdict and line.

A check that did not run (offline, or its read failed) is "unknown", never shown as passed.
"""

from __future__ import annotations

from bluegreen.domain.plan import Plan, PreflightCheck

VERDICT_TEXT = {True: "ok  ", False: "FAIL", None: "unknown"}
VERDICT_MARK = {True: "✅", False: "❌", None: "❔ unknown:"}


def strategy(plan: Plan) -> str:
    return plan.strategy.value if plan.strategy else "none"


def summary_change(plan: Plan) -> str:
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


def route(plan: Plan) -> str:
    if plan.live_color and plan.target_color:
        return f"{plan.live_color} -> {plan.target_color}"
    return plan.live_color or "-"


def check_line(plan: Plan, check: PreflightCheck) -> str:
    """`name: detail`; a failure whose detail an error or warning line says already is named only (said once)."""
    if check.ok is False and any(check.detail in line for line in (*plan.errors, *plan.warnings)):
        return f"{check.name} (see below)"
    return f"{check.name}: {check.detail}"
