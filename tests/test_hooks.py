"""Hooks through the CLI on the realistic emulator (virtual clock): a migration task, a Lambda after
test traffic, a command that times out; and what the plan says about them."""

from __future__ import annotations

import io
import json
import sys
import zipfile

from bluegreen.adapters.aws.session import Aws
from bluegreen.cli.main import main
from bluegreen.local.seed import put_image, seed
from bluegreen.specfiles.loader import load_spec
from bluegreen.state.local import LocalStore

from deploy_helpers import REALISTIC, listener_weights, write_spec

MIGRATE = {"name": "migrate", "kind": "ecs-task", "stage": "before-scale-up", "command": ["./migrate", "up"],
           "timeout": "10m"}


def seeded_web(aws, workdir, *, hooks, **overrides):
    path = write_spec(workdir, "web", timings=REALISTIC, hooks=hooks, **overrides)
    spec = load_spec(path).spec
    session = Aws(spec.region, endpoint_url=aws.endpoint_url)
    seed(session, spec, deregistration_delay=5)
    put_image(session, spec.image.repository, "v2")
    return path


def service(aws, name: str) -> dict:
    return aws.client("ecs").describe_services(cluster="prod", services=[name])["services"][0]


def one_off_tasks(aws) -> list[dict]:
    ecs = aws.client("ecs")
    arns = ecs.list_tasks(cluster="prod", desiredStatus="STOPPED")["taskArns"]
    tasks = ecs.describe_tasks(cluster="prod", tasks=arns)["tasks"] if arns else []
    return [t for t in tasks if t.get("startedBy", "").startswith("bluegreen/")]


def lambda_function(aws, name: str) -> None:
    iam = aws.client("iam")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    aws.client("lambda").create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
                                         Code={"ZipFile": code.getvalue()})


