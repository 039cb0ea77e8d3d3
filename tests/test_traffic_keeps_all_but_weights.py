"""A traffic step changes the weights and nothing else, through the CLI against the realistic emulator
(AWS's answers and rejections, a virtual clock): what sits around the weights - an authenticate
action in front of the forward, its order, target group stickiness, Route53 health checks, alias
targets, TTLs, an Auto Scaling group's mixed-instances policy - is read back from AWS after every
step the deployment runs, and after every step of its rollback.

Each world is seeded with `bluegreen.local.seed_extras`; each test deploys (all the way, or rolled
back by an alarm once the first traffic step is done) and compares every reading with the live
state before the deployment.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from bluegreen.cli.main import main
from bluegreen.execution import executor
from bluegreen.local.seed_extras import OIDC_CLIENT_SECRET, Extras

from deploy_helpers import listener_weights, seeded, write_spec

# The waits deployments/*.yaml really use; the virtual clock makes them free.
REAL_WAITS = {"health": {"deadline": "10m", "interval": "10s", "bake": "2m"}, "rollback": {"keep_blue_warm": "30m"}}
OUTCOMES = ["deploys", "rolls back"]


@dataclass
class Watch:
    """What `look()` saw after each step the executor completed: (step id, during rollback, seen)."""

    look: Callable[[], Any] | None = None
    seen: list[tuple[str, bool, Any]] = field(default_factory=list)
    after: dict[str, Callable[[], None]] = field(default_factory=dict)  # step id -> run once it is done

    def differing(self, expected: Any) -> list[tuple[str, bool, Any]]:
        return [entry for entry in self.seen if entry[2] != expected]

    @property
    def rollback_steps(self) -> list[str]:
        return [step for step, rollback, _ in self.seen if rollback]


@pytest.fixture
def after_each_step(monkeypatch) -> Watch:
    """Looks at AWS after every step the deployment runs, forward and rollback (a check failing inside
    a step would be taken for a failed step, so readings are kept and compared afterwards)."""
    watch = Watch()
    original = executor.Executor.run_step

    def run_step(self, step, *args, **kwargs):
        result = original(self, step, *args, **kwargs)
        if watch.look is not None:
            watch.seen.append((step.id, bool(kwargs.get("rollback")), watch.look()))
        then = watch.after.pop(step.id, None)
        if then is not None:
            then()
        return result

    monkeypatch.setattr(executor.Executor, "run_step", run_step)
    return watch


def deploy(watch: Watch, path, outcome: str, first_shift: str, alarm: Callable[[], None]) -> int:
    if outcome == "rolls back":
        watch.after[first_shift] = alarm
    code = main(["deploy", str(path), "--image-tag", "v2"])
    assert code == (0 if outcome == "deploys" else 1)
    assert watch.seen, "no step ran"
    if outcome == "rolls back":
        assert watch.rollback_steps, "the deployment did not roll back"
    return code


def alarm(aws, name: str) -> Callable[[], None]:
    return lambda: aws.client("cloudwatch").set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")


# --- listeners -------------------------------------------------------------------------------------


def web(aws, workdir, extras: Extras, **spec: Any) -> dict[str, Any]:
    path = write_spec(workdir, "web", **(REAL_WAITS | spec))
    return seeded(aws.endpoint_url, path, extras=extras) | {"path": path}


def actions_of(aws, listener_arn: str, rule_arn: str | None = None) -> list[dict[str, Any]]:
    elbv2 = aws.client("elbv2")
    if rule_arn:
        return elbv2.describe_rules(RuleArns=[rule_arn])["Rules"][0]["Actions"]
    return elbv2.describe_listeners(ListenerArns=[listener_arn])["Listeners"][0]["DefaultActions"]


def around_the_weights(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The action list without the forward's weights (and target groups): everything a shift must keep."""
    out = copy.deepcopy(actions)
    for action in out:
        if action["Type"] == "forward":
            action.pop("TargetGroupArn", None)
            action.get("ForwardConfig", {}).pop("TargetGroups", None)
            if not action.get("ForwardConfig"):
                action.pop("ForwardConfig", None)
    return out


