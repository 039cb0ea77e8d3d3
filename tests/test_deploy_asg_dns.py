"""ASG swap behind an ELB target group and Route53 DNS cutover, on the same executor, through the CLI
against the emulator (moto's server): happy paths, scaling processes, failing gates, SIGKILL recovery,
the deployments/ examples and the DNS-specific warnings.

The specs are the real deployments/legacy.yaml and deployments/api.yaml with only the waits shortened
(`write_spec`): keep-warm 1s, bake 600ms, and for api a 50% linear shift with a 1s TTL (each DNS step
holds at least the TTL).
"""

from __future__ import annotations

import base64
import json
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from bluegreen.cli.main import main
from bluegreen.state.local import LocalStore

from deploy_helpers import REALISTIC, REPO, run_cli, seeded, seeding_aws, write_spec

ALL_PROCESSES = {"AlarmNotification", "AZRebalance", "ScheduledActions"}  # legacy.yaml's suspend_processes

# Steps a deploy runs before it exits to keep blue warm (the keep-warm step is the last of them),
# for the fast specs below; test_step_counts_match_the_plans checks them against `plan --format json`.
LEGACY_STEPS = 14  # check-alarms, pin blue ($Latest -> its version number), suspend x2, lt version,
#                    scale green, in-service, attach, healthy, detach, bake-100, resume x2, keep-blue-warm
API_STEPS = 9  # check-alarms, register, update green, stable, shift-50, bake-50, shift-100, bake-100, keep-blue-warm


# --- specs and worlds --------------------------------------------------------------------------------


def api_overrides(**dns: Any) -> dict[str, Any]:
    """api.yaml's traffic and shift with short holds: 50% steps, 300ms interval, TTL 1s."""
    real = yaml.safe_load((REPO / "deployments" / "api.yaml").read_text())
    return {"shift": {"mode": "linear", "step_percent": 50, "interval": "300ms"},
            "traffic": {"dns": {**real["traffic"]["dns"], "ttl": "1s", **dns}}}


def write_legacy(workdir: Path, **overrides: Any) -> Path:
    return write_spec(workdir, "legacy", **overrides)


def write_api(workdir: Path, **overrides: Any) -> Path:
    return write_spec(workdir, "api", **{**api_overrides(), **overrides})


@pytest.fixture
def clock(product_on_virtual_clock):
    """The realistic emulator (instances boot, targets pass health checks, tasks start) and the CLI
    in this process on one virtual clock. Tests that watch the emulator from a thread or run the
    CLI in a subprocess stay on real time with the fast specs."""
    return product_on_virtual_clock


@pytest.fixture
def legacy(aws, workdir, clock):
    path = write_legacy(workdir, timings=REALISTIC)
    return seeded(aws.endpoint_url, path) | {"path": path}


@pytest.fixture
def api(aws, workdir, clock):
    path = write_api(workdir, timings=REALISTIC)
    return seeded(aws.endpoint_url, path) | {"path": path}


@pytest.fixture
def legacy_on_real_time(aws, workdir):
    path = write_legacy(workdir)
    return seeded(aws.endpoint_url, path) | {"path": path}


@pytest.fixture
def api_on_real_time(aws, workdir):
    path = write_api(workdir)
    return seeded(aws.endpoint_url, path) | {"path": path}


# --- reading the emulator ------------------------------------------------------------------------


def group(aws, name: str) -> dict[str, Any]:
    return aws.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]


def tg_arn(aws, target_group: str = "legacy") -> str:
    return aws.client("elbv2").describe_target_groups(Names=[target_group])["TargetGroups"][0]["TargetGroupArn"]


def suspended(aws, name: str) -> set[str]:
    return {p["ProcessName"] for p in group(aws, name)["SuspendedProcesses"]}


def attached(aws, target_group: str = "legacy") -> set[str]:
    """The legacy groups attached to the target group."""
    arn = aws.client("elbv2").describe_target_groups(Names=[target_group])["TargetGroups"][0]["TargetGroupArn"]
    return {name for name in ("legacy-blue", "legacy-green") if arn in group(aws, name)["TargetGroupARNs"]}


def targets(aws, target_group: str = "legacy") -> set[str]:
    """Instance ids registered in the target group: where production traffic actually goes."""
    elbv2 = aws.client("elbv2")
    arn = elbv2.describe_target_groups(Names=[target_group])["TargetGroups"][0]["TargetGroupArn"]
    return {d["Target"]["Id"] for d in elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]}


