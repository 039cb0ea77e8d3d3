"""The plan as Markdown for a pull-request comment, written for how GitHub renders it (GFM).

- Markdown text (list items, table cells) is Markdown-escaped; HTML (`<summary>`, attributes) is
  HTML-escaped instead: GFM does not process Markdown escapes inside an HTML block, so `-\\>` there
  would show its backslash.
- A 64-hex digest is shortened (`sha256:9adc…f9773`) with the full value in its `title` (hover), and
  the full pinned references are one click away in a "full image references" block.
- Under the changes table, a mermaid gantt of the timeline (`timeline.mermaid_gantt`) that GitHub draws.
- With one service, its block is open: the comment shows the plan without a click.
"""

from __future__ import annotations

import html
import re

from bluegreen.cli.render.summary import VERDICT_MARK, check_line, route, strategy, summary_change
from bluegreen.cli.render.timeline import mermaid_gantt
from bluegreen.domain.durations import format_duration
from bluegreen.domain.plan import Plan

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
REFERENCE = re.compile(r"[\w.:/@-]*sha256:[0-9a-f]{64}")  # a digest with the repository before it


def md(text: object) -> str:
    """Markdown text: escape what would break a table cell or start Markdown/HTML; digests shortened."""
    s = str(text)
    for ch in ("\\", "|", "<", ">", "*", "_", "`"):
        s = s.replace(ch, "\\" + ch)
    return short_digests(s.replace("\n", " "))


def attr_text(text: object) -> str:
    """Text inside HTML (a `<summary>`): HTML-escaped, never Markdown-escaped."""
    return html.escape(str(text).replace("\n", " "), quote=True)


def short_digest(digest: str) -> str:
    hexes = digest.removeprefix("sha256:")
    return f"sha256:{hexes[:4]}…{hexes[-5:]}"


def short_digests(escaped: str) -> str:
    """Each digest in already-escaped text as `<code title="full">short</code>` (hex needs no escaping)."""
    return DIGEST.sub(lambda m: f'<code title="{m.group(0)}">{short_digest(m.group(0))}</code>', escaped)


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
        out.append(f"| {md(p.service)} | {md(strategy(p))} | {md(route(p))} | {md(summary_change(p))} "
                   f"| {estimate} | {status} |")
    for p in plans:
        out += _service(p, open_=len(plans) == 1)
    return "\n".join(out) + "\n"


def _service(p: Plan, *, open_: bool) -> list[str]:
    out = ["", "<details open>" if open_ else "<details>",
           f"<summary><b>{attr_text(p.service)}</b>: {attr_text(strategy(p))}, {attr_text(summary_change(p))}</summary>",
           ""]
    out += [f"- **Why this strategy:** {md(r)}" for r in p.strategy_reasons]
    if p.offline:
        out.append(f"- **Offline plan.** Not known without AWS access: {md(', '.join(p.unknowns))}")
    out += [f"- **State:** {md(s)}" for s in p.state]
    if p.image and p.image.pinned:
        out.append(f"- **Image:** {md(p.image.tag)} pinned as {md(p.image.pinned)}")
    if p.changes:
        out += ["", "| field | before | after |", "| --- | --- | --- |"]
        out += [f"| {md(c.field)} | {md(c.before if c.before is not None else '(none)')} | {md(c.after)} |"
                for c in p.changes]
    out += _full_references(p)
    if p.steps:
        out += ["", f"**Timeline** (expected times; the estimate is {format_duration(p.estimated_seconds)}"
                + (f"; keep-warm ({format_duration(p.keep_warm_seconds)}) comes after it, drawn at most as long as "
                   "the deploy" if p.keep_warm_seconds else "") + ")",
                "", "```mermaid", mermaid_gantt(p), "```"]
        out += ["", "**Steps**", ""]
        out += [f"{i}. `{s.phase}` {md(s.describe())}" for i, s in enumerate(p.steps, 1)]
    if p.traffic:
        out += ["", "**Traffic:** " + " → ".join(f"{t.percent}%" for t in p.traffic)
                + f", each held {format_duration(p.traffic[0].hold)}"]
    if p.gates:
        out += ["", "**Gates**", ""] + [f"- {md(g)}" for g in p.gates]
    if p.rollback:
        out += ["", "**Rollback path**", ""] + [f"- {md(r)}" for r in p.rollback]
    if p.checks:
        out += ["", "**Pre-flight checks**", ""]
        out += [f"- {VERDICT_MARK[c.ok]} {md(check_line(p, c))}" for c in p.checks]
    if p.budgets:
        out += ["", f"**Estimated duration:** {format_duration(p.estimated_seconds)} ("
                + ", ".join(f"{b.phase} {format_duration(b.seconds)}" for b in p.budgets) + ")"]
    out += ["", *[f"> ⚠️ {md(w)}" for w in p.warnings]] if p.warnings else []
    out += ["", *[f"> ❌ **{md(e)}**" for e in p.errors]] if p.errors else []
    return out + ["", "</details>"]


def _full_references(p: Plan) -> list[str]:
    """The unshortened values of every digest the block shows, one click away."""
    shown = " ".join([p.image.pinned if p.image and p.image.pinned else ""]
                     + [f"{c.before} {c.after}" for c in p.changes] + [s.describe() for s in p.steps]
                     + [c.detail for c in p.checks])
    found = list(dict.fromkeys(REFERENCE.findall(shown)))
    refs = [r for r in found if not any(other != r and other.endswith(r) for other in found)]  # said in full once
    if not refs:
        return []
    return ["", "<details><summary>full image references</summary>", "",
            *[f"- <code>{attr_text(ref)}</code>" for ref in refs], "", "</details>"]