def web_weights(aws) -> dict[str, int]:
    return listener_weights(aws.client("elbv2"), "web-alb", 80)


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_an_oidc_action_in_front_of_the_forward_stays_at_every_step_and_after_the_rollback(
        realistic_aws, workdir, product_on_virtual_clock, after_each_step, outcome):
    env = web(realistic_aws, workdir, Extras(authenticate="oidc"))
    listener = env["seed"].listeners["web-alb:80"]
    before = actions_of(realistic_aws, listener)
    assert [a["Type"] for a in before] == ["authenticate-oidc", "forward"]
    after_each_step.look = lambda: around_the_weights(actions_of(realistic_aws, listener))

    deploy(after_each_step, env["path"], outcome, "shift-10", alarm(realistic_aws, "web-5xx-rate"))

    assert after_each_step.differing(around_the_weights(before)) == []
    live = {"deploys": {"web-blue": 0, "web-green": 100}, "rolls back": {"web-blue": 100, "web-green": 0}}[outcome]
    assert web_weights(realistic_aws) == live
    assert OIDC_CLIENT_SECRET not in repr(after_each_step.seen)  # AWS never returns it; we never print it


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_a_cognito_action_in_front_of_a_rules_forward_stays_at_every_step_and_after_the_rollback(
        realistic_aws, workdir, product_on_virtual_clock, after_each_step, outcome):
    routes = [{"load_balancer": "web-alb", "port": 80, "rule_priority": 10, "blue_target_group": "web-blue",
               "green_target_group": "web-green"}]
    env = web(realistic_aws, workdir, Extras(authenticate="cognito"),
              traffic={"routes": routes, "test_listener": {"port": 8080}})
    listener, rule = env["seed"].listeners["web-alb:80"], env["seed"].rules["web-alb:80:10"]
    before = actions_of(realistic_aws, listener, rule)
    assert [a["Type"] for a in before] == ["authenticate-cognito", "forward"]
    after_each_step.look = lambda: around_the_weights(actions_of(realistic_aws, listener, rule))

    deploy(after_each_step, env["path"], outcome, "shift-10", alarm(realistic_aws, "web-5xx-rate"))

    assert after_each_step.differing(around_the_weights(before)) == []
    forward = next(a for a in actions_of(realistic_aws, listener, rule) if a["Type"] == "forward")
    green = next(g["Weight"] for g in forward["ForwardConfig"]["TargetGroups"]
                 if g["TargetGroupArn"] == env["seed"].target_groups["web-green"])
    assert green == (100 if outcome == "deploys" else 0)


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_target_group_stickiness_stays_at_every_step_and_after_the_rollback(
        realistic_aws, workdir, product_on_virtual_clock, after_each_step, outcome):
    env = web(realistic_aws, workdir, Extras(stickiness=3600))
    listener = env["seed"].listeners["web-alb:80"]
    sticky = {"Enabled": True, "DurationSeconds": 3600}
    assert actions_of(realistic_aws, listener)[0]["ForwardConfig"]["TargetGroupStickinessConfig"] == sticky
    after_each_step.look = lambda: [a.get("ForwardConfig", {}).get("TargetGroupStickinessConfig")
                                    for a in actions_of(realistic_aws, listener)]

    deploy(after_each_step, env["path"], outcome, "shift-10", alarm(realistic_aws, "web-5xx-rate"))

    assert after_each_step.differing([sticky]) == []


def test_a_plain_forward_is_planned_as_100_percent_and_shifted_to_weights(
        realistic_aws, workdir, product_on_virtual_clock, after_each_step, capsys):
    env = web(realistic_aws, workdir, Extras(plain_forward=True))
    listener = env["seed"].listeners["web-alb:80"]
    assert "ForwardConfig" not in actions_of(realistic_aws, listener)[0]

    capsys.readouterr()
    assert main(["plan", str(env["path"]), "--image-tag", "v2"]) == 0
    text = capsys.readouterr().out

    assert "listener web-alb:80: blue 100% (web-blue), green 0% (web-green)" in text
    assert "production listener web-alb:80: web-blue 100% / web-green 0% -> web-blue 90% / web-green 10%" in text
    assert "1%" not in text
    assert main(["deploy", str(env["path"]), "--image-tag", "v2"]) == 0
    assert web_weights(realistic_aws) == {"web-blue": 0, "web-green": 100}


