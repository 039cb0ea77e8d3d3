"""Assembling where traffic goes, from recorded answers: live weights, target groups, DNS records."""

from __future__ import annotations

from bluegreen.discovery.assemble import assemble


def test_listener_weights_are_read_from_the_forward_actions(replay):
    web = replay("web")
    snap = web.snapshots["web"]

    blue, green = web.tg_arn("web-blue"), web.tg_arn("web-green")
    production, test_listener = snap.listener("web-alb", 80), snap.listener("web-alb", 8080)
    assert production is not None and production.protocol == "HTTP"
    assert production.default.forward == ((blue, 100), (green, 0))
    assert test_listener is not None and test_listener.default.forward == ((blue, 100), (green, 0))
    assert production.rules == ()  # no route has a rule_priority
    assert snap.load_balancers["web-alb"].arn == web.raw.load_balancer("web-alb")["LoadBalancerArn"]
    assert snap.load_balancers["web-alb"].type == "application"
    assert snap.findings == ()


def test_green_live_weights_are_reported_as_they_are_not_by_name(replay):
    web = replay("web-green-live")
    snap = web.snapshots["web"]

    blue, green = web.tg_arn("web-blue"), web.tg_arn("web-green")
    assert snap.listener("web-alb", 80).default.forward == ((green, 100), (blue, 0))
    assert snap.listener("web-alb", 8080).default.forward == ((green, 100), (blue, 0))
    assert snap.target_groups["web-green"].healthy_count == 2 and snap.target_groups["web-blue"].targets == ()
    assert snap.findings == ()


def test_target_groups_carry_timing_deregistration_delay_and_target_health(replay):
    web = replay("web")
    snap = web.snapshots["web"]

    blue, green = snap.target_groups["web-blue"], snap.target_groups["web-green"]
    lb_arn = snap.load_balancers["web-alb"].arn
    for tg in (blue, green):
        assert (tg.health_check_interval, tg.healthy_threshold, tg.deregistration_delay) == (10, 3, 30)
        assert tg.health_budget == 30.0
        assert (tg.target_type, tg.protocol, tg.port) == ("ip", "HTTP", 8080)
        assert tg.load_balancer_arns == (lb_arn,)
    assert blue.arn == web.tg_arn("web-blue")
    recorded = web.raw.tg_health[blue.arn]
    assert sorted(t.target_id for t in blue.targets) == sorted(d["Target"]["Id"] for d in recorded)
    assert blue.healthy_count == 2 and {t.state for t in blue.targets} == {"healthy"}
    assert green.targets == ()


def test_weighted_records_report_weight_ttl_and_each_colors_endpoint(replay):
    api = replay("api")
    snap = api.snapshots["api"]

    assert snap.dns_zone_id == api.raw.zones["example.com"]
    records = {r.set_identifier: r for r in snap.dns_records}
    assert set(records) == {"blue", "green"}
    assert (records["blue"].weight, records["green"].weight) == (100, 0)
    assert records["blue"].values == ("api-blue.lb.example.com",)
    assert records["green"].values == ("api-green.lb.example.com",)
    assert {r.ttl for r in records.values()} == {60} and {r.type for r in records.values()} == {"CNAME"}
    assert {r.name for r in records.values()} == {"api.example.com"}
    assert snap.findings == ()


def test_target_groups_reached_only_through_ecs_services_are_assembled(replay):
    snap = replay("api").snapshots["api"]

    assert set(snap.target_groups) == {"api-blue", "api-green"}  # the spec names neither
    assert snap.ecs_services["api-blue"].target_group_arns == (snap.target_groups["api-blue"].arn,)
    assert snap.target_groups["api-blue"].healthy_count == 2 and snap.target_groups["api-green"].targets == ()
    assert snap.listeners == () and snap.load_balancers == {}


def test_an_asgs_target_group_shows_its_instances_as_targets(replay):
    snap = replay("legacy").snapshots["legacy"]

    tg, blue = snap.target_groups["legacy"], snap.asgs["legacy-blue"]
    assert (tg.target_type, tg.port) == ("instance", 80)
    assert sorted(t.target_id for t in tg.targets) == sorted(i.instance_id for i in blue.instances)
    assert tg.healthy_count == 2


def test_a_counted_target_group_carries_cloudwatchs_counts_and_no_targets(replay):
    web = replay("web")
    blue = web.tg_arn("web-blue")
    del web.raw.tg_health[blue]
    web.raw.tg_host_counts[blue] = [2, 1]

    tg = assemble(web.specs["web"], web.raw, web.image_tag, web.region).target_groups["web-blue"]

    assert tg.host_counts == (2, 1) and tg.targets == () and tg.healthy_count == 2


def test_a_group_read_target_by_target_ignores_a_count_of_it(replay):
    web = replay("web")
    web.raw.tg_host_counts[web.tg_arn("web-blue")] = [0, 0]  # the exact read is the better answer

    tg = assemble(web.specs["web"], web.raw, web.image_tag, web.region).target_groups["web-blue"]

    assert tg.host_counts is None and tg.healthy_count == 2
