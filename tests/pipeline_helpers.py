"""Reading the CI examples and running what they run: `bluegreen` lines in-process, shell blocks in bash.

`examples/Jenkinsfile`, `examples/github-pr-plan.yml` and `examples/github-deploy.yml` are read as text;
every `bluegreen ...` line of their `sh '...'` / `script: '''...'''` and `run: |` blocks is extracted (a
line continued with a backslash is joined), its variables are substituted and it runs through
`bluegreen.cli.main.main`. Whole shell blocks, and `examples/bluegreen-ci.sh`, run in bash the way the CI
runs them, with `bluegreen` and `python3` on PATH being this interpreter and this worktree's code.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deploy_helpers import REPO

EXAMPLES = REPO / "examples"
JENKINSFILE = EXAMPLES / "Jenkinsfile"
PR_WORKFLOW = EXAMPLES / "github-pr-plan.yml"
DEPLOY_WORKFLOW = EXAMPLES / "github-deploy.yml"
CI_SCRIPT = EXAMPLES / "bluegreen-ci.sh"
SHELL_OPERATORS = {">", ">>", "<", "|", "||", "&&", ";", "2>", "2>&1", "&"}
RUN_URL = "https://jenkins.example.com/job/web/job/main/42/"  # BUILD_URL of "this" build in the tests


@dataclass(frozen=True)
class Command:
    line: str  # as written, e.g. bluegreen deploy "$SPEC" --image-tag "$GIT_COMMIT" ...
    where: str  # the Jenkins stage, or the GitHub job:step name
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


def joined_lines(script: str) -> list[str]:
    """Shell lines with backslash continuations joined (`\\\\` in Groovy source is one backslash)."""
    out: list[str] = []
    pending = ""
    for raw in script.splitlines():
        line = raw.strip()
        continued = line.endswith("\\")
        line = line.rstrip("\\").rstrip()
        pending = f"{pending} {line}".strip() if pending else line
        if not continued:
            out.append(pending)
            pending = ""
    return out + ([pending] if pending else [])


# --- the Jenkinsfile ---------------------------------------------------------------------------------------

_SH_SCRIPT = re.compile(r"""(?:\bscript:\s*|\bsh\s+)(?P<q>'''|\"\"\"|'|")(?P<body>.*?)(?P=q)""", re.S)
JENKINS_SECTIONS = [("plan", "stage('plan')"), ("build", "stage('build')"), ("deploy", "stage('deploy')"),
                    ("approve", "stage('approve')"), ("promote", "stage('promote')"), ("post", "unsuccessful {"),
                    ("settled()", "boolean settled(")]


def block(text: str, header: str) -> tuple[int, int]:
    """Span of the body of the first `header {...}` block (braces balanced)."""
    start = text.index(header)
    open_at = text.index("{", start + len(header) - 1)
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return open_at, i
    raise ValueError(f"unbalanced braces after {header}")


def section(text: str, header: str) -> str:
    return text[slice(*block(text, header))]


def jenkins_scripts(text: str) -> list[tuple[str, str, int]]:
    """(where, script, position) of every `sh` script in the Jenkinsfile."""
    spans = {name: block(text, header) for name, header in JENKINS_SECTIONS}
    out = []
    for match in _SH_SCRIPT.finditer(text):
        where = next((name for name, (a, b) in spans.items() if a < match.start() < b), "?")
        out.append((where, match.group("body").replace("\\\\\n", "\\\n"), match.start()))
    return out


def jenkins_commands(text: str) -> list[Command]:
    return [Command(line, where, position) for where, script, position in jenkins_scripts(text)
            for line in joined_lines(script) if line.startswith("bluegreen ")]


# --- the GitHub workflows ---------------------------------------------------------------------------------


def workflow(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if True in data:  # YAML 1.1 reads the key `on` as the boolean true
        data["on"] = data.pop(True)
    return data


def workflow_commands(data: dict[str, Any]) -> list[Command]:
    out = []
    for job_name, job in data["jobs"].items():
        for i, step in enumerate(job["steps"]):
            for line in joined_lines(str(step.get("run", ""))):
                if line.startswith("bluegreen "):
                    out.append(Command(line, f"{job_name}:{step.get('name', f'step {i}')}", i))
    return out


def step(data: dict[str, Any], job: str, *, name: str | None = None, id: str | None = None) -> dict[str, Any]:
    steps = data["jobs"][job]["steps"]
    return next(s for s in steps if (id is not None and s.get("id") == id)
                or (name is not None and str(s.get("name", "")).startswith(name)))


def uses(data: dict[str, Any]) -> list[str]:
    return [str(s["uses"]) for job in data["jobs"].values() for s in job.get("steps", []) if "uses" in s]


# --- running shell the way CI does ---------------------------------------------------------------------------


def tool_path(directory: Path) -> str:
    """A PATH whose `bluegreen` and `python3` are this interpreter (so this worktree's code runs)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, command in (("bluegreen", f'exec "{sys.executable}" -m bluegreen "$@"'),
                          ("python3", f'exec "{sys.executable}" "$@"')):
        (directory / name).write_text(f"#!/bin/sh\n{command}\n")
        (directory / name).chmod(0o755)
    return f"{directory}:{os.environ['PATH']}"


def install_ci_script(workdir: Path) -> Path:
    """examples/bluegreen-ci.sh where the examples expect it: ci/bluegreen-ci.sh."""
    target = workdir / "ci" / "bluegreen-ci.sh"
    target.parent.mkdir(exist_ok=True)
    shutil.copy2(CI_SCRIPT, target)
    return target


def bash(script: str, cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A script as GitHub runs `shell: bash` (errexit, pipefail) and Jenkins runs `sh` (bash here)."""
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd,
                          capture_output=True, text=True, env={**os.environ, **env}, timeout=timeout)


def settle_env(workdir: Path, **env: str) -> dict[str, str]:
    """What the examples give `ci/bluegreen-ci.sh settle` for this build (polling quickly here)."""
    install_ci_script(workdir)
    return {"SPEC": "deployments/web.yaml", "RUN_URL": RUN_URL, "SETTLE_POLL_SECONDS": "0.2",
            "PATH": tool_path(workdir / ".tools"), **env}


def settle(workdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return bash("ci/bluegreen-ci.sh settle", workdir, settle_env(workdir, **env), timeout=180)


def readme_state_block() -> dict[str, Any]:
    """The `state:` block the README's "In CI" section tells CI users to put in their specs."""
    readme = (REPO / "README.md").read_text()
    ci = readme[readme.index("## In CI"):]
    ci = ci[:ci.index("\n## ", 1)]
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", ci, re.S)]
    return next(b["state"] for b in blocks if isinstance(b, dict) and "state" in b)
