"""Hostile spec input never escapes "exit 2": every refusal is one `path:line:col: field: message`
line, with no traceback and nothing contacted in AWS, through the real command line.

The first three are what a tester found: deep nesting (RecursionError, exit 1), a 5,000-digit
integer (ValueError, exit 1) and a named pipe given as a spec (`validate` hung forever).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bluegreen.specfiles.loader import MAX_DEPTH, MAX_SPEC_BYTES

REPO = Path(__file__).resolve().parent.parent
PROBLEM_LINE = re.compile(r"^(?P<path>[^\n]+?):(?P<line>\d+):(?P<col>\d+): (?P<field>[^:\n]+): (?P<message>.+)$")
SUMMARY_LINE = re.compile(r"^error: \d+ problem\(s\) in the specs$")
VALID = (REPO / "deployments" / "api.yaml").read_text(encoding="utf-8")


def bluegreen(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess; AWS_ENDPOINT_URL points at a closed loopback port, so any AWS call
    would fail loudly instead of being silently answered."""
    env = {**os.environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("BLUEGREEN_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "bluegreen", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def problems(result: subprocess.CompletedProcess[str]) -> list[re.Match[str]]:
    """Every stderr line, parsed; fails if any line is not a problem line (or the count summary)."""
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if not SUMMARY_LINE.match(line)]
    parsed = [PROBLEM_LINE.match(line) for line in lines]
    assert lines and all(parsed), result.stderr
    return parsed  # type: ignore[return-value]


def refused(result: subprocess.CompletedProcess[str]) -> list[re.Match[str]]:
    assert result.returncode == 2, (result.returncode, result.stderr)
    return problems(result)


# --- what the tester found ----------------------------------------------------------------


def test_nesting_500_levels_deep_is_refused_at_the_limit_with_exit_2(tmp_path):
    (tmp_path / "deep.yaml").write_text("service: " + "[" * 500 + "]" * 500 + "\n")

    [problem] = refused(bluegreen("validate", "deep.yaml", cwd=tmp_path))

    assert problem["path"] == "deep.yaml" and problem["line"] == "1"
    assert problem["field"].startswith("service[0][0]")  # the field, then where inside it
    assert f"nested deeper than {MAX_DEPTH} levels" in problem["message"]


def test_deep_block_style_nesting_is_refused_too(tmp_path):
    lines = [f"{'  ' * i}k{i}:" for i in range(400)]
    (tmp_path / "deep.yaml").write_text("service: web\nextra:\n" + "\n".join("  " + line for line in lines) + " 1\n")

    [problem] = refused(bluegreen("validate", "deep.yaml", cwd=tmp_path))

    assert f"nested deeper than {MAX_DEPTH} levels" in problem["message"]
    assert int(problem["line"]) == MAX_DEPTH + 2  # the first level past the limit, not the end of the file


def test_a_5000_digit_integer_is_refused_with_exit_2(tmp_path):
    text = VALID.replace("step_percent: 25", "step_percent: " + "9" * 5000)
    (tmp_path / "huge.yaml").write_text(text)

    found = refused(bluegreen("validate", "huge.yaml", cwd=tmp_path))

    assert any("too large" in p["message"] for p in found)
    line = next(p for p in found if "too large" in p["message"])
    assert "9" * 5000 in text.splitlines()[int(line["line"]) - 1]


def test_a_named_pipe_given_as_a_spec_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")

    [problem] = refused(bluegreen("validate", "pipe.yaml", cwd=tmp_path, timeout=20))

    assert problem["path"] == "pipe.yaml" and problem["field"] == "(file)"
    assert "named pipe" in problem["message"] and "not a regular file" in problem["message"]


# --- not regular files, wherever they are found ----------------------------------------------


def test_a_socket_a_device_and_a_directory_given_as_a_spec_are_refused(tmp_path):
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "sock.yaml"))
    try:
        for target, kind in (("sock.yaml", "socket"), ("/dev/null", "character device")):
            [problem] = refused(bluegreen("validate", target, cwd=tmp_path, timeout=20))
            assert problem["path"] == target and kind in problem["message"]
    finally:
        listener.close()
    (tmp_path / "deployments").mkdir()
    (tmp_path / "deployments" / "web.yaml").write_text(VALID)

    [problem] = refused(bluegreen("deploy", "deployments", cwd=tmp_path, timeout=20))

    assert problem["path"] == "deployments" and "a directory" in problem["message"]
    assert "give one spec file" in problem["message"]


