"""SERVICE means one thing everywhere (a name in deployments/ or one spec file), and the run context
is built once, from the flags and the environment, by the group."""

from __future__ import annotations

from typing import Any

import pytest

from bluegreen.cli.main import main
from bluegreen.errors import ExitCode
from bluegreen.state.local import LocalStore

from deploy_helpers import listener_weights, seeded, write_spec


def test_deploy_takes_a_service_name_like_every_other_command(aws, workdir, placer, capsys):
    web = seeded(aws.endpoint_url, write_spec(workdir, "web"))

    assert main(["deploy", "web", "--image-tag", "v2"]) == 0

    assert listener_weights(aws.client("elbv2"), "web-alb", 80) == {"web-blue": 0, "web-green": 100}
    latest = LocalStore(".bluegreen").history("web")[0]
    assert latest["result"] == "succeeded" and latest["image"] == f"{web['seed'].repository_uri}@{web['v2']}"
    assert main(["status", "web", "--format", "json"]) == 0
    assert '"live_color": "green"' in capsys.readouterr().out


def test_a_directory_is_not_a_service(workdir, capsys):
    write_spec(workdir, "web")
    write_spec(workdir, "worker")

    assert main(["deploy", "deployments", "--image-tag", "v2"]) == ExitCode.INVALID_INPUT
    assert "deployments:1:1: (file): a directory; give one spec file" in capsys.readouterr().err
    assert not (workdir / ".bluegreen").exists()  # refused before any lock was taken


def test_an_unknown_service_name_is_invalid_input(workdir, capsys):
    write_spec(workdir, "web")

    assert main(["rollback", "nope"]) == ExitCode.INVALID_INPUT
    assert "no spec for service 'nope' in deployments/" in capsys.readouterr().err


def test_unlock_without_force_changes_nothing(workdir, capsys):
    write_spec(workdir, "web")

    assert main(["unlock", "web"]) == ExitCode.INVALID_INPUT
    assert "unlock needs --force" in capsys.readouterr().err
    assert not (workdir / ".bluegreen").exists()


# --- from flags to the use case: what `deploy` hands over ------------------------------------------


@pytest.fixture
def handed_over(monkeypatch, workdir) -> list[dict[str, Any]]:
    """Replaces the deploy use case (our own boundary) with one that records what the CLI passed."""
    import bluegreen.app.deploy as operations

    calls: list[dict[str, Any]] = []

    def record(session: Any, **kwargs: Any) -> int:
        calls.append({"session": session, **kwargs})
        return 0

    monkeypatch.setattr(operations, "deploy", record)
    for name in ("BLUEGREEN_REGISTRY", "BUILD_URL", "GIT_COMMIT", "GITHUB_SHA", "GITHUB_RUN_ID", "CI_JOB_URL",
                 "CI_JOB_ID", "BUILD_TAG"):
        monkeypatch.delenv(name, raising=False)
    write_spec(workdir, "web")
    return calls


def test_paired_flags_reach_the_use_case_in_both_spellings(handed_over):
    assert main(["deploy", "web", "--image-tag", "v2", "--pause-before-shift", "--wait-finalize"]) == 0
    assert main(["deploy", "deployments/web.yaml", "--image-tag", "v2", "--no-pause-before-shift",
                 "--no-wait-finalize", "--no-build"]) == 0

    first, second = handed_over
    assert (first["pause_before_shift"], first["wait_finalize"], first["build"]) == (True, True, False)
    assert (second["pause_before_shift"], second["wait_finalize"], second["build"]) == (False, False, False)
    assert first["session"].spec.service == second["session"].spec.service == "web"
    assert first["image_tag"] == "v2" and first["plan_file"] is None


def test_registry_comes_from_the_environment_then_the_global_flag_then_the_commands_flag(handed_over, monkeypatch):
    assert main(["deploy", "web"]) == 0
    monkeypatch.setenv("BLUEGREEN_REGISTRY", "127.0.0.1:5001")
    assert main(["deploy", "web"]) == 0
    assert main(["--registry", "127.0.0.1:5002", "deploy", "web"]) == 0
    assert main(["--registry", "127.0.0.1:5002", "deploy", "web", "--registry", "127.0.0.1:5003"]) == 0

    registries = [call["registry"] for call in handed_over]
    assert registries == [None, "127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"]
    assert all(call["session"].ctx.registry == call["registry"] for call in handed_over)  # one run context


def test_the_run_context_knows_who_is_running_from_the_ci_environment(handed_over, monkeypatch):
    monkeypatch.setenv("BUILD_URL", "https://ci.example/job/web/42/")
    monkeypatch.setenv("GIT_COMMIT", "0123abc")

    assert main(["--region", "eu-west-1", "deploy", "web"]) == 0

    ctx = handed_over[0]["session"].ctx
    assert ctx.identity.ci_build == "https://ci.example/job/web/42/" and ctx.identity.git_commit == "0123abc"
    assert ctx.region_of(handed_over[0]["session"].spec) == "eu-west-1"


def test_build_without_an_image_tag_is_refused_before_anything_runs(handed_over, capsys):
    assert main(["deploy", "web", "--build"]) == ExitCode.INVALID_INPUT
    assert "--build needs --image-tag" in capsys.readouterr().err
    assert handed_over == []
