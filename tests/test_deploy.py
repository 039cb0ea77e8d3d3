"""Deployments through the CLI against the emulator: the happy paths, every way to fail, and recovery."""

from __future__ import annotations

import os

import signal
import threading
import time

import pytest

from bluegreen.cli.main import main
from bluegreen.state.local import LocalStore

from deploy_helpers import (REALISTIC, deploy_until_step_starts, json_events, listener_weights, recorded_calls,
                            run_cli, seeded, seeding_aws, write_spec)


def service(aws, name: str, cluster: str = "prod") -> dict:
    return aws.client("ecs").describe_services(cluster=cluster, services=[name])["services"][0]


def container_image(aws, task_definition: str, container: str) -> str:
    td = aws.client("ecs").describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    return next(c["image"] for c in td["containerDefinitions"] if c["name"] == container)


def history(service_name: str) -> list[dict]:
    return LocalStore(".bluegreen").history(service_name)


def web_weights(aws) -> dict[str, int]:
    return listener_weights(aws.client("elbv2"), "web-alb", 80)


@pytest.fixture
def clock(product_on_virtual_clock):
    """The realistic emulator (tasks start, targets pass health checks, blue drains) and the CLI
    in this process on one virtual clock: a deploy at AWS's pace costs milliseconds of real time.
    Tests that run the CLI in a subprocess (signals, kill -9, a second process) stay on real time."""
    return product_on_virtual_clock


@pytest.fixture
def web(aws, workdir, clock):
    path = write_spec(workdir, "web", timings=REALISTIC)
    return seeded(aws.endpoint_url, path) | {"path": path}


# --- happy paths -----------------------------------------------------------------------------


def test_target_group_swap_moves_all_traffic_to_green_with_the_new_digest(aws, web, capsys):
    assert main(["deploy", str(web["path"]), "--image-tag", "v2"]) == 0

    assert web_weights(aws) == {"web-blue": 0, "web-green": 100}
    green = service(aws, "web-green")
    pinned = f"{web['seed'].repository_uri}@{web['v2']}"
    assert container_image(aws, green["taskDefinition"], "web") == pinned
    assert green["desiredCount"] == 2
    assert history("web")[0]["result"] == "succeeded" and history("web")[0]["image"] == pinned
    out = capsys.readouterr().out
    assert "traffic switched" in out


def test_blue_is_scaled_down_once_keep_warm_has_passed(aws, web, clock):
    assert main(["deploy", str(web["path"]), "--image-tag", "v2"]) == 0
    assert service(aws, "web-blue")["desiredCount"] == 2  # still warm

    clock.sleep(2)  # keep_blue_warm is 1s in these specs
    assert main(["finalize", "web"]) == 0

    assert service(aws, "web-blue")["desiredCount"] == 0
    assert LocalStore(".bluegreen").current("web")["status"] == "succeeded"


def test_finalize_before_the_keep_warm_deadline_changes_nothing(aws, workdir, clock):
    path = write_spec(workdir, "web", timings=REALISTIC, rollback={"keep_blue_warm": "1h"})
    seeded(aws.endpoint_url, path)
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    assert main(["finalize", "web"]) == 0

    assert service(aws, "web-blue")["desiredCount"] == 2


def test_the_next_deployment_goes_to_the_other_color(aws, web):
    assert main(["deploy", str(web["path"]), "--image-tag", "v2"]) == 0
    from bluegreen.local.seed import put_image

    put_image(seeding_aws("us-east-1", aws.endpoint_url), "web", "v3")

    assert main(["deploy", str(web["path"]), "--image-tag", "v3"]) == 0

    assert web_weights(aws) == {"web-blue": 100, "web-green": 0}
    assert container_image(aws, service(aws, "web-blue")["taskDefinition"], "web").endswith(
        aws.client("ecr").describe_images(repositoryName="web", imageIds=[{"imageTag": "v3"}])["imageDetails"][0]["imageDigest"])


def test_task_definition_swap_runs_the_new_revision(aws, workdir, clock):
    path = write_spec(workdir, "worker", timings=REALISTIC)
    env = seeded(aws.endpoint_url, path)
    before = service(aws, "worker")["taskDefinition"]

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    after = service(aws, "worker")["taskDefinition"]
    assert after != before
    assert container_image(aws, after, "worker") == f"{env['seed'].repository_uri}@{env['v2']}"
    assert history("worker")[0]["result"] == "succeeded"


