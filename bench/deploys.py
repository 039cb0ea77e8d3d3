"""One ECS task-definition deploy by bluegreen and by fabfuel's ecs-deploy, on the same seeded service.

Both run as their own processes against moto (in its own process) through the counting proxy, so
their calls are named and counted the same way: setup (reads before the first change), changes
(every write), polling (reads after the first change). The warm rollback is timed from process start
to exit, next to the floor the issue sets: a bare Python importing boto3, making the two clients the
rollback needs, and making two calls.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterable

from bench.wire import CREDENTIALS, REPO, LatencyProxy, MotoProcess

SPEC = """\
service: worker
region: us-east-1
strategy: ecs-task-definition-swap
image: {repository: worker}
platform:
  ecs: {cluster: prod, service: worker, container: worker}
traffic:
  target_group: worker
health:
  checks: [ecs-steady-state, target-health, alarms]
  alarms: [worker-dlq-depth]
  deadline: 2m
  interval: 2s
  bake: 6s
"""
WEB = """\
service: web
region: us-east-1
image: {repository: web}
platform:
  ecs: {cluster: prod, services: {blue: web-blue, green: web-green}, container: web}
traffic:
  routes: [{load_balancer: web-alb, port: 80, blue_target_group: web-blue, green_target_group: web-green}]