def test_not_regular_files_found_by_listing_a_directory_are_refused_and_the_rest_still_checked(tmp_path):
    specs = tmp_path / "deployments"
    specs.mkdir()
    (specs / "api.yaml").write_text(VALID)
    os.mkfifo(specs / "pipe.yaml")
    (specs / "old.yaml").mkdir()
    os.mkfifo(tmp_path / "elsewhere")
    (specs / "link.yaml").symlink_to(tmp_path / "elsewhere")
    (specs / "dangling.yml").symlink_to(tmp_path / "missing.yaml")
    (specs / "notes").mkdir()  # not named like a spec: not a spec, not a problem

    found = refused(bluegreen("validate", "deployments", cwd=tmp_path, timeout=20))

    by_file = {Path(p["path"]).name: p["message"] for p in found}
    assert sorted(by_file) == ["dangling.yml", "link.yaml", "old.yaml", "pipe.yaml"]
    assert "named pipe" in by_file["pipe.yaml"]
    assert "a directory" in by_file["old.yaml"]
    assert "symlink" in by_file["link.yaml"] and "named pipe" in by_file["link.yaml"]
    assert "symlink" in by_file["dangling.yml"] and "nothing" in by_file["dangling.yml"]


def test_a_spec_larger_than_the_limit_is_refused_without_reading_it_all(tmp_path):
    (tmp_path / "big.yaml").write_text(VALID + "#" * (MAX_SPEC_BYTES + 10) + "\n")

    [problem] = refused(bluegreen("validate", "big.yaml", cwd=tmp_path))

    assert problem["field"] == "(file)" and "larger than the 256 KiB" in problem["message"]


# --- every YAML failure is a problem line --------------------------------------------------


@pytest.mark.parametrize("text,where,words", [
    ("service: web\nregion: [\n", (3, 1), "invalid YAML"),
    ("service: web\nregion: \x00\n", (2, 9), "invalid YAML"),
    ("service: web\nbad: !!python/object/apply:os.system [echo]\n", (2, 6), "python/object"),
    ("service: web\nimage: !!set {a, b}\n", (2, 8), "tag"),
    ("service: web\nimage: &a [*a]\n", (2, 8), "anchors"),
    ("service: web\nregion: .nan\n", (2, 9), "finite"),
    ("service: web\nregion: 1.0e+999\n", (2, 9), "finite"),
    ("service: web\nwhen: 2001-13-45\n", (2, 7), "date"),
    ("service: web\nblob: !!binary 'a'\n", (2, 7), "binary"),
    ("service: web\nflag: !!bool maybe\n", (2, 7), "!!bool"),
    ("service: web\nport: !!python/name:os.system ''\n", (2, 7), "python/name"),
    ("service: web\nregion: \"\\ud800\"\n", (2, 9), "surrogate"),
    ("service: web\n\"\\udc00\": 1\n", (2, 1), "surrogate"),
    ("service: web\nimage: !!python/object/new:os.system {}\n", (2, 8), "python/object"),
    ("service: web\n? [complex, key]\n: 1\n", (2, 3), "plain text"),
])
def test_every_yaml_failure_is_one_problem_line_with_exit_2(tmp_path, text, where, words):
    (tmp_path / "odd.yaml").write_text(text, encoding="utf-8")

    found = refused(bluegreen("validate", "odd.yaml", cwd=tmp_path))

    matching = [p for p in found if words in p["message"]]
    assert matching, [p.group(0) for p in found]
    assert (int(matching[0]["line"]), int(matching[0]["col"])) == where


def test_bytes_that_are_not_utf8_are_refused_at_their_line(tmp_path):
    (tmp_path / "latin1.yaml").write_bytes(b"service: web\ndescription: caf\xe9\n")

    [problem] = refused(bluegreen("validate", "latin1.yaml", cwd=tmp_path))

    assert (problem["line"], problem["col"]) == ("2", "17") and "UTF-8" in problem["message"]


@pytest.mark.parametrize("field, says", [("bake: " + "9" * 400 + "s", "at most 366d"), ("bake: 367d", "at most 366d"),
                                         ("bake: " + "9" * 30, "number too large")])
def test_a_duration_past_a_year_or_too_long_to_be_a_number_is_refused_at_its_line(tmp_path, field, says):
    path = tmp_path / "web.yaml"
    assert "\n  bake: 2m\n" in VALID
    path.write_text(VALID.replace("\n  bake: 2m\n", f"\n  {field}\n"))

    [problem] = refused(bluegreen("validate", "web.yaml", cwd=tmp_path, timeout=20))

    assert problem["field"] == "health.bake" and says in problem["message"]