# --- Route53 records -------------------------------------------------------------------------------


def api(aws, workdir, extras: Extras, **dns: Any) -> dict[str, Any]:
    overrides = {"shift": {"mode": "linear", "step_percent": 50, "interval": "2m"},
                 "traffic": {"dns": {"hosted_zone": "example.com", "record": "api.example.com", "ttl": "60s",
                                     "endpoints": {"blue": "api-blue.lb.example.com",
                                                   "green": "api-green.lb.example.com"}} | dns}}
    path = write_spec(workdir, "api", **(REAL_WAITS | overrides))
    return seeded(aws.endpoint_url, path, extras=extras) | {"path": path}


def record_sets(aws, zone_id: str) -> dict[str, dict[str, Any]]:
    """Set identifier -> the api.example.com record set, as Route53 lists it."""
    listed = aws.client("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {r["SetIdentifier"]: r for r in listed if r["Name"] == "api.example.com." and "SetIdentifier" in r}


def without_weights(sets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {f: v for f, v in r.items() if f != "Weight"} for k, r in sets.items()}


def record_weights(aws, zone_id: str) -> dict[str, int]:
    return {k: r["Weight"] for k, r in record_sets(aws, zone_id).items()}


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_route53_health_checks_stay_on_the_weighted_records_at_every_step_and_after_the_rollback(
        realistic_aws, workdir, product_on_virtual_clock, after_each_step, outcome):
    env = api(realistic_aws, workdir, Extras(health_checks=True))
    zone = env["seed"].hosted_zone_id
    checks = env["seed"].health_checks
    assert {k: r["HealthCheckId"] for k, r in record_sets(realistic_aws, zone).items()} == checks
    after_each_step.look = lambda: {k: r.get("HealthCheckId") for k, r in record_sets(realistic_aws, zone).items()}

    deploy(after_each_step, env["path"], outcome, "shift-50", alarm(realistic_aws, "api-5xx"))

    assert after_each_step.differing(checks) == []
    assert record_weights(realistic_aws, zone) == ({"blue": 0, "green": 100} if outcome == "deploys"
                                                   else {"blue": 100, "green": 0})


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_weighted_alias_records_to_two_load_balancers_stay_aliases_at_every_step_and_after_the_rollback(
        realistic_aws, workdir, product_on_virtual_clock, after_each_step, outcome):
    env = api(realistic_aws, workdir, Extras(alias=True))
    zone = env["seed"].hosted_zone_id
    before = without_weights(record_sets(realistic_aws, zone))
    assert {k: (r["Type"], r["AliasTarget"]["DNSName"]) for k, r in before.items()} == {
        c: ("A", env["seed"].records[c]) for c in ("blue", "green")}
    assert all("TTL" not in r and "ResourceRecords" not in r for r in before.values())
    after_each_step.look = lambda: without_weights(record_sets(realistic_aws, zone))

    deploy(after_each_step, env["path"], outcome, "shift-50", alarm(realistic_aws, "api-5xx"))

    assert after_each_step.differing(before) == []
    assert record_weights(realistic_aws, zone) == ({"blue": 0, "green": 100} if outcome == "deploys"
                                                   else {"blue": 100, "green": 0})


def test_alias_records_are_planned_with_their_targets_and_held_for_the_load_balancers_ttl(
        realistic_aws, workdir, capsys):
    env = api(realistic_aws, workdir, Extras(alias=True), ttl="10s")

    capsys.readouterr()
    assert main(["plan", str(env["path"]), "--image-tag", "v2", "--format", "json"]) == 0
    import json

    plan = json.loads(capsys.readouterr().out)["plans"][0]
    blue = env["seed"].records["blue"]
    assert any(f"-> alias {blue.removesuffix('.')} (evaluates target health): weight 100, "
               f"TTL of its target (60s)" in line for line in plan["state"]), plan["state"]
    assert [t["hold"] for t in plan["traffic"]] == [120.0, 120.0]  # the bake is longer than the 60s TTL
    assert {s["ttl"] for s in plan["steps"] if s["kind"] == "set-record-weights"} == {60}


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_the_records_own_ttl_stays_at_every_step_and_after_the_rollback(
        realistic_aws, workdir, product_on_virtual_clock, after_each_step, outcome):
    env = api(realistic_aws, workdir, Extras(), ttl="60s")
    zone = env["seed"].hosted_zone_id
    r53 = realistic_aws.client("route53")
    live = record_sets(realistic_aws, zone)
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {**r, "TTL": 30}} for r in live.values()]})
    after_each_step.look = lambda: {k: r.get("TTL") for k, r in record_sets(realistic_aws, zone).items()}

    deploy(after_each_step, env["path"], outcome, "shift-50", alarm(realistic_aws, "api-5xx"))

    # The spec's 60s is how long each step holds, not a TTL to write over the records' own.
    assert after_each_step.differing({"blue": 30, "green": 30}) == []


