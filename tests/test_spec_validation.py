"""How `bluegreen` treats spec files: good ones pass, broken ones are refused with file, line and field.

The broken specs live in tests/specs/invalid/, one near-miss of a real spec per file. The first line
of each says what the loader must report:

    # expect: <LINE> <field.path> <substring of the message>
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bluegreen.cli.main import main
from bluegreen.domain.durations import format_duration, parse_duration
from bluegreen.specfiles.loader import load_spec
from bluegreen.domain.spec import AllAtOnce, CanaryShift, LinearShift

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "deployments"
CORPUS = REPO / "tests" / "specs" / "invalid"
CHECKED_IN_SCHEMA = REPO / "schema" / "spec.schema.json"

# The installed `bluegreen` script calls bluegreen.cli.main:run; this is the same thing without relying on
# the script being on PATH (works on a fresh machine right after `pip install -e .`).
CLI = [sys.executable, "-c", "from bluegreen.cli.main import run; run()"]
HEAVY_MODULES = {"boto3", "botocore", "docker", "moto"}

_EXPECT = re.compile(r"^# expect: (?P<line>\d+) (?P<field>\S+) (?P<message>.+?)\s*$")
_PROBLEM = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<field>.+?): (?P<message>.+)$")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=REPO, capture_output=True, text=True, timeout=120)


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.yaml"))


def expectation(path: Path) -> re.Match[str]:
    first_line = path.read_bytes().split(b"\n", 1)[0].decode("ascii")
    match = _EXPECT.match(first_line)
    assert match, f"{path.name}: first line must be `# expect: <LINE> <field.path> <message>`"
    return match


def problem_lines(stderr: str) -> list[re.Match[str]]:
    return [m for m in map(_PROBLEM.match, stderr.splitlines()) if m]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# A valid ECS task-definition swap, the base of the hand-written near-misses below.
WORKER = """\
service: worker
region: us-east-1
image:
  repository: worker
platform:
  ecs:
    cluster: prod
    service: worker
    container: worker
traffic:
  target_group: worker