def test_a_uid_with_no_passwd_entry_and_no_user_variable_deploys_and_is_recorded_by_uid(aws, workdir, clock,
                                                                                        monkeypatch):
    """As in many CI containers: `docker run --user 12345` with no USER, LOGNAME or passwd entry."""
    import os
    import pwd

    path = write_spec(workdir, "worker", timings=REALISTIC)
    seeded(aws.endpoint_url, path)
    for name in ("BUILD_USER_ID", "USER", "LOGNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)

    def no_entry(uid: int):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    record = history("worker")[0]
    assert record["result"] == "succeeded"
    assert record["who"].startswith(f"uid{os.getuid()}")


def test_new_revision_keeps_every_field_of_the_live_one(aws, web):
    ecs = aws.client("ecs")
    old_arn = service(aws, "web-blue")["taskDefinition"]

    assert main(["deploy", str(web["path"]), "--image-tag", "v2"]) == 0

    new_arn = service(aws, "web-green")["taskDefinition"]
    old = ecs.describe_task_definition(taskDefinition=old_arn, include=["TAGS"])
    new = ecs.describe_task_definition(taskDefinition=new_arn, include=["TAGS"])
    ignore = {"taskDefinitionArn", "revision", "registeredAt", "registeredBy", "status"}
    old_body = {k: v for k, v in old["taskDefinition"].items() if k not in ignore}
    new_body = {k: v for k, v in new["taskDefinition"].items() if k not in ignore}
    old_web = next(c for c in old_body.pop("containerDefinitions") if c["name"] == "web")
    new_web = next(c for c in new_body.pop("containerDefinitions") if c["name"] == "web")
    assert new_body == old_body  # roles, volumes, network mode, cpu/memory, ...
    assert new["tags"] == old["tags"]
    changed = {k for k in set(old_web) | set(new_web) if old_web.get(k) != new_web.get(k)}
    assert changed == {"image"}  # the spec's LOG_LEVEL matches the live one: only the image changes
    assert old_web["secrets"] == new_web["secrets"] and old_web["logConfiguration"] == new_web["logConfiguration"]


def test_the_next_deploy_from_this_machine_reads_no_task_definition_and_copies_every_field(aws, workdir, clock,
                                                                                         monkeypatch):
    """The revision a deploy registered is kept from RegisterTaskDefinition's answer (revisions never
    change): the next deploy copies it without DescribeTaskDefinition, and loses nothing, tags included;
    its tasks run (the realistic emulator starts them), so its roles are not read either."""
    from bluegreen.local.seed import put_image

    monkeypatch.setenv("BLUEGREEN_CACHE_DIR", str(workdir / "cache"))
    path = write_spec(workdir, "worker", timings=REALISTIC)
    env = seeded(aws.endpoint_url, path)
    v3 = put_image(seeding_aws(env["spec"].region, aws.endpoint_url), "worker", "v3")
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0
    second = service(aws, "worker")["taskDefinition"]
    calls = recorded_calls(monkeypatch)

    assert main(["deploy", str(path), "--image-tag", "v3"]) == 0

    assert [a for s, _, a in calls if s == "ecs" and a == "DescribeTaskDefinition"] == []
    assert [a for s, _, a in calls if s == "iam"] == []  # the revision's tasks run: its roles are proven
    third = service(aws, "worker")["taskDefinition"]
    assert third != second and container_image(aws, third, "worker") == f"{env['seed'].repository_uri}@{v3}"
    ecs, ignore = aws.client("ecs"), {"taskDefinitionArn", "revision", "registeredAt", "registeredBy"}
    old, new = (ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"]) for arn in (second, third))
    assert new["tags"] == old["tags"] != []
    bodies = [{k: v for k, v in d["taskDefinition"].items() if k not in ignore} for d in (old, new)]
    for body in bodies:
        for container in body["containerDefinitions"]:
            container.pop("image")
    assert bodies[0] == bodies[1]


# --- failures roll back -------------------------------------------------------------------------


def test_alarm_firing_during_bake_restores_blue(aws, workdir, placer):
    path = write_spec(workdir, "web", health={"bake": "3s"})
    seeded(aws.endpoint_url, path)
    cloudwatch = aws.client("cloudwatch")

    def fire_when_green_gets_traffic():
        deadline = time.time() + 30
        while time.time() < deadline:
            if web_weights(aws)["web-green"] > 0:
                cloudwatch.set_alarm_state(AlarmName="web-5xx-rate", StateValue="ALARM", StateReason="test")
                return
            time.sleep(0.1)  # two requests per look, inside a 3s bake

    trigger = threading.Thread(target=fire_when_green_gets_traffic, daemon=True)
    trigger.start()

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    trigger.join()
    assert web_weights(aws) == {"web-blue": 100, "web-green": 0}
    assert service(aws, "web-green")["desiredCount"] == 0
    latest = history("web")[0]
    assert latest["result"] == "rolled-back" and "web-5xx-rate" in latest["reason"]


def test_failing_http_probe_restores_blue(aws, workdir, placer, failing_server, capsys):
    path = write_spec(workdir, "web", health={"http": {"url": failing_server}, "deadline": "2s"})
    seeded(aws.endpoint_url, path)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    assert web_weights(aws) == {"web-blue": 100, "web-green": 0}
    assert listener_weights(aws.client("elbv2"), "web-alb", 8080) == {"web-blue": 100, "web-green": 0}
    assert service(aws, "web-green")["desiredCount"] == 0
    assert "answered 500" in history("web")[0]["reason"]


def test_health_deadline_running_out_restores_blue_and_says_what_was_unhealthy(aws, workdir):
    # No task placer: green's tasks never become targets, as when they crash on start.
    path = write_spec(workdir, "web", health={"deadline": "1s"})
    seeded(aws.endpoint_url, path)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    assert web_weights(aws) == {"web-blue": 100, "web-green": 0}
    reason = history("web")[0]["reason"]
    assert "not healthy after 1s" in reason and "web-green: 0/2 healthy" in reason


def test_alarm_already_firing_refuses_to_start(aws, web, capsys):
    aws.client("cloudwatch").set_alarm_state(AlarmName="web-p99-latency", StateValue="ALARM", StateReason="test")

    assert main(["deploy", str(web["path"]), "--image-tag", "v2"]) == 2

    assert "web-p99-latency" in capsys.readouterr().err
    assert service(aws, "web-green")["desiredCount"] == 0


def test_sigterm_during_bake_rolls_back_like_a_jenkins_abort(aws, workdir, placer):
    path = write_spec(workdir, "web", health={"bake": "30s"})
    seeded(aws.endpoint_url, path)
    process = deploy_until_step_starts(path, "bake-10")
    process.send_signal(signal.SIGTERM)
    rest = process.communicate(timeout=60)[0]

    assert process.returncode == 1
    assert web_weights(aws) == {"web-blue": 100, "web-green": 0}
    assert any(e["event"] == "traffic.restored" for e in json_events(rest))


# --- crash recovery ---------------------------------------------------------------------------

WEB_STEPS = 14  # steps a deploy runs before it exits to keep blue warm (see test_planner)
# One kill in each phase of those steps (pre-flight, prepare, rollout, shift, bake, verify, the
# last one); bench/crash_matrix.py kills at uniformly random moments of every strategy, 120 times.
KILL_POINTS = (1, 3, 6, 9, 12, WEB_STEPS)


@pytest.mark.parametrize("kill_after", KILL_POINTS)
def test_sigkill_after_any_step_then_rollback_leaves_traffic_on_one_healthy_color(aws, workdir, placer, kill_after,
                                                                                  capsys):
    path = write_spec(workdir, "web")
    seeded(aws.endpoint_url, path)

    killed = run_cli("deploy", str(path), "--image-tag", "v2", killer=kill_after)
    assert killed.returncode == -signal.SIGKILL

    # The recovery is a new run, in this process: only the killed deploy has to be a process of its own.
    assert main(["rollback", "web"]) == 0, capsys.readouterr().err

    weights = web_weights(aws)
    assert sorted(weights.values()) == [0, 100]
    live = "web-blue" if weights["web-blue"] == 100 else "web-green"
    assert service(aws, live)["desiredCount"] >= 1 and service(aws, live)["runningCount"] >= 1
    assert listener_weights(aws.client("elbv2"), "web-alb", 8080)[live] == 100 or live == "web-green"
    assert LocalStore(".bluegreen").read("web") is None


@pytest.mark.parametrize("kill_after", [3, 8])
def test_resume_after_sigkill_finishes_the_deployment(aws, workdir, placer, kill_after, capsys):
    path = write_spec(workdir, "web")
    seeded(aws.endpoint_url, path)
    assert run_cli("deploy", str(path), "--image-tag", "v2", killer=kill_after).returncode == -signal.SIGKILL

    resumed = main(["resume", "web"])  # a new run, in this process

    assert resumed == 0, capsys.readouterr().err
    assert web_weights(aws) == {"web-blue": 0, "web-green": 100}
    assert LocalStore(".bluegreen").read("web") is None


# --- one deployment at a time ---------------------------------------------------------------------


def test_a_second_deployment_exits_4_naming_the_holder_and_changes_nothing(aws, workdir, placer, capsys):
    path = write_spec(workdir, "web", health={"bake": "2s"})
    seeded(aws.endpoint_url, path)
    first = deploy_until_step_starts(path, "bake-10")
    weights_before = web_weights(aws)

    second = main(["deploy", str(path), "--image-tag", "v2"])
    err = capsys.readouterr().err

    assert second == 4
    assert "locked by" in err and "since" in err and f"pid {first.pid}" in err
    assert web_weights(aws) == weights_before
    first.communicate(timeout=60)
    assert first.returncode == 0
    assert [h["result"] for h in history("web")] == ["succeeded"]


# --- pause, promote, abort -------------------------------------------------------------------------


def test_pause_before_shift_then_promote_completes(aws, web):
    assert main(["deploy", str(web["path"]), "--image-tag", "v2", "--pause-before-shift"]) == 0
    assert web_weights(aws) == {"web-blue": 100, "web-green": 0}
    assert service(aws, "web-green")["desiredCount"] == 2  # green is up, waiting

    assert main(["promote", "web"]) == 0

    assert web_weights(aws) == {"web-blue": 0, "web-green": 100}


def test_pause_before_shift_then_abort_restores_blue(aws, web):
    assert main(["deploy", str(web["path"]), "--image-tag", "v2", "--pause-before-shift"]) == 0

    assert main(["abort", "web"]) == 0

    assert web_weights(aws) == {"web-blue": 100, "web-green": 0}
    assert service(aws, "web-green")["desiredCount"] == 0
    assert LocalStore(".bluegreen").current("web")["status"] == "rolled-back"


def test_a_paused_deployment_blocks_a_new_one(aws, web, capsys):
    assert main(["deploy", str(web["path"]), "--image-tag", "v2", "--pause-before-shift"]) == 0

    assert main(["deploy", str(web["path"]), "--image-tag", "v2"]) == 4
    assert "paused" in capsys.readouterr().err


# --- status, history, events -------------------------------------------------------------------------


def test_status_reports_live_color_weights_and_the_deployment(aws, web, capsys):
    assert main(["deploy", str(web["path"]), "--image-tag", "v2"]) == 0
    capsys.readouterr()

    assert main(["status", "web", "--format", "json"]) == 0

    import json

    data = json.loads(capsys.readouterr().out)
    assert data["live_color"] == "green"
    assert data["deployment"]["status"] == "keeping-warm"
    assert any("green 100%" in line for line in data["state"])


def test_json_events_are_one_object_per_line_with_traffic_switched_and_drained_apart(aws, web, capsys):
    assert main(["deploy", str(web["path"]), "--image-tag", "v2", "--events", "json", "--wait-finalize"]) == 0

    events = json_events(capsys.readouterr().out)
    names = [e["event"] for e in events]
    assert names.index("traffic.switched") < names.index("drain.done")
    assert "drain.countdown" in names
    assert all({"time", "elapsed", "event", "message"} <= set(e) for e in events)


def test_a_team_can_keep_locks_journal_and_history_in_dynamodb(aws, workdir, clock):
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.adapters.aws.dynamo_store import DynamoStore, ensure_table

    path = write_spec(workdir, "web", timings=REALISTIC, state={"backend": "dynamodb", "table": "bluegreen-state"})
    seeded(aws.endpoint_url, path)
    dynamo = Aws("us-east-1", endpoint_url=aws.endpoint_url)
    ensure_table(dynamo, "bluegreen-state")

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    store = DynamoStore(dynamo, "bluegreen-state")
    assert store.history("web")[0]["result"] == "succeeded"
    deployment = store.current("web")
    assert deployment["status"] == "keeping-warm"
    events = [e["event"] for e in store.entries("web", deployment["id"])]
    assert events.count("step.started") == events.count("step.succeeded") == 14
    assert store.read("web") is None and not (workdir / ".bluegreen" / "locks").exists()


# --- saved plans and stale locks ---------------------------------------------------------------------


def test_a_saved_plan_is_applied_as_it_was_made(aws, web, capsys):
    assert main(["plan", str(web["path"]), "--image-tag", "v2", "--out", "plan.json"]) == 0

    assert main(["deploy", str(web["path"]), "--image-tag", "v2", "--plan-file", "plan.json"]) == 0

    assert web_weights(aws) == {"web-blue": 0, "web-green": 100}


def test_a_saved_plan_is_refused_when_live_state_drifted_and_nothing_changes(aws, web, capsys):
    assert main(["plan", str(web["path"]), "--image-tag", "v2", "--out", "plan.json"]) == 0
    aws.client("ecs").update_service(cluster="prod", service="web-blue", desiredCount=3)  # someone scaled blue

    assert main(["deploy", str(web["path"]), "--image-tag", "v2", "--plan-file", "plan.json"]) == 2

    err = capsys.readouterr().err
    assert "live state changed since the plan was made" in err and "ecs service web-blue" in err
    assert "desired=2 -> " in err and "desired=3" in err
    assert service(aws, "web-green")["desiredCount"] == 0


def test_a_stale_lock_from_another_machine_blocks_until_unlock_force(aws, web, capsys):
    from bluegreen.app.context import identity_from
    from bluegreen.state.store import LockInfo

    store = LocalStore(".bluegreen")
    stale = LockInfo.create("web", "web-old", "deploy", identity_from(os.environ))
    stale = LockInfo(**{**stale.__dict__, "host": "agent-7", "holder": "jenkins@agent-7", "pid": 4242})
    store.acquire(stale, lease_seconds=3600)

    assert main(["deploy", str(web["path"]), "--image-tag", "v2"]) == 4
    assert "jenkins@agent-7" in capsys.readouterr().err

    assert main(["unlock", "web", "--force"]) == 0
    assert "lock broken: deploy web-old by jenkins@agent-7" in capsys.readouterr().out
    assert main(["deploy", str(web["path"]), "--image-tag", "v2"]) == 0


def test_rollback_after_blue_was_scaled_down_redeploys_the_previous_good_image(aws, web, clock):
    from bluegreen.local.seed import put_image

    put_image(seeding_aws("us-east-1", aws.endpoint_url), "web", "v3")
    assert main(["deploy", str(web["path"]), "--image-tag", "v2"]) == 0
    assert main(["deploy", str(web["path"]), "--image-tag", "v3"]) == 0  # blue now runs v3
    clock.sleep(2)
    assert main(["finalize", "web"]) == 0  # green (v2) scaled down: not warm any more

    assert main(["rollback", "web"]) == 0

    v2 = f"{web['seed'].repository_uri}@{web['v2']}"
    assert web_weights(aws) == {"web-blue": 0, "web-green": 100}
    assert container_image(aws, service(aws, "web-green")["taskDefinition"], "web") == v2


def test_rollback_to_a_digest_from_history(aws, web, clock):
    assert main(["deploy", str(web["path"]), "--image-tag", "v2"]) == 0
    clock.sleep(2)
    assert main(["finalize", "web"]) == 0
    v1_digest = aws.client("ecr").describe_images(repositoryName="web", imageIds=[{"imageTag": "v1"}])["imageDetails"][0]["imageDigest"]

    assert main(["rollback", "web", "--to", v1_digest]) == 0

    assert web_weights(aws) == {"web-blue": 100, "web-green": 0}
    assert container_image(aws, service(aws, "web-blue")["taskDefinition"], "web").endswith(v1_digest)


def test_deploy_build_runs_the_digest_the_registry_holds(aws, workdir, placer, busybox_context, registry, docker_engine):
    import json
    import shutil
    import urllib.request

    context = workdir / "image"
    shutil.copytree(busybox_context, context)
    (context / "index.html").write_text(f"<h1>{workdir.name}</h1>\n")  # a unique image each run
    path = write_spec(workdir, "web")
    seeded(aws.endpoint_url, path)
    path = write_spec(workdir, "web", image={"repository": "web", "build": {"context": str(context)}})

    assert main(["deploy", str(path), "--image-tag", "built-1", "--build", "--registry", registry]) == 0

    request = urllib.request.Request(f"http://{registry}/v2/web/manifests/built-1", headers={"Accept": ", ".join([
        "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"])})
    with urllib.request.urlopen(request, timeout=10) as response:
        registry_digest = response.headers["Docker-Content-Digest"]
        json.load(response)
    ecr_digest = aws.client("ecr").describe_images(repositoryName="web", imageIds=[{"imageTag": "built-1"}])[
        "imageDetails"][0]["imageDigest"]
    deployed = container_image(aws, service(aws, "web-green")["taskDefinition"], "web")
    assert registry_digest == ecr_digest and deployed.endswith(f"/web@{registry_digest}")
    assert web_weights(aws) == {"web-blue": 0, "web-green": 100}
