"""The GitHub Actions examples: the pull-request plan and the deploy workflow (see pipeline_helpers).

Their `bluegreen` lines run against the emulator in the workflow's order; their shell steps run in bash
as Actions runs `shell: bash`, with a fake `gh` (backed by real jq) standing in for GitHub's API where a
step talks to it. What only GitHub can do (OIDC, environments, concurrency) is checked in the YAML.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from bluegreen.adapters.aws.dynamo_store import DynamoStore, ensure_table
from bluegreen.adapters.aws.session import Aws, is_read_only
from bluegreen.cli.main import main
from bluegreen.local.seed import put_image

from deploy_helpers import copy_examples, engines, json_events, listener_weights, seeded, seeding_aws, write_spec
from lint_tools import unavailable
from pipeline_helpers import (
    DEPLOY_WORKFLOW, PR_WORKFLOW, bash, install_ci_script, readme_state_block, settle, step, tool_path, uses,
    workflow, workflow_commands,
)

EXIT_OK, EXIT_INVALID, EXIT_CHANGES = 0, 2, 5
PINNED_USES = re.compile(r"^\s*(?:- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+$", re.M)
RUN_URL = "https://github.com/example-org/deployments/actions/runs/4242"
STATE = readme_state_block()

FAKE_GH = """#!/usr/bin/env python3
# gh api, as far as the comment step uses it: the comments live in $GH_FAKE_STATE (JSON), calls in $GH_FAKE_LOG.
import json, os, subprocess, sys
args = sys.argv[2:]
state = json.load(open(os.environ["GH_FAKE_STATE"]))
log = open(os.environ["GH_FAKE_LOG"], "a")
method = args[args.index("--method") + 1] if "--method" in args else "GET"
url = next(a for a in args if a.startswith("repos/"))
if method == "GET":
    jq = args[args.index("--jq") + 1]
    sys.stdout.write(subprocess.run(["jq", "-r", jq], input=json.dumps(state), capture_output=True, text=True,
                                    check=True).stdout)
else:
    body = args[args.index("-F") + 1]
    assert body.startswith("body=@"), body
    log.write(json.dumps({"method": method, "url": url, "body": open(body[6:]).read()}) + "\\n")
