"""The Jenkinsfile, exercised as far as possible without Jenkins (see pipeline_helpers for how).

Every `bluegreen` line runs against the emulator, in the pipeline's order, with the spec keeping its state
in DynamoDB as the README's "In CI" block says:

- the approved path: plan (exit 5 is "changes pending", a success) -> build (real Docker engine, pushed to
  the loopback registry; skipped only when Docker is unreachable and BLUEGREEN_REQUIRE_DOCKER is not 1) ->
  deploy --pause-before-shift --events json -> status (what tells the pipeline it is paused) -> promote;
- a later failure, a rejected approval: `post`'s settle puts blue back;
- a stopped deploy: settle waits for bluegreen's own rollback instead of killing it, and takes over a
  rollback whose process was killed (exit 137);
- locked out (exit 4), and a second build in another workspace while one is paused: nothing is undone.

Groovy itself cannot run here; its decisions are checked against the exit codes the commands return.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import uuid
from typing import Any

import pytest
import yaml

from bluegreen.adapters.aws.dynamo_store import DynamoStore, ensure_table
from bluegreen.adapters.aws.session import Aws
from bluegreen.app.context import identity_from
from bluegreen.cli.main import main
from bluegreen.local.seed import put_image
from bluegreen.state.store import LockInfo

from deploy_helpers import REPO, json_events, listener_weights, run_cli, seeded, seeding_aws, write_spec
from pipeline_helpers import (
    JENKINSFILE, RUN_URL, bash, install_ci_script, jenkins_commands, jenkins_scripts, readme_state_block, section,
    settle, settle_env, tool_path,
)

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_ROLLBACK_INCOMPLETE, EXIT_LOCKED, EXIT_CHANGES = 0, 1, 2, 3, 4, 5
STATE = readme_state_block()

# Runs the real CLI, but every rollback waits for the file $ROLLBACK_GATE: the test holds the rollback
# (and so the lock) until settle has shown that it waits for it.
GATED_ROLLBACK = """
import os, sys, time
import bluegreen.execution.executor as executor
original = executor.Executor.roll_back
def roll_back(self, *args, **kwargs):
    deadline = time.monotonic() + 60
    while not os.path.exists(os.environ["ROLLBACK_GATE"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return original(self, *args, **kwargs)
executor.Executor.roll_back = roll_back
from bluegreen.cli.main import run
sys.argv = ["bluegreen"] + sys.argv[1:]
run()
"""


def run(capsys, command, variables: dict[str, str], *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(command.argv(variables) + list(extra))
    out, err = capsys.readouterr()
    return code, out, err


def by_stage() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for command in jenkins_commands(JENKINSFILE.read_text()):
        found.setdefault(f"{command.where}:{command.subcommand}", command)
    return found


def web_weights(aws) -> dict[str, int]:
    return listener_weights(aws.client("elbv2"), "web-alb", 80)


def ecs_desired(aws, name: str) -> int:
    return aws.client("ecs").describe_services(cluster="prod", services=[name])["services"][0]["desiredCount"]


def store(aws) -> DynamoStore:
    return DynamoStore(Aws("us-east-1", endpoint_url=aws.endpoint_url), STATE["table"])


def docker_registry(request) -> str | None:
    """The registry to push to when Docker can build here; None (build skipped) only when not required."""
    try:
        request.getfixturevalue("docker_engine")
        registry = request.getfixturevalue("registry")
        request.getfixturevalue("busybox_context")
    except pytest.skip.Exception:  # conftest fails instead of skipping when BLUEGREEN_REQUIRE_DOCKER=1
        return None
    return registry


def write_shared_spec(aws, workdir, **overrides: Any):
    """deployments/web.yaml with the README's DynamoDB state block (and the table); this process is build 42."""
    path = write_spec(workdir, "web", state=STATE, **overrides)
    ensure_table(seeding_aws("us-east-1", aws.endpoint_url), STATE["table"])
    install_ci_script(workdir)
    return path


@pytest.fixture
def shared_state(aws, workdir, monkeypatch):
    """The web spec keeping its state in DynamoDB, seeded."""
    monkeypatch.setenv("BUILD_URL", RUN_URL)
    path = write_shared_spec(aws, workdir)
    seeded(aws.endpoint_url, path)
    return path


@pytest.fixture
def pipeline(request, aws, workdir, placer, monkeypatch):
    """The shared-state spec with the example's image section (built from busybox), seeded, plus variables."""
    monkeypatch.setenv("BUILD_URL", RUN_URL)
    repository = f"bgtest/pipeline-{uuid.uuid4().hex[:10]}"
    registry = docker_registry(request)
    image = yaml.safe_load((REPO / "deployments" / "web.yaml").read_text())["image"] | {
        "repository": repository, "build": {"context": "../busybox-context"}}
    path = write_shared_spec(aws, workdir, image=image)
    if registry:
        (workdir / "busybox-context" / "index.html").write_text(f"<h1>{repository}</h1>\n")
    seeded(aws.endpoint_url, path)
    commit = uuid.uuid4().hex + uuid.uuid4().hex[:8]  # 40 hex digits, like $GIT_COMMIT
    variables = {"GIT_COMMIT": commit, "SPEC": "deployments/web.yaml", "SERVICE": "web"}
    yield {"aws": aws, "registry": registry, "repository": repository, "commit": commit, "variables": variables,
           "commands": by_stage(), "workdir": workdir}
    if registry:
        import docker.errors

        engine = request.getfixturevalue("docker_engine")
        try:
            engine.images.remove(f"{registry}/{repository}:{commit}")
        except docker.errors.ImageNotFound:
            pass


def plan_build_deploy(capsys, p: dict[str, Any]) -> None:
    """The Jenkinsfile's stages up to the approval: check-state, plan, build, deploy (paused), status."""
    commands, variables = p["commands"], p["variables"]
    checked = bash("ci/bluegreen-ci.sh check-state", p["workdir"],
                   {"SPEC": variables["SPEC"], "PATH": tool_path(p["workdir"] / ".tools")})
    assert checked.returncode == 0, checked.stderr
    assert "shared by every build" in checked.stdout

    code, out, _ = run(capsys, commands["plan:plan"], variables)
    assert code == EXIT_OK, out  # the spec matches what runs; the new image is planned by deploy
    assert "ecs-target-group-swap" in out and "live color: blue" in out

    build = commands["build:build"]
    if p["registry"]:
        code, out, err = run(capsys, build, variables, "--registry", p["registry"])
        assert code == EXIT_OK, err
        pinned = out.strip().splitlines()[-1]
        assert re.fullmatch(rf"\S+/{re.escape(p['repository'])}@sha256:[0-9a-f]{{64}}", pinned), pinned
    else:  # Docker unreachable and not required: ECR gets the tag without a build
        put_image(Aws("us-east-1", endpoint_url=p["aws"].endpoint_url), p["repository"], p["commit"])

    code, out, err = run(capsys, commands["deploy:deploy"], variables)
    assert code == EXIT_OK, err
    events = json_events(out)
    assert events and all(line.startswith("{") for line in out.splitlines() if line.strip())  # --events json
    assert "deploy.paused" in [e["event"] for e in events]
    assert web_weights(p["aws"]) == {"web-blue": 100, "web-green": 0}
    assert ecs_desired(p["aws"], "web-green") == 2

    code, out, _ = run(capsys, commands["deploy:status"], variables)
    assert code == EXIT_OK
    assert '"status": "paused"' in out  # exactly what the deploy stage looks for to enable approve/promote


# --- the Jenkinsfile's shape ---------------------------------------------------------------------------------


def test_jenkinsfile_runs_every_bluegreen_command_in_stage_order_with_the_tools_image_by_digest():
    text = JENKINSFILE.read_text()
    commands = jenkins_commands(text)

    assert [f"{c.where}:{c.subcommand}" for c in commands] == [
        "plan:plan", "build:build", "deploy:deploy", "deploy:status", "promote:promote"]
    assert [c.position for c in commands] == sorted(c.position for c in commands)
    assert text.count("{") == text.count("}")
    by = by_stage()
    for name in ("build:build", "deploy:deploy"):
        assert '--image-tag "$GIT_COMMIT"' in by[name].line
    assert "--image-tag" not in by["plan:plan"].line  # the commit's image is not in ECR before the build
    assert {"--pause-before-shift", "--events", "json"} <= set(shlex.split(by["deploy:deploy"].line))
    assert "--detailed-exitcode" in by["plan:plan"].line
    # the tool's own image, by digest only, with its ENTRYPOINT cleared (Jenkins runs `cat` in it)
    assert "docker.image(env.BLUEGREEN_IMAGE).inside(\"--entrypoint= " in text
    assert 'ENTRYPOINT ["bluegreen"]' in (REPO / "Dockerfile").read_text()
    assert "env.BLUEGREEN_IMAGE ==~ /[^\\s@]+@sha256:[0-9a-f]{64}/" in text and ":latest" not in text
    stages = re.findall(r"stage\('(\w+)'\)", text)
    assert stages == ["check", "plan", "release", "build", "deploy", "approve", "promote"]


def test_jenkinsfile_holds_one_lock_per_service_and_no_executor_while_it_waits_for_a_submitter():
    text = JENKINSFILE.read_text()
    release = section(text, "stage('release')")
    approve = section(text, "stage('approve')")

    assert re.search(r"^\s*agent none", text, re.M)
    assert "lock(resource: \"bluegreen-${params.SERVICE}\")" in release  # build .. promote, approval included
    assert "when { beforeOptions true; branch 'main' }" in release  # other branches: plan only, no lock
    assert release.index("milestone(ordinal: 1") > release.index("lock(")  # ordering inside the lock
    assert "input {" in approve and "submitter \"bluegreen-approvers-${params.SERVICE}\"" in approve
    assert "timeout(time: 30, unit: 'MINUTES')" in approve and "beforeInput true" in approve
    assert "withBluegreen" not in approve and "node(" not in approve  # no executor held while waiting
    # credentials per stage, per service: plan read-only; only build has the Docker socket
    env = section(text, "environment {")
    for purpose in ("plan", "build", "deploy"):
        assert f'{purpose.upper()}_CREDENTIALS = "bluegreen-{purpose}-${{params.SERVICE}}"' in env
    assert "withBluegreen(env.PLAN_CREDENTIALS)" in section(text, "stage('plan')")
    assert "withBluegreen(env.BUILD_CREDENTIALS, '-v /var/run/docker.sock" in section(text, "stage('build')")
    for stage in ("deploy", "promote"):
        assert "withBluegreen(env.DEPLOY_CREDENTIALS)" in section(text, f"stage('{stage}')")
    assert text.count("-v /var/run/docker.sock") == 1
    # the spec must share its state: checked before anything else touches AWS
    assert [s for w, s, _ in jenkins_scripts(text) if "check-state" in s] == ["ci/bluegreen-ci.sh check-state"]


def test_jenkinsfile_decisions_follow_the_exit_code_table_and_treat_any_other_code_as_unknown():
    text = JENKINSFILE.read_text()
    plan, deploy, promote = (section(text, f"stage('{s}')") for s in ("plan", "deploy", "promote"))
    post = section(text, "unsuccessful {")

    assert "case 0:" in plan and "case 5:" in plan and "default:" in plan  # changes pending is not a failure
    for stage in (deploy, promote):
        cases = {m.group(1) or m.group(2): stage[m.end():] for m in re.finditer(r"case (\d):|(default):", stage)}
        after = {c: body[:body.find("break")] if "break" in body else body for c, body in cases.items()}
        assert "deployment.lockedOut = true" in after["4"] and "settled(" not in after["4"]  # never ours to undo
        assert "deployment.settled = true" in after["1"]  # bluegreen already rolled back
        assert "settled(deployment)" in after["default"]  # 3, 130, 137, 143, ...: settle in this container
        # interrupted while bluegreen runs: settle here, before Jenkins removes the container, then rethrow
        catch = stage[stage.index("catch (interrupted)"):]
        assert catch.index("settled(deployment)") < catch.index("throw interrupted")
    assert "case 2:" in deploy and "case 6:" in deploy and "nothing was changed" in deploy
    assert post.index("deployment.lockedOut") < post.index("settled(deployment)")
    assert "!deployment.settled" in post and "error(" in post  # loud when settle cannot show a rollback
    assert [s.strip() for w, s, _ in jenkins_scripts(text) if w == "settled()"] == ["ci/bluegreen-ci.sh settle"]


# --- its commands against the emulator -------------------------------------------------------------------------


def test_jenkins_approved_path_plan_build_deploy_paused_then_promote(capsys, pipeline):
    plan_build_deploy(capsys, pipeline)

    code, out, err = run(capsys, pipeline["commands"]["promote:promote"], pipeline["variables"])

    assert code == EXIT_OK, err
    assert "traffic.switched" in [e["event"] for e in json_events(out)]
    assert web_weights(pipeline["aws"]) == {"web-blue": 0, "web-green": 100}
    image = store(pipeline["aws"]).history("web")[0]["image"]
    assert image.endswith(f"{pipeline['repository']}@" + image.rsplit("@", 1)[1])
    assert not (pipeline["workdir"] / ".bluegreen" / "locks").exists()  # nothing kept in the workspace


def test_jenkins_failure_after_the_deploy_stage_is_settled_by_post(capsys, pipeline):
    plan_build_deploy(capsys, pipeline)  # paused: a later failure leaves it in flight

    settled = settle(pipeline["workdir"])

    assert settled.returncode == 0, settled.stdout + settled.stderr
    assert "rolled back: production traffic is on the previous color" in settled.stdout
    assert web_weights(pipeline["aws"]) == {"web-blue": 100, "web-green": 0}
    assert ecs_desired(pipeline["aws"], "web-green") == 0
    assert store(pipeline["aws"]).current("web")["status"] == "rolled-back"
    again = settle(pipeline["workdir"])  # post after an in-stage settle, or a second post: nothing more
    assert again.returncode == 0 and "rolled back" in again.stdout


def test_jenkins_promote_failing_at_a_gate_rolls_back_by_itself_exit_1(capsys, pipeline):
    plan_build_deploy(capsys, pipeline)
    pipeline["aws"].client("cloudwatch").set_alarm_state(AlarmName="web-5xx-rate", StateValue="ALARM",
                                                         StateReason="pipeline test")

    code, _, err = run(capsys, pipeline["commands"]["promote:promote"], pipeline["variables"])

    # exit 1: traffic is already back on blue; the Jenkinsfile marks it settled and post does nothing more
    assert code == EXIT_FAILED, err
    assert web_weights(pipeline["aws"]) == {"web-blue": 100, "web-green": 0}
    assert store(pipeline["aws"]).current("web")["status"] == "rolled-back"


def test_jenkins_rejected_approval_is_settled_by_post_which_aborts_the_paused_deployment(capsys, pipeline):
    plan_build_deploy(capsys, pipeline)

    settled = settle(pipeline["workdir"])

    assert settled.returncode == 0, settled.stdout + settled.stderr
    assert "deploy.aborted" in settled.stdout or "rollback.succeeded" in settled.stdout  # abort's JSON events
    assert web_weights(pipeline["aws"]) == {"web-blue": 100, "web-green": 0}
    assert listener_weights(pipeline["aws"].client("elbv2"), "web-alb", 8080) == {"web-blue": 100, "web-green": 0}
    assert ecs_desired(pipeline["aws"], "web-green") == 0


def test_jenkins_stopped_deploy_waits_for_bluegreens_own_rollback_instead_of_cutting_it_short(
        aws, workdir, placer, shared_state):
    gate = workdir / "rollback-may-go-on"
    deploying = subprocess.Popen([sys.executable, "-c", GATED_ROLLBACK, "deploy", str(shared_state), "--image-tag",
                                  "v2", "--events", "json"], stdout=subprocess.PIPE, text=True,
                                 env={**os.environ, "ROLLBACK_GATE": str(gate)})
    for line in deploying.stdout:  # type: ignore[union-attr]
        # all of production has moved and is baking; at "traffic.switched" the deploy may already have
        # exited (kept warm) before a loaded machine delivers the signal
        if line.startswith("{") and json.loads(line).get("step") == "bake-100" and "step.started" in line:
            break
    deploying.send_signal(signal.SIGTERM)  # the stop button: bluegreen starts its rollback (held at the gate)

    settling = subprocess.Popen(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", "ci/bluegreen-ci.sh settle"],
                                cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, **settle_env(workdir)})
    waited = []
    for line in settling.stdout:  # type: ignore[union-attr]
        waited.append(line)
        if "exited 4 (deployments/web.yaml locked: the interrupted run still rolling back?)" in line:
            break  # settle has met the lock of the rollback in progress and waits for it
    gate.touch()  # settle is waiting: let the interrupted run finish its own rollback
    out, err = settling.communicate(timeout=120)

    assert deploying.wait(timeout=60) == EXIT_FAILED  # its rollback finished: exit 1, it was not killed
    assert "still rolling back?" in waited[-1], "".join(waited) + err  # it waited (and did not end first)
    out = "".join(waited) + out
    assert settling.returncode == 0, out + err
    assert "rolled back: production traffic is on the previous color" in out, out + err
    assert "lock.taken-over" not in out  # the rollback was the interrupted process's own
    assert web_weights(aws) == {"web-blue": 100, "web-green": 0}
    assert store(aws).read("web") is None  # nobody is left holding the lock: the next build can deploy


def test_jenkins_deploy_killed_exit_137_is_settled_by_taking_over_the_dead_runs_rollback(
        aws, workdir, placer, shared_state):
    killed = run_cli("deploy", str(shared_state), "--image-tag", "v2", killer=9)  # mid-shift, SIGKILL

    assert killed.returncode == -signal.SIGKILL  # the shell reports 137: outside the table, state unknown
    settled = settle(workdir)

    assert settled.returncode == 0, settled.stdout + settled.stderr
    assert "took over the lock of a dead process" in settled.stdout
    assert web_weights(aws) == {"web-blue": 100, "web-green": 0}
    assert store(aws).current("web")["status"] == "rolled-back"


def test_jenkins_settle_fails_loudly_when_the_lock_is_still_held_at_its_deadline(aws, workdir, placer, shared_state):
    assert main(["deploy", str(shared_state), "--image-tag", "v2", "--pause-before-shift"]) == EXIT_OK
    holder = LockInfo.create("web", store(aws).current("web")["deployment_id"], "promote", identity_from(os.environ))
    store(aws).acquire(holder, 600)  # a live process (this one) holds it and does not let go

    settled = settle(workdir, SETTLE_SECONDS="1")

    assert settled.returncode == EXIT_ROLLBACK_INCOMPLETE
    assert "still paused ours: a person must look" in settled.stdout
    assert ecs_desired(aws, "web-green") == 2  # nothing was cut short


def test_jenkins_settle_leaves_another_runs_deployment_alone(aws, workdir, placer, shared_state, monkeypatch):
    monkeypatch.setenv("BUILD_URL", "https://jenkins.example.com/job/web/job/main/41/")  # another build
    assert main(["deploy", str(shared_state), "--image-tag", "v2", "--pause-before-shift"]) == EXIT_OK

    settled = settle(workdir)

    assert settled.returncode == 0 and "nothing to undo" in settled.stdout
    assert store(aws).current("web")["status"] == "paused" and ecs_desired(aws, "web-green") == 2


def test_jenkins_deploy_locked_by_another_run_exits_4_and_changes_nothing(capsys, aws, workdir, placer, shared_state):
    variables = {"GIT_COMMIT": "v2", "SPEC": "deployments/web.yaml", "SERVICE": "web"}
    other = LockInfo.create("web", "web-20260101T000000Z-other1", "deploy", identity_from(os.environ))
    store(aws).acquire(other, 600)

    code, _, err = run(capsys, by_stage()["deploy:deploy"], variables)

    assert code == EXIT_LOCKED
    assert "locked by" in err and "web-20260101T000000Z-other1" in err
    assert web_weights(aws) == {"web-blue": 100, "web-green": 0} and ecs_desired(aws, "web-green") == 0
    assert store(aws).read("web").deployment_id == other.deployment_id  # still theirs


def test_jenkins_second_build_in_another_workspace_sees_the_paused_deployment_and_exits_4(
        capsys, aws, workdir, placer, shared_state, monkeypatch):
    variables = {"GIT_COMMIT": "v2", "SPEC": "deployments/web.yaml", "SERVICE": "web"}
    assert run(capsys, by_stage()["deploy:deploy"], variables)[0] == EXIT_OK  # build 42 waits for approval
    second = workdir / "workspace@2"  # Jenkins' second workspace for a concurrent build of the job
    (second / "deployments").mkdir(parents=True)
    (second / "deployments" / "web.yaml").write_text(shared_state.read_text())
    monkeypatch.chdir(second)

    code, _, err = run(capsys, by_stage()["deploy:deploy"], variables)

    assert code == EXIT_LOCKED and "paused" in err
    assert store(aws).current("web")["status"] == "paused"  # the first build's, untouched
    assert ecs_desired(aws, "web-green") == 2


def test_check_state_refuses_a_spec_whose_state_lives_in_the_workspace(workdir):
    path = write_spec(workdir, "web")  # the default: local state under .bluegreen/
    install_ci_script(workdir)

    checked = bash("ci/bluegreen-ci.sh check-state", workdir,
                   {"SPEC": "deployments/web.yaml", "PATH": tool_path(workdir / ".tools")})

    assert checked.returncode != 0
    assert f"{path.relative_to(workdir)}: state.backend is local" in checked.stderr
