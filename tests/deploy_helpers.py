"""Helpers for deployment tests: a working directory with fast specs, seeded infrastructure, the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from bluegreen.adapters.aws.session import Aws
from bluegreen.local.seed import put_image, seed
from bluegreen.local.seed_extras import Extras
from bluegreen.specfiles.loader import load_spec

REPO = Path(__file__).resolve().parent.parent

FAST = {"deadline": "8s", "interval": "200ms", "bake": "600ms"}
# AWS's own pace, for tests on the realistic emulator and its virtual clock (`clock` fixtures): a
# 10-minute deadline and 1-minute bakes cost milliseconds there, and tasks really take ~15 s to run
# and targets 30 s to pass their health checks.
REALISTIC = {"deadline": "10m", "interval": "10s", "bake": "1m"}

# Runs the real CLI, but SIGKILLs itself right after step number KILL_AFTER_STEP succeeds.
KILLER = """
import os, signal, sys
import bluegreen.execution.executor as executor
kill_after = int(os.environ["KILL_AFTER_STEP"])
original = executor.Executor.run_step
def run_step(self, step, *, index=None, rollback=False):
    result = original(self, step, index=index, rollback=rollback)
    if not rollback and index is not None and index + 1 >= kill_after:
        os.kill(os.getpid(), signal.SIGKILL)
    return result
executor.Executor.run_step = run_step
from bluegreen.cli.main import run
sys.argv = ["bluegreen"] + sys.argv[1:]
run()
"""


def write_spec(workdir: Path, name: str, *, timings: dict[str, str] = FAST, **overrides: Any) -> Path:
    """deployments/<name>.yaml with `timings` (short real waits by default) and any section
    overrides, written under workdir."""
    data = yaml.safe_load((REPO / "deployments" / f"{name}.yaml").read_text())
    data["health"] = {**data.get("health", {}), **timings}
    data.setdefault("rollback", {})["keep_blue_warm"] = "1s"
    data.pop("image", None)
    data["image"] = {"repository": name}
    for section, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(section), dict):
            data[section] = {**data[section], **value}
        else:
            data[section] = value
    path = workdir / "deployments" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def engines() -> dict[str, Any]:
    """The examples AWS's own engines deploy, and how (their worlds need the realistic emulator)."""
    from bluegreen.local.seed_controlled import CodeDeploySeed, NativeSeed

    return {"checkout": NativeSeed(), "billing": CodeDeploySeed()}


_SEEDERS: dict[tuple[str, str], Aws] = {}


def seeding_aws(region: str, endpoint: str) -> Aws:
    """One `Aws` per emulator and region for this worker's seeding: its clients cost ~10 ms of CPU
    each to make, a seed needs seven, and seeding neither keeps state in it nor changes its clients."""
    if (region, endpoint) not in _SEEDERS:
        _SEEDERS[(region, endpoint)] = Aws(region, endpoint_url=endpoint)
    return _SEEDERS[(region, endpoint)]


def recorded_calls(monkeypatch: Any) -> list[tuple[str, str, str]]:
    """(service, region, action) of every request the in-process emulator answers from now on, in order
    (moto's own record: what reached AWS, whichever client made it)."""
    from moto.core.responses import BaseResponse

    calls: list[tuple[str, str, str]] = []
    original = BaseResponse.call_action

    def recording(self: Any) -> Any:
        calls.append((self.service_name, self.region, self._get_action()))
        return original(self)

    monkeypatch.setattr(BaseResponse, "call_action", recording)
    return calls


def seeded(aws_endpoint: str, path: Path, *, live_color: str = "blue", extras: Extras | None = None,
           engine: Any = None) -> dict[str, Any]:
    """Seed what the spec refers to (image v1 live, with `extras` around the weights) and push a
    second image v2 to deploy."""
    spec = load_spec(path).spec
    aws = seeding_aws(spec.region, aws_endpoint)
    result = seed(aws, spec, live_color=live_color, image_tag="v1", deregistration_delay=1, extras=extras,
                  engine=engine)
    digest = put_image(aws, spec.image.repository, "v2")
    return {"seed": result, "v2": digest, "spec": spec}


def run_cli(*args: str, env: dict[str, str] | None = None, killer: int | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    code = KILLER if killer is not None else "import sys; from bluegreen.cli.main import run; sys.argv=['bluegreen']+sys.argv[1:]; run()"
    full_env = dict(env or {})
    if killer is not None:
        full_env["KILL_AFTER_STEP"] = str(killer)
    import os

    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **full_env})


def deploy_until_step_starts(path: Path, step: str) -> subprocess.Popen[str]:
    """A `deploy --events json` in a subprocess, returned once it has started `step` (still running)."""
    process = subprocess.Popen([sys.executable, "-c", "from bluegreen.cli.main import run; run()", "deploy", str(path),
                                "--image-tag", "v2", "--events", "json"], stdout=subprocess.PIPE, text=True)
    for line in process.stdout:  # type: ignore[union-attr]
        if "step.started" in line and f'"step": "{step}"' in line:
            return process
    raise AssertionError(f"the deploy ended before step {step} started (exit {process.wait()})")


def listener_weights(elbv2: Any, load_balancer: str, port: int) -> dict[str, int]:
    lb = elbv2.describe_load_balancers(Names=[load_balancer])["LoadBalancers"][0]["LoadBalancerArn"]
    listener = next(l for l in elbv2.describe_listeners(LoadBalancerArn=lb)["Listeners"] if l["Port"] == port)
    forward = next(a for a in listener["DefaultActions"] if a["Type"] == "forward")  # after any authenticate action
    groups = forward["ForwardConfig"]["TargetGroups"]
    return {g["TargetGroupArn"].split("/")[1]: g["Weight"] for g in groups}


def json_events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def copy_examples(workdir: Path) -> None:
    shutil.copytree(REPO / "deployments", workdir / "deployments", dirs_exist_ok=True)