"""


# --- the examples are valid ---------------------------------------------------------------------


def test_every_example_in_deployments_is_valid(capsys):
    assert main(["validate", str(EXAMPLES)]) == 0

    out = capsys.readouterr().out
    for example in sorted(EXAMPLES.glob("*.yaml")):
        assert f"{example}: ok (" in out


# --- broken specs are refused, precisely --------------------------------------------------------


def test_the_corpus_of_broken_specs_is_large_and_says_what_to_expect():
    files = corpus_files()
    assert len(files) >= 30
    for path in files:
        expectation(path)


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.stem)
def test_broken_spec_is_refused_with_file_line_and_field(path: Path):
    expected = expectation(path)
    shown = str(path.relative_to(REPO))

    result = run_cli("validate", shown)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    prefix = f"{shown}:{expected['line']}:"
    reported = [line for line in result.stderr.splitlines() if line.startswith(prefix)]
    matching = [
        line for line in reported
        if (m := _PROBLEM.match(line))
        and m["field"] == expected["field"]
        and expected["message"] in m["message"]
    ]
    assert matching, (
        f"expected a line `{prefix}COL: {expected['field']}: ...{expected['message']}...`;"
        f" got:\n{result.stderr}"
    )
    # every problem line names this file, a line and a column
    for line in result.stderr.splitlines():
        assert line.startswith(f"{shown}:") or line.startswith("error: "), line


def test_validating_a_directory_of_broken_specs_names_every_file():
    shown = str(CORPUS.relative_to(REPO))

    result = run_cli("validate", shown)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    named = {Path(m["path"]).name for m in problem_lines(result.stderr)}
    assert named == {p.name for p in corpus_files()}
    assert re.search(r"^error: \d+ problem\(s\) in the specs$", result.stderr, re.M)


@pytest.mark.parametrize(
    "kind, text, expected",
    [
        pytest.param(
            "field rules",
            WORKER.replace("region: us-east-1", "region: us-east")
            + "helth:\n  bake: 1m\n"
            + "shift:\n  mode: linear\n  step_percent: 25\n  interval: 2 minutes\n",
            {("region", 2), ("helth", 12), ("shift.interval", 17)},
            id="field-rules",
        ),
        pytest.param(
            "cross-field rules",
            WORKER.replace("    service: worker\n", "")
            + "shift:\n  mode: linear\n"
            + "state:\n  backend: dynamodb\n",
            {("platform.ecs", 6), ("shift.step_percent", 11), ("state.table", 13)},
            id="cross-field-rules",
        ),
    ],
)
def test_all_problems_in_a_file_are_reported_at_once(tmp_path, capsys, kind, text, expected):
    path = write(tmp_path, "three-problems.yaml", text)

    assert main(["validate", str(path)]) == 2

    err = capsys.readouterr().err
    problems = problem_lines(err)
    assert {(m["field"], int(m["line"])) for m in problems} == expected, err
    assert len(problems) == 3
    assert "error: 3 problem(s) in the specs" in err


def test_problems_in_several_files_are_all_reported(tmp_path, capsys):
    bad_region = write(tmp_path, "a.yaml", WORKER.replace("us-east-1", "us-east"))
    bad_port = write(tmp_path, "b.yaml", WORKER.replace("worker", "web").replace(
        "  target_group: web\n",
        "  routes:\n    - load_balancer: web-alb\n      port: http\n"
        "      blue_target_group: web-blue\n      green_target_group: web-green\n",
    ))
    good = EXAMPLES / "web.yaml"

    assert main(["validate", str(bad_region), str(good), str(bad_port)]) == 2

    err = capsys.readouterr().err
    assert f"{bad_region}:2:1: region: " in err
    assert f"{bad_port}:13:7: traffic.routes[0].port: " in err
    assert str(good) not in err
    assert "error: 2 problem(s) in the specs" in err


def test_the_same_service_in_two_files_is_refused(tmp_path, capsys):
    first = write(tmp_path, "worker.yaml", WORKER)
    second = write(tmp_path, "worker-copy.yaml", WORKER)

    assert main(["validate", str(tmp_path)]) == 2

    err = capsys.readouterr().err
    assert f"service: service 'worker' is also defined in {second}" in err
    assert str(first) in err


def test_a_missing_path_is_invalid_input_not_a_crash(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


SECRET = "hunter2-s3cr3t"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            WORKER.replace(
                "    container: worker\n",
                f"    container: worker\n    environment:\n      DB_PASSWORD: {SECRET}\n"
                f"    secrets:\n      API_TOKEN: {SECRET}\n",
            ),
            id="literal-in-env-and-secrets",
        ),
        pytest.param(
            WORKER.replace(
                "    container: worker\n",
                f"    container: worker\n    secrets: [{SECRET}]\n    environment:\n"
                f"      STRIPE_API_KEY: {SECRET}\n      STRIPE_API_KEY: {SECRET}\n",
            ),
            id="wrong-type-and-duplicate-key",
        ),
        pytest.param(
            WORKER.replace(
                "    container: worker\n",
                f"    container: worker\n    secrets:\n      API_TOKEN: {{value: {SECRET}}}\n",
            ),
            id="mapping-instead-of-reference",
        ),
        pytest.param(
            WORKER.replace(
                "    container: worker\n",
                f'    container: worker\n    environment:\n      DB_PASSWORD: "{SECRET}\n',
            ),
            id="broken-yaml-on-the-secret-line",
        ),
        pytest.param(
            WORKER.replace(
                "    container: worker\n",
                f"    container: worker\n    environment:\n      DB_PASSWORD: {SECRET}: x\n",
            ),
            id="colon-in-the-secret",
        ),
    ],
)
def test_secret_values_never_appear_in_error_messages(tmp_path, text):
    path = write(tmp_path, "leaky.yaml", text)

    result = run_cli("validate", str(path))

    assert result.returncode == 2
    assert problem_lines(result.stderr), result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_recursive_yaml_alias_is_refused_without_a_traceback(tmp_path):
    path = write(tmp_path, "recursive.yaml", WORKER + "tags: &loop\n  self: *loop\n")

    result = run_cli("validate", str(path))

    assert "Traceback" not in result.stderr
    assert result.returncode == 2


# --- the JSON Schema ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict:
    result = run_cli("schema")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def validator(schema):
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_schema_validates_every_example(validator):
    examples = sorted(EXAMPLES.glob("*.yaml"))
    assert examples
    for example in examples:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(example.read_text()))]
        assert not errors, f"{example.name}: {errors}"


def test_checked_in_schema_matches_the_cli(schema):
    assert json.loads(CHECKED_IN_SCHEMA.read_text()) == schema, (
        "schema/spec.schema.json is stale: run `bluegreen schema > schema/spec.schema.json`"
    )


@pytest.mark.parametrize(
    "where, mutate",
    [
        ("top level", lambda d: d.update(imgae={"repository": "web"})),
        ("image", lambda d: d["image"].update(repo="web")),
        ("a route", lambda d: d["traffic"]["routes"][0].update(blue_targetgroup="web-blue")),
        ("health", lambda d: d["health"].update(helth="yes")),
    ],
)
def test_schema_rejects_an_example_with_an_unknown_field(validator, where, mutate):
    data = yaml.safe_load((EXAMPLES / "web.yaml").read_text())
    assert validator.is_valid(data)

    mutate(data)

    assert not validator.is_valid(data), f"unknown field in {where} accepted by the schema"


def test_schema_rejects_a_duration_written_in_words(validator):
    data = yaml.safe_load((EXAMPLES / "web.yaml").read_text())
    data["health"]["deadline"] = "5 minutes"

    assert not validator.is_valid(data)


# --- start-up stays light ---------------------------------------------------------------------


def imported_modules(importtime_stderr: str) -> set[str]:
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                names.add(name)
    return names


@pytest.mark.parametrize(
    "argv",
    [["--version"], ["--help"], ["validate", "deployments/"], ["schema"]],
    ids=" ".join,
)
def test_version_starts_without_importing_boto3_or_docker(argv):
    code = "import sys; from bluegreen.cli.main import main; raise SystemExit(main(sys.argv[1:]))"

    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *argv],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    modules = imported_modules(result.stderr)
    assert "bluegreen.cli" in modules  # the measurement itself worked
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY_MODULES)
    assert not heavy, f"`bluegreen {' '.join(argv)}` imported {heavy}"


# --- durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds",
    [("250ms", 0.25), ("30s", 30), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("2d", 172800),
     ("1.5s", 1.5), ("1m 30s", 90), (90, 90), (0.5, 0.5), (0, 0)],
)
def test_durations_are_read_as_seconds(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5 minutes", "-3s", "10", "", "1h30", "s", "5M", True, None, -1, [30]])
def test_durations_that_are_not_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0s"), (0.25, "250ms"), (1, "1s"), (90, "1m30s"), (300, "5m"), (3601, "1h1s"),
     (5400, "1h30m"), (86400, "24h")],
)
def test_durations_are_written_in_their_shortest_form(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["250ms", "1s", "30s", "1m30s", "5m", "1h", "1h30m", "1h1s", "24h"])
def test_durations_round_trip(text):
    assert format_duration(parse_duration(text)) == text


# --- the loaded model ---------------------------------------------------------------------------


def test_a_valid_spec_is_frozen():
    spec = load_spec(EXAMPLES / "web.yaml").spec

    with pytest.raises(ValidationError):
        spec.service = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        spec.health.bake = 1.0  # type: ignore[misc]
    assert spec.service == "web" and spec.health.bake == 120.0


def test_durations_in_a_loaded_spec_are_seconds_and_dump_as_text():
    spec = load_spec(EXAMPLES / "api.yaml").spec

    assert (spec.health.deadline, spec.shift.interval, spec.dns.ttl) == (600.0, 120.0, 60.0)
    assert spec.model_dump(mode="json")["rollback"]["keep_blue_warm"] == "24h"


@pytest.mark.parametrize(
    "shift, weights",
    [
        (CanaryShift(mode="canary", percentages=[10, 50, 100]), [10, 50, 100]),
        (LinearShift(mode="linear", step_percent=30), [30, 60, 90, 100]),
        (LinearShift(mode="linear", step_percent=25), [25, 50, 75, 100]),
        (LinearShift(mode="linear", step_percent=50), [50, 100]),
        (LinearShift(mode="linear", step_percent=100), [100]),
        (AllAtOnce(mode="all-at-once"), [100]),
        (AllAtOnce(), [100]),
    ],
)
def test_shift_weights_are_greens_share_after_each_step(shift, weights):
    assert shift.weights() == weights


def test_examples_shift_traffic_as_written():
    weights = {p.stem: load_spec(p).spec.shift.weights() for p in sorted(EXAMPLES.glob("*.yaml"))}

    assert weights == {
        "api": [25, 50, 75, 100],
        "billing": [100],  # `shift` is not used: CodeDeploy's deployment configuration moves the traffic
        "checkout": [100],  # nor here: the service's deploymentConfiguration does
        "legacy": [100],
        "web": [10, 50, 100],
        "worker": [100],
    }
