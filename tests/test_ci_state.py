"""Local state in CI: a changing command warns loudly and names the fix; `status --format json` says where state lives.

In CI every build has a workspace of its own, so a lock or a paused deployment kept in `.bluegreen/`
there is invisible to the next build. bluegreen warns (and goes on: one dedicated agent with one
workspace is a valid set-up); the example pipelines refuse such a spec themselves (README "In CI").
"""

from __future__ import annotations

import json

import pytest
import yaml

from bluegreen.adapters.aws.dynamo_store import ensure_table
from bluegreen.app.context import ci_system
from bluegreen.cli.main import main

from deploy_helpers import json_events, seeded, seeding_aws, write_spec

CI_VARIABLES = ("JENKINS_URL", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "CIRCLECI", "TF_BUILD",
                "CODEBUILD_BUILD_ID", "TEAMCITY_VERSION", "BITBUCKET_BUILD_NUMBER", "BUILD_ID", "CI")


@pytest.fixture
def outside_ci(monkeypatch):
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("env, system", [
    ({"JENKINS_URL": "https://jenkins.example.com/", "BUILD_ID": "42"}, "Jenkins"),
    ({"GITHUB_ACTIONS": "true", "CI": "true"}, "GitHub Actions"),
    ({"GITLAB_CI": "true", "CI": "true"}, "GitLab CI"),
    ({"BUILD_ID": "42"}, "a CI build (BUILD_ID is set)"),
    ({"CI": "true"}, "CI (CI is set)"),
    ({"CI": "1"}, "CI (CI is set)"),
    ({"CI": "false"}, None),
    ({}, None),
])
def test_the_ci_system_is_read_from_its_own_variables(env, system):
    assert ci_system(env) == system


def worker(aws, workdir, **overrides):
    path = write_spec(workdir, "worker", **overrides)
    seeded(aws.endpoint_url, path)
    return path


def test_deploy_in_jenkins_with_local_state_warns_naming_the_dynamodb_backend_and_goes_on(aws, workdir, placer,
                                                                                         outside_ci, capsys):
    path = worker(aws, workdir)
    outside_ci.setenv("JENKINS_URL", "https://jenkins.example.com/")

    code = main(["deploy", str(path.relative_to(workdir)), "--image-tag", "v2"])

    err = capsys.readouterr().err
    assert code == 0, err
    warning = [line for line in err.splitlines() if line.startswith("WARNING:")]
    assert len(warning) == 1
    assert "running in Jenkins with local state (.bluegreen/ in this workspace)" in warning[0]
    assert "`state: {backend: dynamodb, table: bluegreen-state}` in deployments/worker.yaml" in warning[0]


def test_rollback_in_github_actions_warns_too_and_json_events_carry_the_warning(aws, workdir, placer, outside_ci,
                                                                                capsys):
    path = write_spec(workdir, "web", rollback={"keep_blue_warm": "30m"})  # blue still warm: one listener change
    seeded(aws.endpoint_url, path)
    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0
    assert "WARNING" not in capsys.readouterr().err  # not in CI: nothing to warn about
    outside_ci.setenv("GITHUB_ACTIONS", "true")

    code = main(["rollback", str(path), "--events", "json"])

    out = capsys.readouterr()
    assert code == 0, out.err
    assert "WARNING: running in GitHub Actions with local state" in out.err
    events = [e for e in json_events(out.out) if e["event"] == "state.warning"]
    assert len(events) == 1 and events[0]["state"] == "local" and events[0]["ci"] == "GitHub Actions"


def test_deploy_in_ci_with_dynamodb_state_says_nothing_about_state(aws, workdir, placer, outside_ci, capsys):
    ensure_table(seeding_aws("us-east-1", aws.endpoint_url), "bluegreen-state")
    path = worker(aws, workdir, state={"backend": "dynamodb", "table": "bluegreen-state"})
    outside_ci.setenv("CI", "true")

    code = main(["deploy", str(path), "--image-tag", "v2"])

    err = capsys.readouterr().err
    assert code == 0, err
    assert "WARNING" not in err


def test_status_json_names_the_state_backend(aws, workdir, outside_ci, capsys):
    ensure_table(seeding_aws("us-east-1", aws.endpoint_url), "bluegreen-state")
    local = worker(aws, workdir)
    shared = workdir / "shared" / "worker.yaml"
    shared.parent.mkdir()
    data = yaml.safe_load(local.read_text()) | {"state": {"backend": "dynamodb", "table": "bluegreen-state"}}
    shared.write_text(yaml.safe_dump(data, sort_keys=False))

    assert main(["status", str(local), "--format", "json"]) == 0
    on_disk = json.loads(capsys.readouterr().out)
    assert main(["status", str(shared), "--format", "json"]) == 0
    in_table = json.loads(capsys.readouterr().out)

    assert on_disk["state_backend"] == {"kind": "local", "directory": ".bluegreen"}
    assert in_table["state_backend"] == {"kind": "dynamodb", "table": "bluegreen-state",
                                         "fallback_directory": ".bluegreen"}