def instances(aws, name: str) -> set[str]:
    return {i["InstanceId"] for i in group(aws, name)["Instances"]}


def in_service(aws, name: str) -> int:
    return sum(1 for i in group(aws, name)["Instances"] if i["LifecycleState"] == "InService")


def user_data(aws, template: str, version: str) -> str:
    found = aws.client("ec2").describe_launch_template_versions(
        LaunchTemplateName=template, Versions=[version])["LaunchTemplateVersions"][0]
    return base64.b64decode(found["LaunchTemplateData"]["UserData"]).decode()


def record_weights(aws, record: str = "api.example.com.") -> dict[str, int]:
    r53 = aws.client("route53")
    zone = r53.list_hosted_zones_by_name(DNSName="example.com.")["HostedZones"][0]["Id"]
    sets = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return {s["SetIdentifier"]: s["Weight"] for s in sets if s["Name"] == record and "SetIdentifier" in s}


def service(aws, name: str, cluster: str = "prod") -> dict[str, Any]:
    return aws.client("ecs").describe_services(cluster=cluster, services=[name])["services"][0]


def container_image(aws, task_definition: str, container: str) -> str:
    td = aws.client("ecs").describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    return next(c["image"] for c in td["containerDefinitions"] if c["name"] == container)


def history(name: str) -> list[dict[str, Any]]:
    return LocalStore(".bluegreen").history(name)


def pinned(env: dict[str, Any]) -> str:
    return f"{env['seed'].repository_uri}@{env['v2']}"


def when(condition: Callable[[], bool], then: Callable[[], None], timeout: float = 30.0) -> threading.Thread:
    """Run `then` once `condition` holds (polled every 100ms, well inside the 600ms bake it waits for;
    a condition is a few requests to the emulator, and polling faster keeps a core busy), in the background."""
    def watch() -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if condition():
                then()
                return
            time.sleep(0.1)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def fire_alarm(aws, name: str) -> Callable[[], None]:
    return lambda: aws.client("cloudwatch").set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")


def plan_json(capsys, *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["plan", *args, "--format", "json"]) == 0
    return {p["service"]: p for p in json.loads(capsys.readouterr().out)["plans"]}


# --- happy paths -------------------------------------------------------------------------------------


def test_asg_swap_attaches_green_with_the_new_digest_in_its_user_data_then_scales_blue_down(aws, legacy, clock, capsys):
    assert main(["deploy", str(legacy["path"]), "--image-tag", "v2"]) == 0

    assert attached(aws) == {"legacy-green"}
    assert targets(aws) == instances(aws, "legacy-green")
    green = group(aws, "legacy-green")
    assert green["DesiredCapacity"] == 2 and in_service(aws, "legacy-green") == 2
    version = green["LaunchTemplate"]["Version"]
    assert version not in ("$Latest", "$Default")  # pinned to the version this deployment created
    script = user_data(aws, "legacy", version)
    assert f"docker run -d --restart always --name app -p 80:8080 {pinned(legacy)}\n" in script
    latest = history("legacy")[0]
    assert (latest["result"], latest["strategy"], latest["image"]) == ("succeeded", "asg-swap", pinned(legacy))
    assert (latest["from_color"], latest["to_color"]) == ("blue", "green")
    assert group(aws, "legacy-blue")["DesiredCapacity"] == 2  # kept warm, detached
    assert "traffic switched: 100% on green" in capsys.readouterr().out

    clock.sleep(2)  # keep_blue_warm is 1s in these specs
    assert main(["finalize", "legacy"]) == 0

    blue = group(aws, "legacy-blue")
    assert (blue["MinSize"], blue["DesiredCapacity"]) == (0, 0)
    assert attached(aws) == {"legacy-green"}
    assert LocalStore(".bluegreen").current("legacy")["status"] == "succeeded"