def test_a_migration_task_exiting_non_zero_stops_the_deploy_before_production_traffic_moves(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = seeded_web(realistic_aws, workdir, hooks=[MIGRATE])
    realistic_aws.world.tasks.mark("./migrate up", exit_code=3, runs_for=45)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    out = capsys.readouterr()
    assert listener_weights(realistic_aws.client("elbv2"), "web-alb", 80) == {"web-blue": 100, "web-green": 0}
    assert service(realistic_aws, "web-green")["desiredCount"] == 0  # green was never scaled up
    assert "essential container web exited 3" in out.out
    assert "stopped reason: Essential container in task exited" in out.out
    assert "exited 3" in out.err
    [task] = one_off_tasks(realistic_aws)
    assert task["taskDefinitionArn"].endswith(":2")  # the new revision
    assert task["overrides"]["containerOverrides"][0]["command"] == ["./migrate", "up"]
    assert task["containers"][0]["exitCode"] == 3
    assert LocalStore(".bluegreen").history("web")[0]["result"] == "rolled-back"


def test_a_migration_task_that_succeeds_lets_the_deploy_go_on_and_is_journaled(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = seeded_web(realistic_aws, workdir, hooks=[MIGRATE])

    assert main(["deploy", str(path), "--image-tag", "v2", "--events", "json"]) == 0

    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    statuses = [e["message"].rsplit(" ", 1)[-1] for e in events if e["event"] == "hook.task" and "started" not in e["message"]]
    assert statuses[0] in ("PROVISIONING", "PENDING") and statuses[-1] == "STOPPED" and "RUNNING" in statuses
    started = [e["step"] for e in events if e["event"] == "step.started"]
    assert started.index("hook-migrate") < started.index("deploy-web-green")
    assert listener_weights(realistic_aws.client("elbv2"), "web-alb", 80) == {"web-blue": 0, "web-green": 100}
    deployment = next(e["deployment_id"] for e in events if e["event"] == "deploy.started")
    journal = [(e["event"], e.get("step")) for e in LocalStore(".bluegreen").entries("web", deployment)]
    assert ("step.started", "hook-migrate") in journal and ("step.succeeded", "hook-migrate") in journal
    assert one_off_tasks(realistic_aws)[0]["containers"][0]["exitCode"] == 0


def test_a_lambda_hook_answering_failure_after_test_traffic_rolls_back(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    lambda_function(realistic_aws, "web-smoke")
    realistic_aws.world.functions.answer("web-smoke", {"status": "failed", "reason": "checkout returned 502"})
    path = seeded_web(realistic_aws, workdir, hooks=[
        {"name": "smoke", "kind": "lambda", "stage": "after-test-traffic", "function": "web-smoke", "timeout": "30s"}])

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    out = capsys.readouterr()
    assert "Lambda web-smoke answered failed: checkout returned 502" in out.err
    assert listener_weights(realistic_aws.client("elbv2"), "web-alb", 80) == {"web-blue": 100, "web-green": 0}
    assert "rolling back" in out.out


def test_a_lambda_function_error_fails_the_hook_and_a_plain_answer_passes(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    lambda_function(realistic_aws, "web-check")
    realistic_aws.world.functions.answer("web-check", {"errorMessage": "KeyError: 'db'", "errorType": "KeyError"},
                                         error="Unhandled")
    path = seeded_web(realistic_aws, workdir, hooks=[
        {"name": "check", "kind": "lambda", "stage": "after-healthy", "function": "web-check"}])

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1
    assert "Lambda web-check failed (Unhandled): KeyError: 'db'" in capsys.readouterr().err

    realistic_aws.world.functions.answer("web-check", {"status": "ok", "message": "all good"})
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0
    assert "Lambda web-check answered ok: all good" in capsys.readouterr().out


SLEEPER = [sys.executable, "-c", "import time; print('migrating', flush=True); time.sleep(30)"]


def test_a_command_hook_that_times_out_with_on_timeout_fail_rolls_back(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = seeded_web(realistic_aws, workdir, hooks=[
        {"name": "slow", "kind": "command", "stage": "before-production-step", "command": SLEEPER,
         "timeout": "300ms", "on_timeout": "fail"}])

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    out = capsys.readouterr()
    assert "hook slow timed out after 300ms" in out.err
    assert "slow | migrating" in out.out
    assert listener_weights(realistic_aws.client("elbv2"), "web-alb", 80) == {"web-blue": 100, "web-green": 0}


def test_a_command_hook_that_times_out_with_on_timeout_continue_carries_on(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = seeded_web(realistic_aws, workdir, shift={"mode": "canary", "percentages": [50, 100]}, hooks=[
        {"name": "slow", "kind": "command", "stage": "after-shift", "command": SLEEPER,
         "timeout": "300ms", "on_timeout": "continue"}])

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    out = capsys.readouterr().out
    assert "hook slow timed out after 300ms" in out and "carries on" in out
    assert listener_weights(realistic_aws.client("elbv2"), "web-alb", 80) == {"web-blue": 0, "web-green": 100}


def test_a_command_hook_gets_the_facts_and_its_secret_output_is_masked(
        realistic_aws, workdir, product_on_virtual_clock, capsys, monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "hunter2-very-secret")
    script = ("import os; print(os.environ['BLUEGREEN_SERVICE'], os.environ['BLUEGREEN_STAGE'], "
              "os.environ['BLUEGREEN_TARGET_COLOR'], os.environ['BLUEGREEN_TRAFFIC_PERCENT']); "
              "print('password is', os.environ['DB_PASSWORD']); print('API_TOKEN=' + 'abc' + '123xyz')")
    path = seeded_web(realistic_aws, workdir, hooks=[
        {"name": "facts", "kind": "command", "stage": "before-production-step", "command": [sys.executable, "-c", script]}])

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    out = capsys.readouterr().out
    assert "facts | web before-production-step green 100" in out
    assert "facts | password is ****" in out and "facts | API_TOKEN=****" in out
    assert "hunter2" not in out and "abc123xyz" not in out


# --- the spec and the plan ---------------------------------------------------------------------------


def test_the_hooks_example_validates_and_matches_the_json_schema(capsys):
    import jsonschema
    import yaml

    from bluegreen.specfiles.schema import spec_schema
    from deploy_helpers import REPO

    example = REPO / "deployments" / "hooks" / "shop.yaml"
    assert main(["validate", str(example)]) == 0
    jsonschema.Draft202012Validator(spec_schema()).validate(yaml.safe_load(example.read_text()))
    kinds = {h["kind"] for h in yaml.safe_load(example.read_text())["hooks"]}
    assert kinds == {"command", "lambda", "ecs-task"}


def test_a_hook_spec_error_names_file_line_and_field(workdir, capsys):
    path = write_spec(workdir, "legacy", hooks=[
        {"name": "m", "kind": "ecs-task", "stage": "before-scale-up", "command": ["./migrate"]},
        {"name": "m", "kind": "command", "stage": "after-shift", "command": ["./x"], "timeout": "1m"}])

    assert main(["validate", str(path)]) == 2

    err = capsys.readouterr().err
    assert "legacy.yaml:" in err and "hooks[0].kind: an ecs-task hook runs the new task definition" in err
    assert "hooks[1].name: hook m is listed twice" in err


def test_the_plan_shows_each_hook_as_a_step_with_its_timeout(realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = seeded_web(realistic_aws, workdir, hooks=[MIGRATE, {
        "name": "smoke", "kind": "lambda", "stage": "after-test-traffic", "function": "web-smoke", "timeout": "30s",
        "on_timeout": "continue"}])

    assert main(["plan", str(path), "--image-tag", "v2"]) == 0

    out = capsys.readouterr().out
    assert ("[prepare] hook migrate (before the new version is scaled up): one-off ECS task of the new revision in "
            "prod (web: `./migrate up`), timeout 10m, on timeout fail") in out
    assert "[rollout] hook smoke (after test traffic): Lambda web-smoke, timeout 30s, on timeout continue" in out
