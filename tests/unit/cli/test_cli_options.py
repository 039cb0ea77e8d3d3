"""The command line's conventions, checked over every command: help everywhere, paired flags, one
meaning per flag spelling, and start-up that loads only what a command needs."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Iterator

import click
import pytest

from bluegreen import __version__
from bluegreen.cli import options
from bluegreen.cli.main import cli

REPO = Path(__file__).resolve().parents[3]


def commands() -> Iterator[tuple[str, click.Command]]:
    """The group itself and every command under it, by the name a user types."""
    yield "bluegreen", cli
    for name, command in sorted(cli.commands.items()):
        yield f"bluegreen {name}", command


def help_text(name: str, command: click.Command) -> str:
    """The command's --help, rendered wide so no line wraps."""
    ctx = click.Context(command, info_name=name, terminal_width=400, max_content_width=400)
    return command.get_help(ctx)


def help_entry(text: str, start: str) -> str:
    """One option's entry in a help text: its line, and the indented lines that continue it."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.lstrip().startswith(start))
    rest = []
    for line in lines[first + 1:]:
        if not line.strip() or line.lstrip().startswith("-") and len(line) - len(line.lstrip()) <= 4:
            break
        rest.append(line)
    return " ".join(part.strip() for part in [lines[first], *rest])


def user_params(command: click.Command) -> list[click.Parameter]:
    """Parameters a user sets (not --help/--version, which act and exit)."""
    return [p for p in command.params if p.expose_value or not p.is_eager]


def yes_no_flags(command: click.Command) -> list[click.Option]:
    return [p for p in user_params(command) if isinstance(p, click.Option) and p.is_bool_flag]


ALL = list(commands())
IDS = [name for name, _ in ALL]


def test_every_command_is_still_there_under_its_old_name():
    assert set(cli.commands) == {"validate", "schema", "plan", "build", "deploy", "promote", "abort", "rollback",
                                 "resume", "finalize", "status", "history", "unlock", "iam-policy", "demo", "init"}


@pytest.mark.parametrize("name, command", ALL, ids=IDS)
def test_every_option_has_help(name, command):
    missing = [p.opts[0] for p in command.params if isinstance(p, click.Option) and not (p.help or "").strip()]

    assert not missing, f"{name}: options without help: {missing}"


@pytest.mark.parametrize("name, command", ALL, ids=IDS)
def test_every_argument_has_help_and_it_is_shown(name, command):
    text = help_text(name, command)
    for param in command.params:
        if isinstance(param, click.Argument):
            assert isinstance(param, options.Argument), f"{name}: {param.name} is a plain click argument"
            assert param.help.strip()
            assert re.search(rf"^\s+{re.escape(param.shown_as)}\s+{re.escape(param.help)}$", text, re.M), text


@pytest.mark.parametrize("name, command", ALL, ids=IDS)
def test_every_yes_no_flag_is_a_pair_with_its_default_shown(name, command):
    text = help_text(name, command)
    for flag in yes_no_flags(command):
        spelled = flag.opts[0][2:]
        assert flag.opts == [f"--{spelled}"] and flag.secondary_opts == [f"--no-{spelled}"], flag.opts
        assert flag.show_default is True
        default = spelled if flag.default else f"no-{spelled}"
        assert f"[default: {default}]" in help_entry(text, f"--{spelled} / --no-{spelled}")


def test_the_flags_the_pipelines_use_are_pairs():
    flags = {f.opts[0] for _, command in ALL for f in yes_no_flags(command)}

    assert {"--pause-before-shift", "--wait-finalize", "--build", "--detailed-exitcode", "--offline", "--now",
            "--force", "--plan-only", "--explain", "--fail", "--keep"} <= flags


def test_a_flag_spelling_means_the_same_thing_in_every_command():
    meanings: dict[str, set[tuple[object, ...]]] = defaultdict(set)
    for _, command in ALL:
        for param in user_params(command):
            if isinstance(param, click.Option):
                meanings[param.opts[0]].add((param.name, param.is_flag, tuple(param.secondary_opts), param.metavar,
                                             type(param.type).__name__))
    differing = {spelling: found for spelling, found in meanings.items() if len(found) > 1}

    assert not differing, differing


def test_events_and_wait_finalize_have_one_definition():
    """Same choices, default and help wherever they appear: they come from options.py."""
    for spelling in ("--events", "--wait-finalize"):
        seen = [p for _, command in ALL for p in command.params
                if isinstance(p, click.Option) and p.opts[0] == spelling]
        described = {(tuple(getattr(p.type, "choices", ())), p.default, p.help) for p in seen}
        assert len(seen) >= 3 and len(described) == 1, (spelling, described)
    events = next(p for p in cli.commands["deploy"].params if p.name == "events_mode")
    assert tuple(events.type.choices) == ("plain", "json") and events.default == "plain"


def test_registry_is_read_from_its_environment_variable_and_says_so():
    registry = next(p for p in cli.params if p.name == "registry")
    text = help_text("bluegreen", cli)

    assert registry.envvar == "BLUEGREEN_REGISTRY"
    assert re.search(r"--registry HOST:PORT .*\[env var: BLUEGREEN_REGISTRY; default: \(ECR's registry\)\]", text)


def test_python_m_bluegreen_prints_the_version():
    result = subprocess.run([sys.executable, "-m", "bluegreen", "--version"], capture_output=True, text=True,
                            cwd=REPO, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"bluegreen, version {__version__}"


def imported(argv: list[str]) -> set[str]:
    code = "import sys; from bluegreen.cli.main import main; raise SystemExit(main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *argv], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


PLAN_MACHINERY = ("bluegreen.planning", "bluegreen.discovery", "bluegreen.execution", "bluegreen.state",
                  "bluegreen.adapters", "bluegreen.app.session", "bluegreen.app.deploy", "bluegreen.app.recovery", "bluegreen.app.plans", "bluegreen.domain.plan",
                  "bluegreen.domain.steps", "bluegreen.local", "boto3", "botocore", "docker", "moto")


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["deploy", "--help"]], ids=" ".join)
def test_help_and_version_load_no_pydantic_and_no_plan_machinery(argv):
    modules = imported(argv)

    assert "bluegreen.cli.main" in modules  # the measurement itself worked
    assert not {m for m in modules if m.split(".")[0] == "pydantic" or m.startswith(PLAN_MACHINERY)}


def test_validate_loads_the_spec_models_but_no_plan_machinery():
    modules = imported(["validate", "deployments/"])

    assert "bluegreen.specfiles.loader" in modules
    assert not {m for m in modules if m.startswith(PLAN_MACHINERY)}