def test_dns_cutover_moves_the_weights_to_green_then_scales_blue_down(aws, api, clock, capsys):
    assert main(["deploy", str(api["path"]), "--image-tag", "v2"]) == 0

    assert record_weights(aws) == {"blue": 0, "green": 100}
    green = service(aws, "api-green")
    assert green["desiredCount"] == 2 and container_image(aws, green["taskDefinition"], "api") == pinned(api)
    latest = history("api")[0]
    assert (latest["result"], latest["strategy"], latest["image"]) == ("succeeded", "dns-cutover", pinned(api))
    assert service(aws, "api-blue")["desiredCount"] == 2  # kept warm

    clock.sleep(2)
    assert main(["finalize", "api"]) == 0

    assert service(aws, "api-blue")["desiredCount"] == 0
    assert record_weights(aws) == {"blue": 0, "green": 100}
    assert LocalStore(".bluegreen").current("api")["status"] == "succeeded"


def test_the_next_asg_deployment_goes_back_to_blue(aws, legacy):
    from bluegreen.local.seed import put_image

    assert main(["deploy", str(legacy["path"]), "--image-tag", "v2"]) == 0
    v3 = put_image(seeding_aws("us-east-1", aws.endpoint_url), "legacy", "v3")

    assert main(["deploy", str(legacy["path"]), "--image-tag", "v3"]) == 0

    assert attached(aws) == {"legacy-blue"}
    script = user_data(aws, "legacy", group(aws, "legacy-blue")["LaunchTemplate"]["Version"])
    assert f"{legacy['seed'].repository_uri}@{v3}" in script


# --- scaling processes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["succeeds", "rolls back on an alarm", "is rolled back while blue is warm"])
def test_scaling_processes_are_suspended_for_the_swap_and_restored_exactly(aws, workdir, outcome):
    path = write_legacy(workdir, health={"bake": "3s" if outcome == "rolls back on an alarm" else "600ms"})
    seeded(aws.endpoint_url, path)
    autoscaling = aws.client("autoscaling")
    autoscaling.suspend_processes(AutoScalingGroupName="legacy-blue", ScalingProcesses=["AZRebalance"])
    during: dict[str, set[str]] = {}

    def snapshot_then_maybe_fire() -> None:
        during.update({name: suspended(aws, name) for name in ("legacy-blue", "legacy-green")})
        if outcome == "rolls back on an alarm":
            fire_alarm(aws, "legacy-5xx")()

    watcher = when(lambda: "legacy-blue" not in attached(aws), snapshot_then_maybe_fire)

    code = main(["deploy", str(path), "--image-tag", "v2"])
    watcher.join()

    assert during == {"legacy-blue": ALL_PROCESSES, "legacy-green": ALL_PROCESSES}
    if outcome == "rolls back on an alarm":
        assert code == 1
    else:
        assert code == 0
    if outcome == "is rolled back while blue is warm":
        assert main(["rollback", "legacy"]) == 0
    expected_live = "legacy-green" if outcome == "succeeds" else "legacy-blue"
    assert attached(aws) == {expected_live}
    # Only what the deployment suspended was resumed: AZRebalance stays suspended on blue.
    assert suspended(aws, "legacy-blue") == {"AZRebalance"}
    assert suspended(aws, "legacy-green") == set()


def test_the_plan_suspends_only_what_is_not_already_suspended(aws, legacy, capsys):
    aws.client("autoscaling").suspend_processes(AutoScalingGroupName="legacy-blue", ScalingProcesses=["AZRebalance"])

    steps = {s["id"]: s for s in plan_json(capsys, str(legacy["path"]), "--image-tag", "v2")["legacy"]["steps"]}

    assert steps["suspend-legacy-blue"]["processes"] == ["AlarmNotification", "ScheduledActions"]
    assert steps["resume-legacy-blue"]["processes"] == ["AlarmNotification", "ScheduledActions"]
    assert set(steps["suspend-legacy-green"]["processes"]) == ALL_PROCESSES


# --- failing gates roll back ---------------------------------------------------------------------------


def test_asg_alarm_during_bake_reattaches_blue(aws, workdir):
    path = write_legacy(workdir, health={"bake": "3s"})
    seeded(aws.endpoint_url, path)
    watcher = when(lambda: "legacy-blue" not in attached(aws), fire_alarm(aws, "legacy-5xx"))

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    watcher.join()
    assert attached(aws) == {"legacy-blue"}
    assert in_service(aws, "legacy-blue") == 2
    assert targets(aws) == instances(aws, "legacy-blue")
    assert group(aws, "legacy-green")["DesiredCapacity"] == 0
    latest = history("legacy")[0]
    assert latest["result"] == "rolled-back" and "alarm in ALARM: legacy-5xx" in latest["reason"]


