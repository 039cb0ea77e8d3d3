"""The plan's metric gates: the default ALB queries from the target groups' own metrics, resolved and shown."""

from __future__ import annotations

from dataclasses import replace

from bluegreen.domain.colors import Color
from bluegreen.domain.snapshot import LoadBalancer
from bluegreen.domain.steps import Bake
from bluegreen.planning.planner import make_plan
from support.builders import (
    NOW, by_name, ecs_service, lb_arn, listener, live_weights, route, snapshot, spec, target_group, task_definition,
    td_arn, tg_arn,
)

TD1 = td_arn("web", 1)


def web_spec(**sections):
    """Two services behind one ALB listener, a 10/100 canary."""
    return spec("web", {"ecs": {"cluster": "prod", "services": {"blue": "web-blue", "green": "web-green"},
                                "container": "web"}},
                {"routes": [route("web-alb", 80, "web-blue", "web-green")]},
                shift={"mode": "canary", "percentages": [10, 100]}, health={"bake": "1m", "interval": "5s"},
                **sections)


def web_world(live: Color):
    return snapshot(
        "web", listeners=(listener("web-alb", 80, live_weights("web-blue", "web-green", live)),),
        target_groups=by_name(*(target_group(f"web-{c}", 2 if c is live else 0) for c in Color)),
        ecs_services=by_name(*(ecs_service(f"web-{c}", TD1, 2 if c is live else 0, target_groups=[f"web-{c}"])
                               for c in Color)),
        task_definitions={TD1: task_definition("web", 1, "web", "web:v1")})


def planned(**analysis):
    world = replace(web_world(Color.BLUE), load_balancers={
        "web-alb": LoadBalancer(lb_arn("web-alb"), "web-alb", "web-alb.example", "application")})
    return make_plan(web_spec(analysis=analysis), world, image_tag="v2", now=NOW)


def test_the_default_queries_watch_greens_target_group_and_compare_its_latency_with_blues():
    plan = planned()
    bakes = [s for s in plan.steps if isinstance(s, Bake) and s.phase == "shift"]
    rate, latency = bakes[0].metrics.gates

    assert [b.metrics.gates for b in bakes] == [[rate, latency]] * len(bakes)
    assert rate.expression == "100 * FILL(errors, 0) / requests" and rate.at_most == 1.0
    assert rate.metrics["errors"].dimensions == {"TargetGroup": tg_arn("web-green").rsplit(":", 1)[1],
                                                 "LoadBalancer": "app/web-alb/0123456789abcdef"}
    assert rate.metrics["errors"].dimensions["TargetGroup"].startswith("targetgroup/web-green/")
    assert latency.metrics["latency"].stat == "p99" and latency.ratio_at_most == 1.2
    assert latency.baseline["latency"].dimensions["TargetGroup"].startswith("targetgroup/web-blue/")
    assert latency.on_no_data == "pass" and rate.on_no_data == "wait"


def test_the_plan_lists_each_query_with_its_threshold_and_no_data_policy():
    gates = planned(interval="30s").gates

    assert any(g.startswith("through each bake, every 30s: metric green-5xx-rate: 100 * FILL(errors, 0) / requests "
                            "at most 1 over 5m (errors = AWS/ApplicationELB HTTPCode_Target_5XX_Count Sum")
               and g.endswith("; no data: wait") for g in gates)
    assert any("metric green-p99-latency-vs-blue: AWS/ApplicationELB TargetResponseTime p99" in g
               and "green at most 1.2 x blue over 5m (blue: latency = " in g and g.endswith("; no data: pass")
               for g in gates)


def test_a_spec_query_of_the_same_name_replaces_a_default():
    mine = {"name": "green-5xx-rate", "at_most": 5, "metrics": {
        "errors": {"namespace": "AWS/ApplicationELB", "name": "HTTPCode_Target_5XX_Count", "stat": "Sum",
                   "of": "green"}}}
    bake = next(s for s in planned(queries=[mine]).steps if isinstance(s, Bake))

    assert [m.name for m in bake.metrics.gates] == ["green-p99-latency-vs-blue", "green-5xx-rate"]
    assert bake.metrics.gates[1].at_most == 5


def test_without_an_analysis_section_no_bake_queries_metrics():
    plan = make_plan(web_spec(), web_world(Color.BLUE), image_tag="v2", now=NOW)
    assert all(s.metrics is None for s in plan.steps if isinstance(s, Bake))


def test_the_plan_shows_the_specs_pauses_and_refuses_one_naming_no_step():
    world = web_world(Color.BLUE)
    paused = make_plan(web_spec(judgement={"pause_before": ["shift-100"], "auto_promote_after": "10m"}), world,
                       image_tag="v2", now=NOW)
    wrong = make_plan(web_spec(judgement={"pause_before": ["shift-50"]}), world, image_tag="v2", now=NOW)

    assert ("pause before shift-100 for a decision: `promote` continues, `abort` rolls back; promotes itself "
            "after 10m (counting down in `status`)") in paused.gates
    assert [e for e in wrong.errors if e.startswith("judgement.pause_before: no step named 'shift-50'")]
