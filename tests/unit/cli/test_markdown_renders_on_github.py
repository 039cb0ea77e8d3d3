"""The PR plan as GitHub shows it: rendered by cmark-gfm (GitHub's CommonMark, Debian's package) and its
timeline read by mermaid's own parser (npm), not by looking at the Markdown source.

- `<summary>` lines read cleanly: no Markdown escapes left inside that HTML (`image -> v2`, not `-\\>`);
- a 64-hex digest shows shortened, with the full value in its title and in a "full image references" block;
- a plain forward (weight 1) reads 100%, never "1";
- under the changes table, a mermaid gantt GitHub draws: mermaid reads every step, bake, the test
  listener and keep-warm, at the times the plan's budgets give.

The plans are the four strategies' planner worlds (tests/unit/planning), so no emulator is involved.
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "planning"))  # the strategies' planner worlds

from bluegreen.cli.render.markdown import markdown, short_digest  # noqa: E402
from bluegreen.cli.render.timeline import chart_text, spans  # noqa: E402
from bluegreen.domain.colors import Color  # noqa: E402
from bluegreen.domain.plan import Plan  # noqa: E402
from bluegreen.planning.planner import make_plan  # noqa: E402
from render_tools import gfm_html, mermaid_parse  # noqa: E402
from support.builders import DIGEST, NOW, listener  # noqa: E402
from test_asg_swap import legacy_spec, legacy_world  # noqa: E402
from test_dns_cutover import ECS, api_spec, ecs_world  # noqa: E402
from test_target_group_swap import web_spec, web_world  # noqa: E402
from test_task_definition_swap import worker_spec, worker_world  # noqa: E402

PRE_MERMAID = re.compile(r'<pre lang="mermaid"><code>(.*?)</code></pre>', re.S)


def web_plan() -> Plan:
    """web with a plain forward on :80 (one target group, weight 1), as a console-made listener has."""
    world = web_world(Color.BLUE)
    world = replace(world, listeners=(listener("web-alb", 80, {"web-blue": 1}),) + world.listeners[1:])
    return make_plan(web_spec(), world, image_tag="v2", now=NOW)


def fleet() -> list[Plan]:
    return [web_plan(),
            make_plan(worker_spec(), worker_world(), image_tag="v2", now=NOW),
            make_plan(legacy_spec(), legacy_world(Color.BLUE), image_tag="v2", now=NOW),
            make_plan(api_spec(ECS), ecs_world(Color.BLUE), image_tag="v2", now=NOW)]


@pytest.fixture(scope="module")
def plans() -> list[Plan]:
    return fleet()


@pytest.fixture(scope="module")
def page(plans) -> str:
    return gfm_html(markdown(plans))


@pytest.fixture(scope="module")
def charts(page, tmp_path_factory) -> list[dict]:
    """Mermaid's reading of each timeline block exactly as the rendered page carries it."""
    return mermaid_parse([html.unescape(block) for block in PRE_MERMAID.findall(page)],
                         tmp_path_factory.mktemp("charts"))


def visible(fragment: str) -> str:
    """What a reader sees: tags (and their attributes) removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_summaries_read_cleanly_with_no_markdown_escapes(page):
    summaries = re.findall(r"<summary>(.*?)</summary>", page)

    assert "\\" not in "".join(summaries)
    assert visible(summaries[0]) == "web: ecs-target-group-swap, image -> v2, environment.LOG_LEVEL"


def test_no_backslash_escape_is_left_on_the_rendered_page(page):
    assert not re.search(r"\\(&gt;|&lt;|&amp;|[|*_`>])", page), "a Markdown escape shows literally"


def test_digests_show_shortened_with_the_full_value_one_click_away(page):
    full_reference = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/web@{DIGEST}"
    references = page.split("<summary>full image references</summary>")
    shown = re.sub(r"<details><summary>full image references</summary>.*?</details>", "", page, flags=re.S)

    assert DIGEST not in visible(shown), "a full digest stretches the page"
    assert f'<code title="{DIGEST}">{short_digest(DIGEST)}</code>' in page
    assert short_digest(DIGEST) == "sha256:abab…babab"
    assert len(references) == 1 + 4  # one block per service
    assert f"<code>{full_reference}</code>" in references[1].split("</details>")[0]


def test_a_plain_forward_reads_as_all_of_the_traffic(page):
    text = visible(page)

    assert "routes forward only to blue and green: web-alb:80 -> web-blue 100% / web-green 0%" in text
    assert not re.search(r"web-blue 1\b", text)


def test_each_service_has_its_timeline_under_the_changes_table(page, plans):
    services = page.split("<summary><b>")[1:]

    assert len(services) == len(plans) == len(PRE_MERMAID.findall(page))
    for block in services:
        assert block.index("<th>field</th>") < block.index('<pre lang="mermaid">') < block.index("<strong>Steps</strong>")


def test_mermaid_reads_every_step_at_the_time_its_budget_gives(plans, charts):
    assert [c.get("error") for c in charts] == [None] * len(plans)
    for plan, chart in zip(plans, charts):
        assert chart["type"] == "gantt"
        assert [(t["section"], t["name"], t["start"], t["end"]) for t in chart["tasks"]] == [
            (s.phase, chart_text(s.label), round(s.start * 1000), round(s.end * 1000)) for s in spans(plan)]


def test_the_timeline_shows_the_test_listener_the_bakes_and_keep_warm(charts, plans):
    tasks = {t["name"]: t for t in charts[0]["tasks"]}

    assert "test listener web-alb 8080 to green" in tasks
    bakes = [t for t in charts[0]["tasks"] if t["name"].startswith("bake 1m at ")]
    assert [b["name"] for b in bakes] == ["bake 1m at 10%", "bake 1m at 100%"]
    assert all(b["active"] and b["end"] - b["start"] == 60_000 for b in bakes)
    warm = tasks["keep blue warm 10m"]
    assert warm["done"] and warm["end"] - warm["start"] == round(plans[0].estimated_seconds * 1000)  # 10m, capped
    assert tasks["update web-blue, desired 0"]["start"] == warm["end"]  # blue scales down after keep-warm
    assert warm["start"] == round(plans[0].estimated_seconds * 1000) - 2000  # the estimate ends before it


def test_a_day_of_keep_warm_does_not_squeeze_the_deploy_to_a_sliver(plans, charts):
    (api,) = [c for p, c in zip(plans, charts) if p.service == "api"]
    warm = next(t for t in api["tasks"] if t["name"] == "keep blue warm 24h")
    chart_end = max(t["end"] for t in api["tasks"])

    assert warm["end"] - warm["start"] == round(plans[3].estimated_seconds * 1000)  # not 24h
    assert warm["start"] / chart_end > 0.45  # the deploy keeps about half of the picture


def test_a_single_service_plan_is_open_without_a_click():
    page = gfm_html(markdown([web_plan()]))

    assert page.count("<details open>") == 1
