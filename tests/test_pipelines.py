"""The CI examples, exercised as far as possible without Jenkins or GitHub.

`examples/Jenkinsfile` and `examples/github-pr-plan.yml` are read as text; every `bluegreen ...` line
in their `sh '...'` / `sh(script: '''...''')` and `run: |` blocks is extracted, its variables are
substituted ($GIT_COMMIT -> a fresh commit id, $SPEC, $SERVICE), and it is run through
`bluegreen.cli.main.main` against the emulator, in a seeded working directory, in the pipeline's order:

- Jenkins, the approved path: plan (exit 5 is "changes pending", a success) -> build (real Docker
  engine, pushed to the loopback registry; skipped only when Docker is unreachable and
  BLUEGREEN_REQUIRE_DOCKER is not 1) -> deploy --pause-before-shift --events json -> status (what the
  Jenkinsfile reads to know the deployment is paused) -> promote.
- Jenkins, a later stage fails: `post { failure }`'s rollback puts blue back.
- Jenkins, aborted (approval rejected): `post { aborted }`'s abort puts blue back.
- Jenkins, locked out: the deploy exits 4, and nothing is undone.
- GitHub, the pull-request job: validate (and an invalid spec failing it), plan --format markdown
  --detailed-exitcode, the --offline fallback; the shell around them runs in bash as Actions runs it.

Groovy itself cannot run here; its decisions are checked against the exit codes the commands return.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bluegreen.adapters.aws.session import Aws
from bluegreen.local.seed import put_image
from bluegreen.cli.main import main
from bluegreen.state.local import LocalStore
from bluegreen.app.context import identity_from
from bluegreen.state.store import LockInfo

from deploy_helpers import REPO, copy_examples, json_events, listener_weights, seeded, write_spec

JENKINSFILE = REPO / "examples" / "Jenkinsfile"
WORKFLOW = REPO / "examples" / "github-pr-plan.yml"
EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_LOCKED, EXIT_CHANGES = 0, 1, 2, 4, 5
SHELL_OPERATORS = {">", ">>", "<", "|", "||", "&&", ";", "2>", "2>&1", "&"}


# --- extracting the commands ----------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    line: str  # as written, e.g. bluegreen deploy "$SPEC" --image-tag "$GIT_COMMIT" ...
    where: str  # the Jenkins stage / post condition, or the GitHub step name
    position: int

    @property
    def subcommand(self) -> str:
        return shlex.split(self.line)[1]

    def argv(self, variables: dict[str, str]) -> list[str]:
        """The arguments after `bluegreen`, variables substituted, up to the first shell operator."""
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if name not in variables:
                raise KeyError(f"{self.where}: no value for ${name} in {self.line!r}")
            return variables[name]

        words = shlex.split(re.sub(r"\$\{(\w+)\}|\$(\w+)", substitute, self.line))
        cut = next((i for i, w in enumerate(words) if w in SHELL_OPERATORS), len(words))
        assert words[0] == "bluegreen"
        return words[1:cut]


_SH_SCRIPT = re.compile(r"""(?:\bscript:\s*|\bsh\s+)(?P<q>'''|\"\"\"|'|")(?P<body>.*?)(?P=q)""", re.S)


def _block(text: str, header: str) -> tuple[int, int]:
    """Span of the body of the first `header {...}` block (braces balanced)."""
    start = text.index(header)
    open_at = text.index("{", start + len(header) - 1)
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return open_at, i
    raise ValueError(f"unbalanced braces after {header}")


def jenkins_commands(text: str) -> list[Command]:
    sections = {name: _block(text, header) for name, header in [
        ("plan", "stage('plan')"), ("build", "stage('build')"), ("deploy", "stage('deploy')"),
        ("approve", "stage('approve')"), ("promote", "stage('promote')"),
        ("post failure", "failure {"), ("post aborted", "aborted {")]}
    out = []
    for match in _SH_SCRIPT.finditer(text):
        for line in match.group("body").splitlines():
            if line.strip().startswith("bluegreen "):
                where = next((name for name, (a, b) in sections.items() if a < match.start() < b), "?")
                out.append(Command(line.strip(), where, match.start()))
    return out


def workflow_commands(data: dict[str, Any]) -> list[Command]:
    out = []
    for job in data["jobs"].values():
        for i, step in enumerate(job["steps"]):
            for line in str(step.get("run", "")).splitlines():
                if line.strip().startswith("bluegreen "):
                    out.append(Command(line.strip(), step.get("name", f"step {i}"), i))
    return out


def workflow() -> dict[str, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    if True in data:  # YAML 1.1 reads the key `on` as the boolean true
        data["on"] = data.pop(True)
    return data


# --- running them -----------------------------------------------------------------------------------


def run(capsys, command: Command, variables: dict[str, str], *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(command.argv(variables) + list(extra))
    out, err = capsys.readouterr()
    return code, out, err


def by_stage(commands: list[Command]) -> dict[str, Command]:
    found: dict[str, Command] = {}
    for command in commands:
        found.setdefault(f"{command.where}:{command.subcommand}", command)
    return found


def web_weights(aws) -> dict[str, int]:
    return listener_weights(aws.client("elbv2"), "web-alb", 80)


def ecs_desired(aws, name: str) -> int:
    return aws.client("ecs").describe_services(cluster="prod", services=[name])["services"][0]["desiredCount"]


def docker_registry(request) -> str | None:
    """The registry to push to when Docker can build here; None (build skipped) only when not required."""
    try:
        request.getfixturevalue("docker_engine")
        registry = request.getfixturevalue("registry")
        request.getfixturevalue("busybox_context")
    except pytest.skip.Exception:  # conftest fails instead of skipping when BLUEGREEN_REQUIRE_DOCKER=1
        return None
    return registry


@pytest.fixture
def pipeline(request, aws, workdir, placer):
    """deployments/web.yaml (the example's image section, built from busybox), seeded, plus variables."""
    repository = f"bgtest/pipeline-{uuid.uuid4().hex[:10]}"
    registry = docker_registry(request)
    path = write_spec(workdir, "web")
    data = yaml.safe_load(path.read_text())
    data["image"] = yaml.safe_load((REPO / "deployments" / "web.yaml").read_text())["image"] | {
        "repository": repository, "build": {"context": "../busybox-context"}}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    if registry:
        (workdir / "busybox-context" / "index.html").write_text(f"<h1>{repository}</h1>\n")
    seeded(aws.endpoint_url, path)
    commit = uuid.uuid4().hex + uuid.uuid4().hex[:8]  # 40 hex digits, like $GIT_COMMIT
    variables = {"GIT_COMMIT": commit, "SPEC": "deployments/web.yaml", "SERVICE": "web"}
    commands = by_stage(jenkins_commands(JENKINSFILE.read_text()))
    yield {"aws": aws, "registry": registry, "repository": repository, "commit": commit, "variables": variables,
           "commands": commands}
    if registry:
        import docker.errors

        engine = request.getfixturevalue("docker_engine")
        try:
            engine.images.remove(f"{registry}/{repository}:{commit}")
        except docker.errors.ImageNotFound:
            pass


def plan_build_deploy(capsys, p: dict[str, Any]) -> None:
    """The Jenkinsfile's stages up to the approval: plan, build, deploy (paused), status."""
    commands, variables = p["commands"], p["variables"]

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


# --- the Jenkinsfile -----------------------------------------------------------------------------------


def test_jenkinsfile_runs_every_bluegreen_command_in_stage_order_with_the_tools_image():
    text = JENKINSFILE.read_text()
    commands = jenkins_commands(text)

    assert [f"{c.where}:{c.subcommand}" for c in commands] == [
        "plan:plan", "build:build", "deploy:deploy", "deploy:status", "promote:promote",
        "post failure:rollback", "post aborted:abort"]
    assert [c.position for c in commands] == sorted(c.position for c in commands)
    assert text.count("{") == text.count("}")
    assert re.search(r"agent\s*\{\s*docker\s*\{\s*image 'bluegreen", text)
    assert "--entrypoint=" in text  # the image's ENTRYPOINT is bluegreen; Jenkins runs `cat` in it
    assert 'ENTRYPOINT ["bluegreen"]' in (REPO / "Dockerfile").read_text()
    by = by_stage(commands)
    for name in ("build:build", "deploy:deploy"):
        assert '--image-tag "$GIT_COMMIT"' in by[name].line
    assert "--image-tag" not in by["plan:plan"].line  # the commit's image is not in ECR before the build
    assert {"--pause-before-shift", "--events", "json"} <= set(shlex.split(by["deploy:deploy"].line))
    assert "--detailed-exitcode" in by["plan:plan"].line
    # stage order and the approval between deploy and promote
    stages = re.findall(r"stage\('(\w+)'\)", text)
    assert stages == ["plan", "build", "deploy", "approve", "promote"]
    approve = text[slice(*_block(text, "stage('approve')"))]
    assert "input message:" in approve and "timeout(" in approve


def test_jenkinsfile_decisions_follow_the_exit_code_table():
    text = JENKINSFILE.read_text()
    plan = text[slice(*_block(text, "stage('plan')"))]
    deploy = text[slice(*_block(text, "stage('deploy')"))]
    failure = text[slice(*_block(text, "failure {"))]
    aborted = text[slice(*_block(text, "aborted {"))]

    assert "code == 5" in plan and "code == 0" in plan  # changes pending is not a failure
    # 4: someone else's lock: say so, fail, and remember not to undo anything
    locked = deploy[deploy.index("code == 4"):deploy.index("code == 1")]
    assert "deployment.lockedOut = true" in locked and "error(" in locked and "lock" in locked
    # 1: bluegreen already rolled back; 3: it did not finish, so post rolls back
    assert "deployment.inFlight = true" in deploy[deploy.index("code == 3"):]
    assert failure.index("deployment.lockedOut") < failure.index("bluegreen rollback")
    assert "deployment.inFlight" in failure
    assert "!deployment.lockedOut" in aborted and "bluegreen abort" in aborted


def test_jenkins_approved_path_plan_build_deploy_paused_then_promote(capsys, pipeline):
    plan_build_deploy(capsys, pipeline)

    code, out, err = run(capsys, pipeline["commands"]["promote:promote"], pipeline["variables"])

    assert code == EXIT_OK, err
    assert "traffic.switched" in [e["event"] for e in json_events(out)]
    assert web_weights(pipeline["aws"]) == {"web-blue": 0, "web-green": 100}
    image = LocalStore(".bluegreen").history("web")[0]["image"]
    assert image.endswith(f"{pipeline['repository']}@" + image.rsplit("@", 1)[1])


def test_jenkins_failure_after_the_deploy_stage_runs_the_post_failure_rollback(capsys, pipeline):
    plan_build_deploy(capsys, pipeline)  # paused: the Jenkinsfile marks the deployment in flight

    # e.g. the approval stage fails: `post { failure }` rolls back what is in flight
    code, out, err = run(capsys, pipeline["commands"]["post failure:rollback"], pipeline["variables"])

    assert code == EXIT_OK, err
    assert "rollback.succeeded" in [e["event"] for e in json_events(out)]
    assert web_weights(pipeline["aws"]) == {"web-blue": 100, "web-green": 0}
    assert ecs_desired(pipeline["aws"], "web-green") == 0
    assert LocalStore(".bluegreen").current("web")["status"] == "rolled-back"


def test_jenkins_promote_failing_at_a_gate_rolls_back_by_itself_exit_1(capsys, pipeline):
    plan_build_deploy(capsys, pipeline)
    pipeline["aws"].client("cloudwatch").set_alarm_state(AlarmName="web-5xx-rate", StateValue="ALARM",
                                                         StateReason="pipeline test")

    code, _, err = run(capsys, pipeline["commands"]["promote:promote"], pipeline["variables"])

    # exit 1: traffic is already back on blue, so the Jenkinsfile clears inFlight and post does nothing more
    assert code == EXIT_FAILED, err
    assert web_weights(pipeline["aws"]) == {"web-blue": 100, "web-green": 0}
    assert LocalStore(".bluegreen").current("web")["status"] == "rolled-back"


def test_jenkins_aborted_approval_runs_the_post_aborted_abort(capsys, pipeline):
    plan_build_deploy(capsys, pipeline)

    code, out, err = run(capsys, pipeline["commands"]["post aborted:abort"], pipeline["variables"])

    assert code == EXIT_OK, err
    assert web_weights(pipeline["aws"]) == {"web-blue": 100, "web-green": 0}
    assert listener_weights(pipeline["aws"].client("elbv2"), "web-alb", 8080) == {"web-blue": 100, "web-green": 0}
    assert ecs_desired(pipeline["aws"], "web-green") == 0
    assert LocalStore(".bluegreen").current("web")["status"] == "rolled-back"
    # aborting again (e.g. a second post) finds nothing in flight: exit 2, which the Jenkinsfile only reports
    assert run(capsys, pipeline["commands"]["post aborted:abort"], pipeline["variables"])[0] == EXIT_INVALID


def test_jenkins_deploy_locked_by_another_run_exits_4_and_changes_nothing(capsys, aws, workdir, placer):
    path = write_spec(workdir, "web")
    seeded(aws.endpoint_url, path)
    commands = by_stage(jenkins_commands(JENKINSFILE.read_text()))
    variables = {"GIT_COMMIT": "v2", "SPEC": "deployments/web.yaml", "SERVICE": "web"}
    other = LockInfo.create("web", "web-20260101T000000Z-other1", "deploy", identity_from(os.environ))  # a live holder: this process
    LocalStore(".bluegreen").acquire(other, 600)

    code, _, err = run(capsys, commands["deploy:deploy"], variables)

    assert code == EXIT_LOCKED
    assert "locked by" in err and "web-20260101T000000Z-other1" in err
    assert web_weights(aws) == {"web-blue": 100, "web-green": 0} and ecs_desired(aws, "web-green") == 0
    assert LocalStore(".bluegreen").read("web").deployment_id == other.deployment_id  # still theirs


def test_jenkins_second_deploy_while_one_is_paused_exits_4(capsys, aws, workdir, placer):
    path = write_spec(workdir, "web")
    seeded(aws.endpoint_url, path)
    commands = by_stage(jenkins_commands(JENKINSFILE.read_text()))
    variables = {"GIT_COMMIT": "v2", "SPEC": "deployments/web.yaml", "SERVICE": "web"}
    assert run(capsys, commands["deploy:deploy"], variables)[0] == EXIT_OK

    code, _, err = run(capsys, commands["deploy:deploy"], variables)

    assert code == EXIT_LOCKED and "paused" in err
    assert LocalStore(".bluegreen").current("web")["status"] == "paused"  # the first run's, untouched


# --- the GitHub Actions workflow ------------------------------------------------------------------------------


def test_workflow_structure_runs_on_pull_requests_with_validate_plan_comment_and_offline_fallback():
    data = workflow()

    assert "pull_request" in data["on"]
    assert data["permissions"]["pull-requests"] == "write" and data["permissions"]["contents"] == "read"
    [job] = data["jobs"].values()
    steps = job["steps"]
    names = [s.get("name", s.get("uses", "")) for s in steps]
    runs = [str(s.get("run", "")) for s in steps]
    commands = workflow_commands(data)
    assert [c.subcommand for c in commands] == ["validate", "plan", "plan"]
    validate, plan, offline = commands
    assert validate.line == "bluegreen validate deployments/"
    assert {"--format", "markdown", "--detailed-exitcode"} <= set(shlex.split(plan.line))
    assert "--offline" in shlex.split(offline.line) and "--offline" not in shlex.split(plan.line)
    assert validate.position < plan.position < offline.position
    live, fork = steps[plan.position], steps[offline.position]
    assert "FORK == 'false'" in live["if"] and "FORK == 'true'" in fork["if"]
    comment = next(r for r in runs if "gh pr comment" in r)
    assert "--body-file plan.md" in comment
    assert any("configure-aws-credentials" in str(s.get("uses", "")) for s in steps)
    assert any("GITHUB_STEP_SUMMARY" in r for r in runs)
    assert names.index("Validate specs") < names.index("Plan")


def actions_bash(script: str, workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `run:` block the way GitHub runs `shell: bash` (errexit and pipefail on)."""
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=workdir,
                          capture_output=True, text=True, env={**os.environ, **env}, timeout=60)


def test_workflow_commands_against_the_emulator(capsys, aws, workdir):
    copy_examples(workdir)
    for path in sorted((workdir / "deployments").glob("*.yaml")):
        seeded(aws.endpoint_url, path)
    validate, plan, offline = workflow_commands(workflow())

    code, out, err = run(capsys, validate, {})
    assert code == EXIT_OK, err
    assert out.count(": ok (") == 4

    code, out, err = run(capsys, plan, {})
    assert code == EXIT_OK, err  # the specs match what runs
    assert out.startswith("#") or "|" in out  # markdown for the comment
    for service in ("web", "worker", "legacy", "api"):
        assert service in out

    # the pull request changes a spec: exit 5, which the job reports as "changes pending"
    web = workdir / "deployments" / "web.yaml"
    web.write_text(web.read_text().replace("LOG_LEVEL: info", "LOG_LEVEL: debug"))
    code, out, err = run(capsys, plan, {})
    assert code == EXIT_CHANGES, err
    assert "**1** with changes" in out and "| environment.LOG\\_LEVEL | info | debug |" in out

    code, out, err = run(capsys, offline, {})
    assert code in (EXIT_OK, EXIT_CHANGES), err
    assert "offline" in out.lower()


def test_workflow_offline_plan_needs_no_aws(capsys, workdir, monkeypatch):
    copy_examples(workdir)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing answers: any AWS call would fail
    *_, offline = workflow_commands(workflow())

    code, out, err = run(capsys, offline, {})

    assert code in (EXIT_OK, EXIT_CHANGES), err
    assert "offline" in out.lower()


def test_workflow_validate_step_fails_the_job_on_an_invalid_spec(capsys, workdir):
    copy_examples(workdir)
    (workdir / "deployments" / "broken.yaml").write_text("service: broken\nimage: {repository: broken}\n"
                                                         "platform: {}\ntraffic: {}\nshift: {mode: sideways}\n")
    validate, *_ = workflow_commands(workflow())

    code, _, err = run(capsys, validate, {})

    assert code == EXIT_INVALID
    assert "broken.yaml:" in err and "shift.mode" in err


def test_workflow_shell_treats_exit_5_as_changes_pending_and_anything_else_as_failure(tmp_path):
    steps = next(iter(workflow()["jobs"].values()))["steps"]
    plan_step = next(s for s in steps if s.get("id") == "plan")
    result_step = next(s for s in steps if str(s.get("name", "")).startswith("Result"))
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bluegreen").write_text("#!/bin/sh\necho '# plan'\nexit \"$FAKE_EXIT\"\n")
    (fake / "bluegreen").chmod(0o755)

    for exit_code, job_fails in ((0, False), (5, False), (2, True), (1, True)):
        output = tmp_path / f"output-{exit_code}"
        env = {"PATH": f"{fake}:{os.environ['PATH']}", "FAKE_EXIT": str(exit_code), "GITHUB_OUTPUT": str(output)}
        planned = actions_bash(plan_step["run"], tmp_path, env)
        assert planned.returncode == 0, planned.stderr  # the plan step itself never fails: it records the code
        assert output.read_text().strip() == f"code={exit_code}"
        assert (tmp_path / "plan.md").read_text() == "# plan\n"
        result = actions_bash(result_step["run"], tmp_path, {"CODE": str(exit_code)})
        assert (result.returncode != 0) == job_fails, (exit_code, result.stdout)


def test_example_iam_policy_for_the_plan_role_is_read_only(capsys):
    """The workflow's plan role: `bluegreen iam-policy deployments/ --plan-only` (see the workflow header)."""
    from bluegreen.adapters.aws.session import is_read_only
    from bluegreen.cli.main import cli
    from bluegreen.cli.iam import iam_policy

    if "iam-policy" not in cli.commands:  # until cli.py registers it
        cli.add_command(iam_policy)
    assert "bluegreen iam-policy deployments/ --plan-only" in WORKFLOW.read_text()
    capsys.readouterr()
    assert main(["iam-policy", str(REPO / "deployments"), "--plan-only"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert all(is_read_only(a) for s in document["Statement"] for a in s["Action"])