"""


def run(capsys, command, variables: dict[str, str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(command.argv(variables))
    out, err = capsys.readouterr()
    return code, out, err


def run_step(s: dict, cwd: Path, **env: str):
    return bash(str(s["run"]), cwd, env)


# --- the pull-request workflow ----------------------------------------------------------------------------------


def test_pr_workflow_runs_on_every_pull_request_with_validate_plan_comment_and_offline_fallback():
    data = workflow(PR_WORKFLOW)

    assert data["on"] == {"pull_request": None}  # no paths filter: every pull request, fit for a required check
    steps = data["jobs"]["plan"]["steps"]
    names = [s.get("name", s.get("uses", "")) for s in steps]
    commands = workflow_commands(data)
    assert [c.subcommand for c in commands] == ["validate", "plan", "plan"]
    validate, plan, offline = commands
    assert validate.argv({}) == ["validate", "deployments/"]
    assert {"--format", "markdown", "--detailed-exitcode"} <= set(shlex.split(plan.line))
    assert "--offline" in shlex.split(offline.line) and "--offline" not in shlex.split(plan.line)
    assert validate.position < plan.position < offline.position
    live, fork = steps[plan.position], steps[offline.position]
    assert "FORK == 'false'" in live["if"] and "FORK == 'true'" in fork["if"]
    assert any("configure-aws-credentials" in str(s.get("uses", "")) for s in steps)
    assert any("GITHUB_STEP_SUMMARY" in str(s.get("run", "")) for s in steps)
    assert names.index("Validate specs") < names.index("Plan")
    assert "bluegreen iam-policy deployments/ --plan-only" in PR_WORKFLOW.read_text()


def test_pr_workflow_grants_least_privilege_per_job_and_pins_every_action_by_commit():
    data, text = workflow(PR_WORKFLOW), PR_WORKFLOW.read_text()
    plan, comment = data["jobs"]["plan"], data["jobs"]["comment"]

    assert data["permissions"] == {}
    # the job that reads the pull request may mint the read-only AWS token, but not write to the PR ...
    assert plan["permissions"] == {"contents": "read", "id-token": "write"}
    # ... and the job that writes the comment checks nothing out and runs nothing of the PR's
    assert comment["permissions"] == {"pull-requests": "write"}
    assert not any("checkout" in u for u in [str(s.get("uses", "")) for s in comment["steps"]])
    assert all("timeout-minutes" in job for job in data["jobs"].values())
    assert len(PINNED_USES.findall(text)) == len(uses(data)) == 5
    for s in plan["steps"]:
        if "actions/checkout" in str(s.get("uses", "")):
            assert s["with"]["persist-credentials"] is False
    assert "pip install ." not in text and "pip install -e" not in text  # nothing from the PR is installed
    # a cancelled run posts nothing: no always() anywhere, the comment steps wait for a plan or a failed validate
    assert "always()" not in text
    body = step(data, "plan", id="body")
    assert "!cancelled()" in body["if"] and "steps.plan.outcome == 'success'" in body["if"]
    assert "steps.validate.outcome == 'failure'" in body["if"]


def test_pr_workflow_commands_against_the_emulator(capsys, realistic_aws, workdir):
    copy_examples(workdir)
    for path in sorted((workdir / "deployments").glob("*.yaml")):
        seeded(realistic_aws.endpoint_url, path, engine=engines().get(path.stem))
    validate, plan, offline = workflow_commands(workflow(PR_WORKFLOW))

    code, out, err = run(capsys, validate, {})
    assert code == EXIT_OK, err
    assert out.count(": ok (") == 6

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


def test_pr_workflow_offline_plan_needs_no_aws(capsys, workdir, monkeypatch):
    copy_examples(workdir)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing answers: any AWS call would fail
    *_, offline = workflow_commands(workflow(PR_WORKFLOW))

    code, out, err = run(capsys, offline, {})

    assert code in (EXIT_OK, EXIT_CHANGES), err
    assert "offline" in out.lower()


def test_pr_workflow_invalid_spec_fails_validate_and_the_comment_says_so_for_the_head_commit(workdir):
    copy_examples(workdir)
    (workdir / "deployments" / "broken.yaml").write_text("service: broken\nimage: {repository: broken}\n"
                                                         "platform: {}\ntraffic: {}\nshift: {mode: sideways}\n")
    data = workflow(PR_WORKFLOW)
    path = tool_path(workdir / ".tools")

    validated = run_step(step(data, "plan", id="validate"), workdir, PATH=path)
    assert validated.returncode == EXIT_INVALID  # pipefail: tee does not hide the failure
    assert "broken.yaml:" in (workdir / "validate.txt").read_text() and "shift.mode" in validated.stdout

    body = run_step(step(data, "plan", id="body"), workdir, VALIDATE="failure", HEAD_SHA="c0ffee" * 6 + "c0ff")
    assert body.returncode == 0, body.stderr
    comment = (workdir / "comment.md").read_text()
    assert comment.startswith("<!-- bluegreen-plan -->\n")
    assert f"`{'c0ffee' * 6}c0ff` are invalid, so there is no plan" in comment and "shift.mode" in comment


def test_pr_workflow_shell_treats_exit_5_as_changes_pending_and_anything_else_as_failure(tmp_path):
    data = workflow(PR_WORKFLOW)
    plan_step, result_step = step(data, "plan", id="plan"), step(data, "plan", name="Result")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bluegreen").write_text("#!/bin/sh\necho '# plan'\nexit \"$FAKE_EXIT\"\n")
    (fake / "bluegreen").chmod(0o755)

    for exit_code, job_fails in ((0, False), (5, False), (2, True), (1, True), (137, True)):
        output = tmp_path / f"output-{exit_code}"
        env = {"PATH": f"{fake}:{os.environ['PATH']}", "FAKE_EXIT": str(exit_code), "GITHUB_OUTPUT": str(output)}
        planned = run_step(plan_step, tmp_path, **env)
        assert planned.returncode == 0, planned.stderr  # the plan step itself never fails: it records the code
        assert output.read_text().strip() == f"code={exit_code}"
        assert (tmp_path / "plan.md").read_text() == "# plan\n"
        result = run_step(result_step, tmp_path, CODE=str(exit_code))
        assert (result.returncode != 0) == job_fails, (exit_code, result.stdout)


@pytest.fixture
def fake_gh(tmp_path):
    if not shutil.which("jq"):  # .ci/run installs it; on a developer's machine it is one package away
        unavailable("the fake gh evaluates the step's --jq filter with jq: apt-get install jq")
    directory = tmp_path / "gh-bin"
    directory.mkdir()
    (directory / "gh").write_text(FAKE_GH.replace("#!/usr/bin/env python3", f"#!{sys.executable}"))
    (directory / "gh").chmod(0o755)
    state, log = tmp_path / "comments.json", tmp_path / "gh.log"

    def call(comments: list[dict], cwd: Path) -> list[dict]:
        state.write_text(json.dumps(comments))
        log.write_text("")
        upsert = step(workflow(PR_WORKFLOW), "comment", name="Create or update")
        done = run_step(upsert, cwd, PATH=f"{directory}:{os.environ['PATH']}", GH_FAKE_STATE=str(state),
                        GH_FAKE_LOG=str(log), PR="7", REPO="example-org/deployments", HEAD_SHA="f" * 40,
                        RUN_URL=RUN_URL, GH_TOKEN="not-a-token")
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in log.read_text().splitlines()]

    return call


def test_pr_comment_updates_only_this_workflows_marked_comment(fake_gh, tmp_path):
    (tmp_path / "comment.md").write_text("<!-- bluegreen-plan -->\n**bluegreen plan** for `fff`\n")
    bot = "github-actions[bot]"
    comments = [{"id": 1, "user": {"login": bot}, "body": "<!-- bluegreen-plan -->\nold plan"},
                {"id": 2, "user": {"login": bot}, "body": "coverage: 93% (another workflow's comment)"},
                {"id": 3, "user": {"login": "mallory"}, "body": "<!-- bluegreen-plan -->\nnot the bot's"}]

    [call] = fake_gh(comments, tmp_path)

    assert call["method"] == "PATCH" and call["url"] == "repos/example-org/deployments/issues/comments/1"
    assert call["body"].startswith("<!-- bluegreen-plan -->")


def test_pr_comment_is_created_when_the_pull_request_has_none_yet(fake_gh, tmp_path):
    (tmp_path / "comment.md").write_text("<!-- bluegreen-plan -->\nplan\n")

    [call] = fake_gh([{"id": 2, "user": {"login": "github-actions[bot]"}, "body": "coverage: 93%"}], tmp_path)

    assert call["method"] == "POST" and call["url"] == "repos/example-org/deployments/issues/7/comments"


def test_pr_comment_replaces_a_stale_plan_when_the_plan_job_stopped_before_planning(fake_gh, tmp_path):
    old = {"id": 1, "user": {"login": "github-actions[bot]"}, "body": "<!-- bluegreen-plan -->\nplan of an old commit"}

    [call] = fake_gh([old], tmp_path)  # no comment.md: the plan job failed before it wrote one

    assert call["method"] == "PATCH"
    assert f"no plan for `{'f' * 40}`: the plan job stopped before planning ([run]({RUN_URL}))" in call["body"]


def test_pr_install_step_installs_only_a_bluegreen_pinned_to_a_commit(tmp_path):
    install = step(workflow(PR_WORKFLOW), "plan", name="Install bluegreen")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python").write_text('#!/bin/sh\necho "$*" > "$PIP_ARGS"\n')
    (fake / "python").chmod(0o755)
    path = f"{fake}:{os.environ['PATH']}"
    commit = "0123456789abcdef0123456789abcdef01234567"

    for spec in ("", "bluegreen", "bluegreen @ git+https://github.com/example-org/bluegreen@v0.1.0",
                 "bluegreen @ git+https://github.com/example-org/bluegreen@main"):
        refused = run_step(install, tmp_path, PATH=path, BLUEGREEN_PIP_SPEC=spec, PIP_ARGS=str(tmp_path / "none"))
        assert refused.returncode == EXIT_INVALID and "::error::BLUEGREEN_PIP_SPEC must be" in refused.stdout
        assert not (tmp_path / "none").exists()
    pinned = f"bluegreen @ git+https://github.com/example-org/bluegreen@{commit}"
    installed = run_step(install, tmp_path, PATH=path, BLUEGREEN_PIP_SPEC=pinned, PIP_ARGS=str(tmp_path / "args"))
    assert installed.returncode == 0, installed.stdout
    assert (tmp_path / "args").read_text().strip().endswith(f"install --disable-pip-version-check --no-input {pinned}")


def test_example_iam_policy_for_the_plan_role_is_read_only(capsys):
    """The PR workflow's plan role: `bluegreen iam-policy deployments/ --plan-only` (see its header)."""
    from deploy_helpers import REPO

    capsys.readouterr()
    assert main(["iam-policy", str(REPO / "deployments"), "--plan-only"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert all(is_read_only(a) for s in document["Statement"] for a in s["Action"])


# --- the deploy workflow --------------------------------------------------------------------------------------------


def test_deploy_workflow_one_run_per_service_oidc_per_environment_and_an_approval_before_promote():
    data, text = workflow(DEPLOY_WORKFLOW), DEPLOY_WORKFLOW.read_text()
    jobs = data["jobs"]

    assert set(data["on"]) == {"workflow_dispatch"} and data["on"]["workflow_dispatch"]["inputs"]["service"]["required"]
    assert data["concurrency"] == {"group": "bluegreen-deploy-${{ inputs.service }}", "cancel-in-progress": False}
    assert data["permissions"] == {}
    assert list(jobs) == ["deploy", "promote", "abort"]
    for job in jobs.values():
        assert job["permissions"] == {"contents": "read", "id-token": "write"} and "timeout-minutes" in job
        creds = next(s for s in job["steps"] if "configure-aws-credentials" in str(s.get("uses", "")))
        assert creds["with"]["role-to-assume"] == "${{ vars.BLUEGREEN_ROLE_ARN }}"  # the environment's own role
        assert step(data, next(k for k, v in jobs.items() if v is job), name="Install")["run"] == \
            "ci/bluegreen-ci.sh install"
    assert jobs["deploy"]["environment"] == jobs["abort"]["environment"] == "bluegreen-${{ inputs.service }}"
    assert jobs["promote"]["environment"] == "bluegreen-${{ inputs.service }}-approval"  # required reviewers
    assert jobs["deploy"]["if"] == "github.ref == 'refs/heads/main'"
    assert jobs["promote"]["needs"] == "deploy" and jobs["promote"]["if"] == "needs.deploy.outputs.paused == 'true'"
    assert jobs["abort"]["needs"] == ["deploy", "promote"]
    assert "always()" in jobs["abort"]["if"] and "needs.promote.result != 'success'" in jobs["abort"]["if"]
    assert len(PINNED_USES.findall(text)) == len(uses(data)) == 9
    assert all(s["with"]["persist-credentials"] is False for job in jobs.values() for s in job["steps"]
               if "actions/checkout" in str(s.get("uses", "")))
    names = [s.get("name", s.get("uses")) for s in jobs["deploy"]["steps"]]
    assert names.index("Check the service and its state backend") < names.index("Build and push the image")
    # rollback on failure or cancel, of our own deployment only (exit 4 is someone else's)
    for job, step_id in (("deploy", "deploy"), ("promote", "promote")):
        settler = step(data, job, name="Settle")
        assert settler["run"] == "ci/bluegreen-ci.sh settle" and "timeout-minutes" in settler
        assert "(failure() || cancelled())" in settler["if"]
        assert f"steps.{step_id}.outputs.code != '4'" in settler["if"]
    assert step(data, "abort", name="Settle")["run"] == "ci/bluegreen-ci.sh settle"


def test_deploy_workflow_steps_treat_every_code_outside_the_table_as_state_unknown(tmp_path):
    data = workflow(DEPLOY_WORKFLOW)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bluegreen").write_text('#!/bin/sh\nexit "$FAKE_EXIT"\n')
    (fake / "bluegreen").chmod(0o755)
    path = f"{fake}:{os.environ['PATH']}"

    for job, step_id in (("deploy", "deploy"), ("promote", "promote")):
        for code in (0, 1, 2, 3, 4, 6, 130, 137, 143):
            output = tmp_path / f"{step_id}-{code}"
            done = run_step(step(data, job, id=step_id), tmp_path, PATH=path, FAKE_EXIT=str(code),
                            GITHUB_OUTPUT=str(output), SERVICE="web", SPEC="deployments/web.yaml")
            assert output.read_text().strip() == f"code={code}"  # what the settle condition reads
            assert (done.returncode == 0) == (code == 0), (job, code, done.stdout)
            if code in (3, 130, 137, 143):
                assert "settling below" in done.stdout


@pytest.fixture
def actions_run(aws, workdir, monkeypatch, placer):
    """This process is run 4242 of a GitHub workflow; web keeps its state in DynamoDB; ci/ is in place."""
    monkeypatch.delenv("BUILD_URL", raising=False)
    for name, value in (("GITHUB_RUN_ID", "4242"), ("GITHUB_SERVER_URL", "https://github.com"),
                        ("GITHUB_REPOSITORY", "example-org/deployments")):
        monkeypatch.setenv(name, value)
    path = write_spec(workdir, "web", state=STATE)
    seeded(aws.endpoint_url, path)
    ensure_table(seeding_aws("us-east-1", aws.endpoint_url), STATE["table"])
    put_image(seeding_aws("us-east-1", aws.endpoint_url), "web", "f" * 40)  # what the build step pushes
    install_ci_script(workdir)
    return {"aws": aws, "workdir": workdir, "path": tool_path(workdir / ".tools"),
            "variables": {"SPEC": "deployments/web.yaml", "GITHUB_SHA": "f" * 40, "SERVICE": "web"}}


def deploy_until_paused(capsys, r) -> None:
    data = workflow(DEPLOY_WORKFLOW)
    commands = {c.where: c for c in workflow_commands(data)}
    checked = run_step(step(data, "deploy", name="Check the service"), r["workdir"], PATH=r["path"], SERVICE="web",
                       SPEC="deployments/web.yaml")
    assert checked.returncode == 0, checked.stderr
    assert list(commands) == ["deploy:Build and push the image", "deploy:Deploy (paused before the traffic shift)",
                              "deploy:Paused?", "promote:Promote"]
    code, out, err = run(capsys, commands["deploy:Deploy (paused before the traffic shift)"], r["variables"])
    assert code == EXIT_OK, err
    assert "deploy.paused" in [e["event"] for e in json_events(out)]
    output = r["workdir"] / "github-output"
    paused = run_step(step(data, "deploy", id="status"), r["workdir"], PATH=r["path"], GITHUB_OUTPUT=str(output),
                      SPEC="deployments/web.yaml")
    assert paused.returncode == 0, paused.stderr
    assert output.read_text() == "paused=true\n"  # the promote job's condition


def test_deploy_workflow_approved_path_deploys_paused_then_promotes(capsys, actions_run):
    deploy_until_paused(capsys, actions_run)
    promote = next(c for c in workflow_commands(workflow(DEPLOY_WORKFLOW)) if c.subcommand == "promote")

    code, out, err = run(capsys, promote, actions_run["variables"])

    assert code == EXIT_OK, err
    assert listener_weights(actions_run["aws"].client("elbv2"), "web-alb", 80) == {"web-blue": 0, "web-green": 100}
    history = DynamoStore(Aws("us-east-1", endpoint_url=actions_run["aws"].endpoint_url), STATE["table"]).history("web")
    assert f"({RUN_URL})" in history[0]["who"]  # what settle recognises as this run's


def test_deploy_workflow_rejected_approval_aborts_the_paused_deployment_in_the_abort_job(capsys, actions_run):
    deploy_until_paused(capsys, actions_run)

    settled = settle(actions_run["workdir"], RUN_URL=RUN_URL)

    assert settled.returncode == 0, settled.stdout + settled.stderr
    assert "rolled back: production traffic is on the previous color" in settled.stdout
    assert listener_weights(actions_run["aws"].client("elbv2"), "web-alb", 80) == {"web-blue": 100, "web-green": 0}


def test_ci_script_install_refuses_a_bluegreen_that_can_move(tmp_path):
    install_ci_script(tmp_path)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").write_text('#!/bin/sh\necho "$*" > "$PIP_ARGS"\n')
    (fake / "bluegreen").write_text("#!/bin/sh\necho bluegreen 0.1.0\n")
    for name in ("python3", "bluegreen"):
        (fake / name).chmod(0o755)
    env = {"PATH": f"{fake}:{os.environ['PATH']}", "PIP_ARGS": str(tmp_path / "args")}

    refused = bash("ci/bluegreen-ci.sh install", tmp_path,
                   env | {"BLUEGREEN_PIP_SPEC": "bluegreen @ git+https://github.com/example-org/bluegreen@v0.1.0"})
    assert refused.returncode == EXIT_INVALID and "must be 'bluegreen @ git+https://" in refused.stderr
    assert not (tmp_path / "args").exists()

    pinned = "bluegreen @ git+https://github.com/example-org/bluegreen@" + "ab" * 20
    installed = bash("ci/bluegreen-ci.sh install", tmp_path, env | {"BLUEGREEN_PIP_SPEC": pinned})
    assert installed.returncode == 0, installed.stderr
    assert (tmp_path / "args").read_text().strip() == f"-m pip install --disable-pip-version-check --no-input {pinned}"
