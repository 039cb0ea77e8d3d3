"""Plans show weights as shares of the traffic, and say what a traffic step leaves as it is:
an authenticate action and stickiness around a forward, alias targets, health checks, TTLs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bluegreen.domain.colors import Color
from bluegreen.domain.snapshot import DnsRecord, Rule
from bluegreen.domain.steps import SetRecordWeights, SetWeights
from bluegreen.domain.weights import percentages, same_split
from bluegreen.planning.planner import make_plan
from support.builders import NOW, ZONE_ID, listener_arn, tg_arn

from test_dns_cutover import ECS, api_spec, ecs_world
from test_target_group_swap import web_spec, web_world

BLUE_TG, GREEN_TG = tg_arn("web-blue"), tg_arn("web-green")
LB = {Color.BLUE: "api-blue-1234.us-east-1.elb.amazonaws.com", Color.GREEN: "api-green-5678.us-east-1.elb.amazonaws.com"}


@pytest.mark.parametrize("weights,shares", [
    ({"a": 1}, {"a": 100}),
    ({"a": 1, "b": 0}, {"a": 100, "b": 0}),
    ({"a": 90, "b": 10}, {"a": 90, "b": 10}),
    ({"a": 1, "b": 1, "c": 1}, {"a": 34, "b": 33, "c": 33}),
    ({"a": 3, "b": 1}, {"a": 75, "b": 25}),
    ({"a": 0, "b": 0}, {"a": 0, "b": 0}),
])
def test_weights_read_as_whole_percent_of_the_total(weights, shares):
    assert percentages(weights) == shares and (sum(shares.values()) in (0, 100))


def test_a_split_is_the_same_whatever_the_scale_of_the_weights():
    assert same_split({"a": 1, "b": 0}, {"a": 100, "b": 0})
    assert same_split({"a": 1}, {"a": 100, "b": 0})
    assert not same_split({"a": 90, "b": 10}, {"a": 100, "b": 0})


def plain_forward_world(**rule_fields):
    """web's port-80 listener forwards to blue with a plain TargetGroupArn (read back as weight 1)."""
    world = web_world(Color.BLUE)
    first = world.listeners[0]
    plain = Rule(arn=first.arn, priority=None, forward=((BLUE_TG, 1),), **rule_fields)
    return replace(world, listeners=(replace(first, default=plain), *world.listeners[1:]))


def test_a_plain_forward_is_100_percent_in_the_state_and_the_first_step():
    plan = make_plan(web_spec(), plain_forward_world(), image_tag="v2", now=NOW)

    assert plan.state[0] == "listener web-alb:80: blue 100% (web-blue), green 0% (web-green)"
    first = next(s for s in plan.steps if isinstance(s, SetWeights) and s.listener_arn == listener_arn("web-alb", 80))
    assert first.previous == {BLUE_TG: 1, GREEN_TG: 0}  # restored as read
    assert first.describe() == ("production listener web-alb:80: web-blue 100% / web-green 0% -> "
                                "web-blue 90% / web-green 10%")


def test_the_state_says_an_authenticate_action_and_stickiness_are_kept():
    world = plain_forward_world(actions=("authenticate-oidc", "forward"), stickiness=3600)

    plan = make_plan(web_spec(), world, image_tag="v2", now=NOW)

    assert plan.state[0] == ("listener web-alb:80: blue 100% (web-blue), green 0% (web-green); kept as is: "
                             "authenticate-oidc before the forward, stickiness 1h")


def alias_world(live: Color, *, set_ids: tuple[str, str] = ("blue", "green"), **record_fields):
    world = ecs_world(live)
    records = tuple(DnsRecord(zone_id=ZONE_ID, name="api.example.com", type="A", set_identifier=set_id,
                              weight=100 if color is live else 0, ttl=None, values=(f"dualstack.{LB[color]}",),
                              alias_zone_id="Z35SXDOTRQ7X7K", evaluate_target_health=True, **record_fields)
                    for color, set_id in zip(Color, set_ids))
    return replace(world, dns_records=records)


def test_alias_records_are_found_by_their_load_balancer_and_shifted_by_weight():
    spec_ = api_spec(ECS, dns={"endpoints": {"blue": LB[Color.BLUE], "green": LB[Color.GREEN]}})

    plan = make_plan(spec_, alias_world(Color.BLUE, set_ids=("stack-a", "stack-b")), image_tag="v2", now=NOW)

    assert plan.errors == []
    first = next(s for s in plan.steps if isinstance(s, SetRecordWeights))
    assert (first.type, first.weights, first.previous) == ("A", {"stack-a": 50, "stack-b": 50},
                                                           {"stack-a": 100, "stack-b": 0})
    assert first.values == {"stack-a": f"dualstack.{LB[Color.BLUE]}", "stack-b": f"dualstack.{LB[Color.GREEN]}"}


def test_an_alias_to_a_load_balancer_holds_each_step_for_the_load_balancers_60s_ttl():
    plan = make_plan(api_spec(ECS, dns={"ttl": "10s"}, health={"alarms": ["api-5xx"], "bake": "5s"}),
                     alias_world(Color.BLUE), image_tag="v2", now=NOW)

    assert {s.ttl for s in plan.steps if isinstance(s, SetRecordWeights)} == {60}
    assert [t.hold for t in plan.traffic] == [60.0, 60.0]
    assert plan.state[0] == (f"record api.example.com (blue) -> alias dualstack.{LB[Color.BLUE]} "
                             "(evaluates target health): weight 100, TTL of its target (60s)")


def test_a_records_health_check_is_in_the_state():
    world = ecs_world(Color.BLUE)
    world = replace(world, dns_records=tuple(replace(r, health_check_id=f"hc-{r.set_identifier}")
                                             for r in world.dns_records))

    plan = make_plan(api_spec(ECS), world, image_tag="v2", now=NOW)

    assert plan.state[0] == ("record api.example.com (blue) -> api-blue.lb.example.com: weight 100, "
                             "TTL 60s, health check hc-blue")