shift: {mode: all-at-once}
health: {alarms: [web-5xx], deadline: 2m, interval: 1s, bake: 1s}
rollback: {keep_blue_warm: 30m}
"""
READS = ("Describe", "List", "Get", "BatchGet")
GATES = 3  # SPEC's health checks: ecs-steady-state, target-health, alarms
ROLLBACK_RUNS = 3  # the shared machine's load swings within seconds: the median of 3 paired runs
FLOOR = ("import boto3; s = boto3.Session(); e = s.client('ecs', endpoint_url={u!r}); "
         "l = s.client('elbv2', endpoint_url={u!r}); e.list_clusters(); l.describe_load_balancers()")


def split(order: list[str]) -> dict[str, int]:
    """Setup / changes / polling from the calls in order."""
    first = next((i for i, op in enumerate(order) if not op.startswith(READS)), len(order))
    changes = sum(1 for op in order if not op.startswith(READS))
    return {"setup": first, "changes": changes, "polling": len(order) - first - changes, "total": len(order)}


def run_child(argv: list[str], env: dict, cwd: Path) -> tuple[float, int, int, str]:
    """Seconds, exit code, peak RSS (KiB) of one child process, and its output."""
    rss_file = Path(tempfile.mkstemp(prefix="bg-bench-rss-")[1])
    # /usr/bin/time measures the child alone (a child forked from this process would count its pages too).
    argv = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *argv]
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = process.stdout.read()  # type: ignore[union-attr]
    process.wait()
    seconds = time.perf_counter() - start
    lines = rss_file.read_text().split()
    rss_file.unlink()
    return seconds, process.returncode, int(lines[-1]) if lines else 0, out


def _seed(moto: MotoProcess, workdir: Path, name: str = "worker") -> str:
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.local.seed import put_image, seed
    from bluegreen.specfiles.loader import load_spec

    moto.reset()
    aws = Aws("us-east-1", endpoint_url=moto.endpoint_url)
    result = seed(aws, load_spec(workdir / "deployments" / f"{name}.yaml").spec, image_tag="v1",
                  deregistration_delay=1)
    put_image(aws, name, "v2")
    return result.repository_uri


def measure(ecs_deploy: Path | None) -> dict:
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.local.emulator import TaskPlacer

    os.environ.update(CREDENTIALS)
    moto = MotoProcess(running=1)
    proxy = LatencyProxy(moto.endpoint_url)
    workdir = Path(tempfile.mkdtemp(prefix="bg-bench-deploy-"))
    (workdir / "deployments").mkdir()
    (workdir / "deployments" / "worker.yaml").write_text(SPEC)
    (workdir / "deployments" / "web.yaml").write_text(WEB)
    env = {**os.environ, **CREDENTIALS, "PYTHONPATH": str(REPO), "AWS_ENDPOINT_URL": proxy.endpoint_url,
           "BLUEGREEN_CACHE_DIR": str(workdir / "cache")}  # moto's ARNs are this run's only
    bluegreen = [sys.executable, "-m", "bluegreen.local.harness"]
    results: dict = {}
    try:
        with TaskPlacer(Aws("us-east-1", endpoint_url=moto.endpoint_url), interval=0.1):
            uri = _seed(moto, workdir)
            proxy.reset_counts()
            seconds, code, rss, out = run_child([*bluegreen, "deploy", "worker", "--image-tag", "v2"], env, workdir)
            results["bluegreen"] = _deploy_result(proxy, seconds, code, rss, out)
            deploy_seconds = seconds
            rollbacks, floors = [], []
            for _ in range(ROLLBACK_RUNS):  # each rollback paired with a floor run: the same load on both
                rollbacks.append(_warm_rollback(moto, proxy, workdir, env, bluegreen))
                seconds, code, rss, out = run_child([sys.executable, "-c", FLOOR.format(u=proxy.endpoint_url)], env,
                                                    workdir)
                floors.append({"seconds": seconds, "code": code, "out": out, "rss_mib": rss / 1024})
            results["rollback"] = {**rollbacks[-1], "seconds": _median(r["seconds"] for r in rollbacks),
                                   "first_call_s": _median(r["first_call_s"] for r in rollbacks)}
            results["floor"] = {**floors[-1], "seconds": _median(f["seconds"] for f in floors)}
            if ecs_deploy is not None:
                _seed(moto, workdir)
                proxy.reset_counts()
                seconds, code, rss, out = run_child(
                    [str(ecs_deploy), "deploy", "prod", "worker", "--image", "worker", f"{uri}:v2", "--timeout", str(round(deploy_seconds))],
                    env, workdir)
                results["ecs-deploy"] = _deploy_result(proxy, seconds, code, rss, out)
    finally:
        proxy.stop()
        moto.stop()
    return results


def measure_realistic() -> dict:
    """Calls of the first and the next td deploy from one machine on the realistic emulator (a world on a
    clock 100x real time), where ECS runs the new revision's tasks as AWS does: the next deploy reads the
    revision from the local cache, and the roles its running tasks prove (plain moto runs none)."""
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.local.clock import ScaledClock
    from bluegreen.local.seed import put_image

    os.environ.update(CREDENTIALS)
    clock = ScaledClock(100).environment()
    moto = MotoProcess(running=0, clock=clock)
    proxy = LatencyProxy(moto.endpoint_url)
    workdir = Path(tempfile.mkdtemp(prefix="bg-bench-realistic-"))
    (workdir / "deployments").mkdir()
    (workdir / "deployments" / "worker.yaml").write_text(SPEC)
    env = {**os.environ, **CREDENTIALS, **clock, "PYTHONPATH": str(REPO), "AWS_ENDPOINT_URL": proxy.endpoint_url,
           "BLUEGREEN_CACHE_DIR": str(workdir / "cache")}
    bluegreen = [sys.executable, "-m", "bluegreen.local.harness"]
    results: dict = {}
    try:
        _seed(moto, workdir)
        time.sleep(1.0)  # 100 s of the world's time: the seeded tasks run and their targets are healthy
        for key, tag in (("first", "v2"), ("next", "v3")):
            put_image(Aws("us-east-1", endpoint_url=moto.endpoint_url), "worker", tag)
            proxy.reset_counts()
            results[key] = _deploy_result(proxy, *run_child([*bluegreen, "deploy", "worker", "--image-tag", tag],
                                                            env, workdir))
            time.sleep(1.0)  # the old tasks drain and stop, as between two real deploys
    finally:
        proxy.stop()
        moto.stop()
    return results


def _warm_rollback(moto: MotoProcess, proxy: LatencyProxy, workdir: Path, env: dict, bluegreen: list[str]) -> dict:
    """`bluegreen rollback web` right after a deploy of web left blue warm: seconds, calls, first call."""
    _seed(moto, workdir, "web")
    seconds, code, rss, out = run_child([*bluegreen, "deploy", "web", "--image-tag", "v2"], env, workdir)
    if code != 0:
        raise SystemExit(f"the web deploy failed: {out[-800:]}")
    proxy.reset_counts()
    started = time.monotonic()
    seconds, code, rss, out = run_child([sys.executable, "-m", "bluegreen", "rollback", "web"], env, workdir)
    return {"seconds": seconds, "code": code, "calls": len(proxy.order), "rss_mib": rss / 1024,
            "first_call_s": proxy.times[0] - started if proxy.times else float("nan"), "out": out,
            "ops": list(proxy.order)}


def _median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def _deploy_result(proxy: LatencyProxy, seconds: float, code: int, rss: int, out: str) -> dict:
    calls = split(list(proxy.order))
    times = list(proxy.times)
    first_change = calls["setup"] + 1
    waiting = times[-1] - times[first_change - 1] if len(times) > first_change else 0.0
    return {**calls, "seconds": seconds, "code": code, "rss_mib": rss / 1024, "out": out[-2000:],
            "poll_rate": calls["polling"] / waiting if waiting > 0 else 0.0, "ops": list(proxy.order)}

NOTE = ("td deploy: the same seeded ECS service (2 tasks, 1 target group, 1 alarm), both tools as processes "
        "through the counting proxy. moto never runs the tasks of a new revision, which ecs-deploy waits for, so "
        "ecs-deploy gets a --timeout equal to bluegreen's whole deploy: its polling is counted over the same wait "
        "(and its exit code is 1). Warm rollback floor: a bare python importing boto3, making the ecs and elbv2 "
        "clients and 2 calls; rollback and floor are the medians of 3 runs, each floor run right after its rollback. "
        "The realistic rows run the same deploy twice on the realistic emulator (its world on a clock 100x real "
        "time), where ECS runs the new revision's tasks.")