def test_dns_alarm_during_bake_puts_the_weights_back(aws, workdir, capsys):
    path = write_api(workdir)
    seeded(aws.endpoint_url, path)
    watcher = when(lambda: record_weights(aws).get("green", 0) > 0, fire_alarm(aws, "api-5xx"))

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    watcher.join()
    assert record_weights(aws) == {"blue": 100, "green": 0}
    assert service(aws, "api-green")["desiredCount"] == 0
    assert service(aws, "api-blue")["desiredCount"] == 2
    latest = history("api")[0]
    assert latest["result"] == "rolled-back" and "alarm in ALARM: api-5xx" in latest["reason"]
    assert "traffic restored: Route53 api.example.com" in capsys.readouterr().out


def test_asg_failing_http_probe_detaches_green(aws, workdir, failing_server):
    # legacy.yaml lists its checks, so the probe must be listed too (see the report: an unlisted
    # `http` probe is silently ignored).
    path = write_legacy(workdir, health={"http": {"url": failing_server}, "deadline": "2s",
                                         "checks": ["asg-in-service", "target-health", "alarms", "http"]})
    seeded(aws.endpoint_url, path)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    assert attached(aws) == {"legacy-blue"}
    assert group(aws, "legacy-green")["DesiredCapacity"] == 0
    latest = history("legacy")[0]
    assert latest["result"] == "rolled-back" and "answered 500" in latest["reason"]


def test_dns_failing_http_probe_never_moves_the_weights(aws, workdir, failing_server):
    path = write_api(workdir, health={"http": {"url": failing_server}, "deadline": "2s"})
    seeded(aws.endpoint_url, path)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    assert record_weights(aws) == {"blue": 100, "green": 0}
    assert service(aws, "api-green")["desiredCount"] == 0
    latest = history("api")[0]
    assert latest["result"] == "rolled-back" and "answered 500" in latest["reason"]


# --- crash recovery ------------------------------------------------------------------------------------


def test_step_counts_match_the_plans(aws, legacy, api, capsys):
    plans = plan_json(capsys, "deployments/", "--image-tag", "v2")

    for name, count in (("legacy", LEGACY_STEPS), ("api", API_STEPS)):
        ids = [s["id"] for s in plans[name]["steps"]]
        assert [s["kind"] for s in plans[name]["steps"]].index("keep-warm") + 1 == count, ids


@pytest.mark.parametrize("kill_after", range(1, LEGACY_STEPS + 1))
def test_asg_sigkill_after_any_step_then_rollback_leaves_one_group_attached(aws, legacy_on_real_time, kill_after,
                                                                            capsys):
    legacy = legacy_on_real_time
    killed = run_cli("deploy", str(legacy["path"]), "--image-tag", "v2", killer=kill_after)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    # The recovery is a new run, in this process: only the killed deploy has to be a process of its own.
    assert main(["rollback", "legacy"]) == 0, "".join(capsys.readouterr())

    live = attached(aws)
    assert len(live) == 1, live
    (name,) = live
    assert group(aws, name)["DesiredCapacity"] >= 1 and in_service(aws, name) >= 1
    assert targets(aws) == instances(aws, name)
    assert suspended(aws, "legacy-blue") == suspended(aws, "legacy-green") == set()
    assert LocalStore(".bluegreen").read("legacy") is None


@pytest.mark.parametrize("kill_after", range(1, API_STEPS + 1))
def test_dns_sigkill_after_any_step_then_rollback_leaves_the_weights_on_one_color(aws, api_on_real_time, kill_after,
                                                                                   capsys):
    api = api_on_real_time
    killed = run_cli("deploy", str(api["path"]), "--image-tag", "v2", killer=kill_after)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    assert main(["rollback", "api"]) == 0, "".join(capsys.readouterr())  # a new run, in this process

    weights = record_weights(aws)
    assert sorted(weights.values()) == [0, 100]
    live = "blue" if weights["blue"] == 100 else "green"
    running = service(aws, f"api-{live}")
    assert running["desiredCount"] >= 1 and running["runningCount"] >= 1
    assert LocalStore(".bluegreen").read("api") is None


# --- the deployments/ examples -------------------------------------------------------------------------


