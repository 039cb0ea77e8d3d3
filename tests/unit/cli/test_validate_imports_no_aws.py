"""`bluegreen validate` never loads the AWS SDK or the planner's AWS side: it starts as fast as the spec models allow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PROBE = """\
import contextlib, io, json, sys
from bluegreen.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(["validate", "deployments/"])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore", "docker", "moto")
               or m.startswith(("bluegreen.adapters", "bluegreen.discovery", "bluegreen.planning", "bluegreen.execution")))
print(json.dumps({"code": code, "heavy": heavy}))
"""


def test_validate_imports_neither_boto3_nor_the_aws_side_of_the_planner():
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(REPO)}, timeout=120)

    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, run.stderr
    assert result["heavy"] == []