# --- Auto Scaling groups ---------------------------------------------------------------------------


def legacy(aws, workdir, **spec: Any) -> dict[str, Any]:
    path = write_spec(workdir, "legacy", **(REAL_WAITS | spec))
    return seeded(aws.endpoint_url, path, extras=Extras(mixed_instances=True)) | {"path": path}


def group(aws, name: str) -> dict[str, Any] | None:
    found = aws.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return found[0] if found else None


def instance_mix(aws, name: str) -> Any:
    """What the group launches besides its template version: the overrides and the distribution."""
    found = group(aws, name)
    if found is None:
        return "gone"
    policy = found.get("MixedInstancesPolicy")
    if policy is None:
        return ("no mixed instances policy", found.get("LaunchTemplate"))
    return (policy["LaunchTemplate"]["Overrides"], policy["InstancesDistribution"])


def template_version(aws, name: str) -> str:
    return group(aws, name)["MixedInstancesPolicy"]["LaunchTemplate"]["LaunchTemplateSpecification"]["Version"]


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_a_mixed_instances_policy_gets_the_new_template_version_and_keeps_its_instance_mix(
        realistic_aws, workdir, product_on_virtual_clock, after_each_step, outcome):
    env = legacy(realistic_aws, workdir)
    mix = {name: instance_mix(realistic_aws, name) for name in ("legacy-blue", "legacy-green")}
    assert all(isinstance(m, tuple) and m[0] and m[1] for m in mix.values())
    after_each_step.look = lambda: {name: instance_mix(realistic_aws, name) for name in mix}

    deploy(after_each_step, env["path"], outcome, "attach-legacy-green", alarm(realistic_aws, "legacy-5xx"))

    assert after_each_step.differing(mix) == []
    green = template_version(realistic_aws, "legacy-green")
    if outcome == "deploys":
        assert green not in ("1", "$Latest", "$Default")  # the version this deployment created
        assert group(realistic_aws, "legacy-green")["DesiredCapacity"] == 2
    else:
        assert group(realistic_aws, "legacy-green")["DesiredCapacity"] == 0
    assert template_version(realistic_aws, "legacy-blue") == "1"  # pinned to what it ran, in its policy


def test_a_recreated_group_copies_the_live_groups_mixed_instances_policy(
        realistic_aws, workdir, product_on_virtual_clock, after_each_step):
    env = legacy(realistic_aws, workdir)
    mix = instance_mix(realistic_aws, "legacy-blue")
    realistic_aws.client("autoscaling").delete_auto_scaling_group(AutoScalingGroupName="legacy-green", ForceDelete=True)
    after_each_step.look = lambda: instance_mix(realistic_aws, "legacy-green")

    assert main(["deploy", str(env["path"]), "--image-tag", "v2"]) == 0

    assert instance_mix(realistic_aws, "legacy-green") == mix
    created = [seen for step, _, seen in after_each_step.seen if step != "check-alarms" and seen != "gone"]
    assert created and all(seen == mix for seen in created)
