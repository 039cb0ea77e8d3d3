"""What a new user meets first: the demo, the README's commands, the tool's own image."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bluegreen.cli.main import main
from bluegreen.specfiles.reference import readme_section, spec_reference

from ci_env import IN_CI
from deploy_helpers import REPO, seeded, seeding_aws, write_spec

README = (REPO / "README.md").read_text()


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    return subprocess.run([sys.executable, "-c", "from bluegreen.cli.main import run; run()", "demo", *args],
                          capture_output=True, text=True, timeout=180, env=env, cwd=REPO)


def test_demo_deploys_a_new_version_to_green_through_every_gate():
    result = run_demo()

    assert result.returncode == 0, result.stderr
    assert "traffic switched: 100% on green" in result.stdout
    assert "live color: green" in result.stdout
    assert re.search(r"succeeded\s+deploy\s+blue->green", result.stdout)
    if os.environ.get("BLUEGREEN_REQUIRE_DOCKER") == "1":  # CI: the image is really built and pushed
        assert "building demo:v2" in result.stdout


def test_demo_with_fail_rolls_back_to_blue_and_exits_1():
    result = run_demo("--fail")

    assert result.returncode == 1, result.stderr
    assert "traffic restored" in result.stdout
    assert "live color: blue" in result.stdout
    assert re.search(r"rolled-back\s+deploy\s+blue->green .*alarm in ALARM: demo-5xx", result.stdout)


def test_readme_spec_reference_is_the_one_generated_from_the_models():
    assert readme_section(README) == spec_reference()


def readme_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line]


def test_readme_opens_with_the_demo_and_the_test_command():
    assert readme_commands()[:2] == ["./scripts/demo", "./scripts/test"]
    ci = (REPO / ".ci" / "run").read_text()
    assert ci.rstrip().endswith("exec ./scripts/test")


def externally_managed_python() -> Path | None:
    """A stock distribution python3 marked EXTERNALLY-MANAGED (PEP 668), as on Debian 12 / Ubuntu 23.04+."""
    system = Path("/usr/bin/python3")
    if not system.exists():
        return None
    probe = subprocess.run([str(system), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                           capture_output=True, text=True)
    marked = probe.returncode == 0 and (Path(probe.stdout.strip()) / "EXTERNALLY-MANAGED").exists()
    return system if marked else None


def copy_of_the_checkout(target: Path) -> Path:
    """The tracked files as they are in the working tree (a fresh clone, without its history)."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_scripts_demo_on_a_stock_externally_managed_python_makes_its_own_venv(tmp_path):
    """The README's first command, as a newcomer runs it: only the system python3 on PATH (PEP 668)."""
    python = externally_managed_python()
    if python is None:
        message = "no PEP 668-marked /usr/bin/python3 (Debian 12: apt-get install python3 python3-venv)"
        if IN_CI:
            raise AssertionError(message)
        pytest.skip(message)
    checkout = copy_of_the_checkout(tmp_path / "bluegreen")
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           # the user's pip cache only saves downloads; what gets installed is decided as on a fresh machine
           "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")}
    for name in ("DOCKER_HOST", "BLUEGREEN_REGISTRY"):  # the engine scripts/test started, when there is one
        if name in os.environ:
            env[name] = os.environ[name]

    result = subprocess.run(["./scripts/demo"], capture_output=True, text=True, timeout=900, cwd=checkout, env=env)

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "created the project's virtual environment in .venv" in result.stdout
    assert "traffic switched: 100% on green" in result.stdout
    assert "run it as .venv/bin/bluegreen" in result.stdout
    venv_python = checkout / ".venv" / "bin" / "python"
    assert subprocess.run([str(venv_python), "-c", "import sys; assert sys.prefix != sys.base_prefix"]).returncode == 0
    assert not any(Path("/usr/lib/python3/dist-packages").glob("bluegreen*"))  # nothing went into the system python


def test_scripts_say_in_one_line_which_package_gives_venv_when_python_has_none(tmp_path):
    """With python3 and git alone (no python3-venv), the first command prints the fix and exits non-zero."""
    checkout = copy_of_the_checkout(tmp_path / "bluegreen")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    python3 = fake_bin / "python3"  # a python whose `-m venv` fails as Debian's does without ensurepip
    python3.write_text(f"""#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  echo "The virtual environment was not created successfully because ensurepip is not available." >&2
  exit 1
fi
exec {getattr(sys, "_base_executable", sys.executable)} "$@"
""")
    python3.chmod(0o755)
    env = {"PATH": f"{fake_bin}:/usr/bin:/bin", "HOME": str(tmp_path)}

    for script in ("./scripts/demo", "./scripts/test"):
        result = subprocess.run([script], capture_output=True, text=True, timeout=60, cwd=checkout, env=env)

        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "install python3-venv" in lines[0], result.stderr
        assert not (checkout / ".venv").exists()


def test_every_bluegreen_command_in_the_readme_runs_in_order_against_the_emulator(aws, workdir, placer, capsys):
    for name in ("web", "worker", "legacy", "api"):
        seeded(aws.endpoint_url, write_spec(workdir, name))
    from bluegreen.local.seed import put_image

    put_image(seeding_aws("us-east-1", aws.endpoint_url), "web", "v3")
    (workdir / "schema").mkdir()
    commands = [c for c in readme_commands() if c.startswith("bluegreen ")]
    assert len(commands) >= 10

    for command in commands:
        words = shlex.split(command.replace('"$GIT_COMMIT"', "v2"))[1:]
        target = None
        if ">" in words:
            target, words = Path(words[words.index(">") + 1]), words[: words.index(">")]
        code = main(words)
        out = capsys.readouterr()
        assert code == 0, f"{command} exited {code}: {out.err}"
        if target:
            target.write_text(out.out)

    assert "succeeded" in out.out and "rolled-back" in out.out  # history: deploy, rollback, deploy


def test_the_tools_image_is_consistent_with_the_package(docker_engine):
    """Builds the image when its base image is on the engine; here (no pulls) checks it against pyproject."""
    dockerfile = (REPO / "Dockerfile").read_text()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert all(base.startswith("python:3.11") for base in bases)  # requires-python >=3.11
    assert project["requires-python"] == ">=3.11"
    assert 'ENTRYPOINT ["bluegreen"]' in dockerfile and "bluegreen" in project["scripts"]
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.M)  # non-root
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M):
        for path in source.split():
            assert (REPO / path).exists(), f"Dockerfile copies {path}, which is not in the repository"
    try:
        docker_engine.images.get(bases[0])
    except Exception:
        return  # no base image on this engine and none can be pulled: the checks above are what we can do
    image, _ = docker_engine.images.build(path=str(REPO), tag="bluegreen-selftest:latest", rm=True)
    assert docker_engine.containers.run(image.id, ["--version"], remove=True).decode().startswith("bluegreen")