def test_the_examples_plan_and_deploy_against_seeded_infrastructure(aws, legacy, api, capsys):
    plans = plan_json(capsys, "deployments/", "--image-tag", "v2")

    assert {n: (p["strategy"], p["live_color"], p["target_color"]) for n, p in plans.items()} == {
        "legacy": ("asg-swap", "blue", "green"), "api": ("dns-cutover", "blue", "green")}
    assert all(p["steps"] and not p["errors"] for p in plans.values())

    assert main(["deploy", "deployments/legacy.yaml", "--image-tag", "v2"]) == 0
    assert main(["deploy", "deployments/api.yaml", "--image-tag", "v2"]) == 0

    assert attached(aws) == {"legacy-green"} and record_weights(aws) == {"blue": 0, "green": 100}


# --- DNS specifics ---------------------------------------------------------------------------------------


def test_dns_plan_and_deploy_output_warn_that_resolvers_keep_old_answers(aws, api, capsys):
    capsys.readouterr()
    assert main(["plan", str(api["path"]), "--image-tag", "v2"]) == 0
    text = capsys.readouterr().out
    assert "resolvers may keep answering the old weights for up to the TTL (1s)" in text
    assert "some clients ignore TTLs" in text
    json_warnings = " ".join(plan_json(capsys, str(api["path"]), "--image-tag", "v2")["api"]["warnings"])
    assert "up to the TTL (1s)" in json_warnings and "ignore TTLs" in json_warnings

    assert main(["deploy", str(api["path"]), "--image-tag", "v2"]) == 0
    out = capsys.readouterr().out
    bakes = [line for line in out.splitlines() if "] bake " in line]
    assert bakes and all("resolvers may keep answering the old weights for up to 1s" in line
                         and "some clients ignore TTLs" in line for line in bakes), bakes


def test_blue_is_kept_warm_much_longer_for_dns_than_for_a_group_swap(aws, workdir, capsys):
    # The defaults, with the examples' explicit keep_blue_warm removed.
    legacy = write_legacy(workdir, rollback={"keep_blue_warm": None})
    api = write_api(workdir, rollback={"keep_blue_warm": None})
    seeded(aws.endpoint_url, legacy)
    seeded(aws.endpoint_url, api)

    plans = plan_json(capsys, "deployments/", "--image-tag", "v2")

    keep = {n: next(s["duration"] for s in p["steps"] if s["kind"] == "keep-warm") for n, p in plans.items()}
    assert keep == {"legacy": 900.0, "api": 86400.0}
    assert "blue stays warm for 24h" in " ".join(plans["api"]["warnings"])


