"""Property: whatever a spec file holds, `validate` and `plan --offline` end with exit 0 or 2, never a
traceback, and every problem is one `path:line:col: field: message` line.

The specs are the examples in deployments/, mutated by bluegreen/local/hostile.py (fields deleted,
duplicated, retyped and renamed; deep nesting, huge numbers, odd unicode, YAML tags such as
!!python/object, anchors and aliases, bytes that are not UTF-8). Bounded and derandomized, so CI
sees the same 100 specs every run; bench/hostile_specs.py runs 1,000 of them, against AWS too.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
import uuid
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bluegreen.cli.main import main
from bluegreen.local.hostile import hostile_spec

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = [p.read_text(encoding="utf-8") for p in sorted((REPO / "deployments").glob("*.yaml"))]
PROBLEM_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<field>[^:\n]+): (?P<message>.+)$")
SUMMARY_LINE = re.compile(r"^error: (?P<count>\d+) problem\(s\) in the specs$")
# AWS is a closed loopback port: an AWS call would fail loudly, never be answered.
NO_AWS = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "testing",
          "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile-specs")


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, NO_AWS), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        os.environ.pop("BLUEGREEN_DEBUG", None)
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def assert_problem_lines(path: Path, stderr: str) -> None:
    lines = stderr.splitlines()
    summary = [m for m in map(SUMMARY_LINE.match, lines) if m]
    problems = [m for m in map(PROBLEM_LINE.match, lines) if m]
    assert len(problems) + len(summary) == len(lines), stderr  # nothing but problem lines
    assert problems, stderr
    assert all(p["path"] == str(path) for p in problems), stderr
    assert all(int(p["line"]) >= 1 and int(p["col"]) >= 1 for p in problems), stderr
    if summary:
        assert int(summary[0]["count"]) == len(problems), stderr


@settings(max_examples=100, deadline=timedelta(seconds=10), derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rnd=st.randoms(use_true_random=False))
def test_hostile_specs_end_in_exit_0_or_2_with_one_line_per_problem(spec_dir, rnd):
    path = spec_dir / f"{uuid.uuid4().hex[:8]}.yaml"
    path.write_bytes(hostile_spec(rnd, EXAMPLES).data)

    validated, _, validate_err = run("validate", str(path))
    planned, _, plan_err = run("plan", "--offline", str(path))

    for stderr in (validate_err, plan_err):
        assert "Traceback" not in stderr and "unexpected error" not in stderr, stderr
    assert validated in (0, 2), validate_err
    assert planned in (0, 2), plan_err
    if validated == 2:
        assert_problem_lines(path, validate_err)
        assert planned == 2 and plan_err == validate_err  # the same refusal, before any planning
    else:
        assert validate_err == ""


def test_the_mutator_makes_valid_and_invalid_specs_of_every_example(spec_dir):
    """The property above is only worth something if both outcomes come up, from every example."""
    rnd = random.Random(0)
    for n, example in enumerate(EXAMPLES):
        outcomes = set()
        for i, hazard in enumerate(["plausible"] * 15 + [None] * 15):
            path = spec_dir / f"mix-{n}-{i}.yaml"
            path.write_bytes(hostile_spec(rnd, [example], hazard=hazard).data)
            code, _, err = run("validate", str(path))
            assert code in (0, 2), err
            outcomes.add(code)
        assert outcomes == {0, 2}, example.splitlines()[0]