def test_status_says_how_long_the_old_dns_answer_may_still_be_served(aws, api, capsys):
    assert main(["deploy", str(api["path"]), "--image-tag", "v2"]) == 0
    capsys.readouterr()

    assert main(["status", "api", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["live_color"] == "green" and data["deployment"]["status"] == "keeping-warm"
    assert "up to the TTL (1s)" in data["dns_note"] and "ignore TTLs" in data["dns_note"]

    assert main(["status", "api"]) == 0
    assert "dns: resolvers may serve the old answer for up to the TTL (1s)" in capsys.readouterr().out


def test_dns_rollback_while_blue_is_warm_is_one_weight_change_back(aws, api, capsys):
    assert main(["deploy", str(api["path"]), "--image-tag", "v2"]) == 0
    capsys.readouterr()

    assert main(["rollback", "api"]) == 0

    assert record_weights(aws) == {"blue": 100, "green": 0}
    assert service(aws, "api-blue")["desiredCount"] == 2 and service(aws, "api-green")["desiredCount"] == 0
    restored = [line for line in capsys.readouterr().out.splitlines() if "traffic restored" in line]
    # one Route53 change straight back, not one per traffic step
    assert len(restored) == 1 and "blue 0% / green 100% -> blue 100% / green 0%" in restored[0]
    assert history("api")[0]["result"] == "rolled-back"


# --- max remaining groups --------------------------------------------------------------------------------


def one_group_kept() -> dict[str, Any]:
    """legacy.yaml's platform with `max_remaining_groups: 1`."""
    asg = yaml.safe_load((REPO / "deployments" / "legacy.yaml").read_text())["platform"]["asg"]
    return {"asg": {**asg, "max_remaining_groups": 1}}


def test_max_remaining_groups_1_deletes_the_old_group_and_the_next_deploy_recreates_it(aws, workdir, capsys):
    path = write_legacy(workdir, platform=one_group_kept())
    seeded(aws.endpoint_url, path)
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0
    time.sleep(1.1)

    assert main(["finalize", "legacy"]) == 0

    names = {g["AutoScalingGroupName"] for g in aws.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]}
    assert names == {"legacy-green"}  # only one group remains

    from bluegreen.local.seed import put_image

    put_image(seeding_aws("us-east-1", aws.endpoint_url), "legacy", "v3")
    plan = plan_json(capsys, str(path), "--image-tag", "v3")["legacy"]
    assert [s["kind"] for s in plan["steps"]][:6] == [
        "check-alarms", "suspend-processes", "create-launch-template-version", "create-group", "suspend-processes",
        "update-group"]

    assert main(["deploy", str(path), "--image-tag", "v3"]) == 0

    blue = group(aws, "legacy-blue")
    assert blue["DesiredCapacity"] == 2 and tg_arn(aws) in blue["TargetGroupARNs"]
    assert tg_arn(aws) not in group(aws, "legacy-green")["TargetGroupARNs"]
    assert blue["SuspendedProcesses"] == []


def test_a_recreated_group_is_deleted_again_when_its_deployment_rolls_back(aws, workdir, failing_server, capsys):
    path = write_legacy(workdir, platform=one_group_kept())
    seeded(aws.endpoint_url, path)
    aws.client("autoscaling").delete_auto_scaling_group(AutoScalingGroupName="legacy-green", ForceDelete=True)
    failing = write_legacy(workdir, platform=one_group_kept(), health={"http": {"url": failing_server}, "deadline": "1s",
                                              "checks": ["asg-in-service", "target-health", "http", "alarms"]})

    assert main(["deploy", str(failing), "--image-tag", "v2"]) == 1

    out = capsys.readouterr().out
    assert "created legacy-green (copy of legacy-blue" in out and "answered 500" in out
    assert "[rollback] done" in out and "deleted legacy-green" in out
    names = {g["AutoScalingGroupName"] for g in aws.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]}
    assert names == {"legacy-blue"}
    assert tg_arn(aws) in group(aws, "legacy-blue")["TargetGroupARNs"]


# --- known bugs outside the strategies (see the report) --------------------------------------------------


def test_after_a_rolled_back_asg_deploy_blue_still_runs_the_old_image(aws, workdir, capsys):
    path = write_legacy(workdir, health={"bake": "3s"})
    env = seeded(aws.endpoint_url, path)
    watcher = when(lambda: "legacy-blue" not in attached(aws), fire_alarm(aws, "legacy-5xx"))
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1
    watcher.join()
    aws.client("cloudwatch").set_alarm_state(AlarmName="legacy-5xx", StateValue="OK", StateReason="test")

    blue_version = group(aws, "legacy-blue")["LaunchTemplate"]["Version"]
    assert env["seed"].image in user_data(aws, "legacy", blue_version)  # what a new blue instance would run
    assert main(["plan", str(path), "--image-tag", "v2", "--detailed-exitcode"]) == 5


def test_the_dns_plan_reports_the_hold_its_bake_steps_use(aws, api, capsys):
    plan = plan_json(capsys, str(api["path"]), "--image-tag", "v2")["api"]

    bakes = {s["id"]: s["duration"] for s in plan["steps"] if s["kind"] == "bake"}
    assert [(t["percent"], t["hold"]) for t in plan["traffic"]] == [(50, bakes["bake-50"]), (100, bakes["bake-100"])]


def test_an_http_probe_left_out_of_the_listed_checks_is_not_silently_ignored(aws, workdir, capsys):
    path = write_legacy(workdir, health={"http": {"url": "http://127.0.0.1:9/health"}})  # checks: no `http`
    seeded(aws.endpoint_url, path)

    plan = plan_json(capsys, str(path), "--image-tag", "v2")["legacy"]

    assert any(s["kind"] == "probe-http" for s in plan["steps"]) or any("http" in w for w in plan["warnings"])


def test_re_running_the_same_asg_deploy_while_blue_is_warm_changes_nothing(aws, workdir, capsys):
    path = write_legacy(workdir, rollback={"keep_blue_warm": "1h"})
    seeded(aws.endpoint_url, path)
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    assert main(["plan", str(path), "--image-tag", "v2", "--detailed-exitcode"]) == 0  # a retried CI job
