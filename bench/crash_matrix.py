"""Crash matrix: kill -9 a deploy at a uniformly random moment, recover it, and check what AWS looks like.

    python -m bench.crash_matrix                       # 30 trials per strategy
    python -m bench.crash_matrix --trials 6 --strategies ecs-task-definition-swap --seed 3
    python -m bench.crash_matrix --steps-only          # kill moments drawn from the steps alone

For each strategy (the example specs web, worker, legacy and api, seeded by `bluegreen.local.seed`)
one uncut deploy measures how long a deploy takes (D). Each trial then seeds a fresh emulator, starts
`bluegreen deploy` in a subprocess, SIGKILLs it after a delay drawn uniformly from [0, D] (so inside
steps and AWS calls, and in start-up and discovery too; with --steps-only from the time after the
first step started, as long as the steps of the uncut deploy took), and runs `bluegreen rollback` (even trials)
or `bluegreen resume` (odd trials). The end state is read from the emulator directly, right after
the recovery exits and again once ECS, the target groups and Auto Scaling have settled:

    one color       production is 100% on one color (listener weights, the attached group, the DNS
                    weights; for a task-definition swap: one revision)
    runs, healthy   that color runs its desired count (>= 1) and has healthy targets
    lock free       the service's lock is released
    exit matches    the recovery's exit code says what happened: 0 from rollback = production on the
                    old version; 0 from resume = where the record says (finished: new, rolled back: old);
                    1 = rolled back and on the old version; 3 = a person must look (counted apart);
                    2 or 4 after a crash never match

The emulator is the realistic one (ECS tasks start, targets pass health checks, instances boot,
targets drain) on a clock 200x faster than real time, shared with the CLI subprocesses.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

STRATEGIES = {"ecs-target-group-swap": "web", "ecs-task-definition-swap": "worker", "asg-swap": "legacy",
              "dns-cutover": "api", "ecs-native": "checkout", "ecs-codedeploy": "billing"}
# Which pair of target groups is which color, for the services AWS's own engines deploy.
ENGINE_PAIRS = {"checkout": {"checkout": "blue", "checkout-alt": "green"},
                "billing": {"billing": "blue", "billing-2": "green"}}
WAITS = {"health": {"deadline": "10m", "interval": "5s", "bake": "30s"}, "rollback": {"keep_blue_warm": "30m"}}
OVERRIDES = {"api": {"shift": {"mode": "linear", "step_percent": 50, "interval": "30s"}}}
SETTLE_SECONDS = 1.0  # real seconds: 200 s of the world's time at 200x


# --- the emulator ------------------------------------------------------------------------------------


class Emulator:
    """moto's server in this process, the realistic world on a scaled clock, and the CLI's environment."""

    def __init__(self, scale: float) -> None:
        from moto.server import ThreadedMotoServer

        from bluegreen.local.clock import ScaledClock
        from bluegreen.local.emulator import patch_moto

        patch_moto()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.clock = ScaledClock(scale)
        self.world: Any = None
        self.env = {**os.environ, **self.clock.environment(), "AWS_ENDPOINT_URL": self.endpoint,
                    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
                    "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "PYTHONPATH": str(REPO)}
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            self.env.pop(name, None)
        os.environ.update({k: self.env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")})

    def fresh(self) -> None:
        """An empty AWS and a new world (tasks, health, instances) on the same clock."""
        import logging

        from bluegreen.local import world as worlds

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"),
                               timeout=30).close()
        if self.world is not None:
            worlds.deactivate(self.world)
        self.world = worlds.activate(worlds.World(self.clock))

    def aws(self) -> Any:
        from bluegreen.adapters.aws.session import Aws

        return Aws("us-east-1", endpoint_url=self.endpoint)

    def stop(self) -> None:
        self.server.stop()


def write_spec(directory: Path, name: str) -> Path:
    import yaml

    data = yaml.safe_load((REPO / "deployments" / f"{name}.yaml").read_text())
    data["image"] = {"repository": name}
    for section, value in {**WAITS, **OVERRIDES.get(name, {})}.items():
        data[section] = {**data.get(section, {}), **value}
    path = directory / "deployments" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class Watched:
    """A deploy's JSON events, read as they come (so the pipe never fills), and the moment its first step began."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        import threading

        self.process, self.lines = process, []
        self.first_step = threading.Event()
        self.stepped_at = 0.0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.lines.append(line)
            if not self.first_step.is_set() and '"step.started"' in line:
                self.stepped_at = time.monotonic()
                self.first_step.set()
        self.first_step.set()  # ended without a step: nobody waits for ever

    def output(self) -> str:
        self._reader.join(timeout=30)
        return "".join(self.lines)


def cli(emulator: Emulator, *args: str, workdir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bluegreen.local.harness", *args], cwd=workdir, env=emulator.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# --- reading the end state ----------------------------------------------------------------------------


@dataclass
class EndState:
    live: str | None  # "blue" / "green", or the revision of a task-definition swap
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.live is not None and not self.problems


def _healthy(aws: Any, target_group: str, ids: set[str] | None = None) -> int:
    elb = aws.client("elbv2")
    arn = elb.describe_target_groups(Names=[target_group])["TargetGroups"][0]["TargetGroupArn"]
    found = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    return sum(d["TargetHealth"]["State"] == "healthy" and (ids is None or d["Target"]["Id"] in ids) for d in found)


def _service(aws: Any, name: str) -> dict[str, Any]:
    return aws.client("ecs").describe_services(cluster="prod", services=[name])["services"][0]


def _one_of(shares: dict[str, int], where: str, state: EndState) -> str | None:
    live = [color for color, weight in shares.items() if weight > 0]
    if len(live) != 1:
        state.problems.append(f"{where} splits traffic {shares}")
        return None
    return live[0]


def _ecs_color(aws: Any, service: str, target_group: str, state: EndState) -> None:
    found = _service(aws, service)
    if not (found["desiredCount"] >= 1 and found["runningCount"] >= 1):
        state.problems.append(f"{service} runs {found['runningCount']}/{found['desiredCount']}")
    if _healthy(aws, target_group) < 1:
        state.problems.append(f"{target_group} has no healthy target")


def engine(name: str) -> Any:
    """How AWS deploys the example itself (None: bluegreen moves its traffic)."""
    from bluegreen.local.seed_controlled import CodeDeploySeed, NativeSeed

    return {"checkout": NativeSeed(), "billing": CodeDeploySeed()}.get(name)


def _engine_state(aws: Any, name: str, state: EndState) -> None:
    """Production on one of the pair (ECS's production rule, CodeDeploy's production listener), healthy."""
    elb = aws.client("elbv2")
    found = _service(aws, name)
    if name == "checkout":
        rule = found["loadBalancers"][0]["advancedConfiguration"]["productionListenerRule"]
        actions = elb.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"]
    else:
        lb = elb.describe_load_balancers(Names=[f"{name}-alb"])["LoadBalancers"][0]["LoadBalancerArn"]
        actions = next(x for x in elb.describe_listeners(LoadBalancerArn=lb)["Listeners"]
                       if x["Port"] == 80)["DefaultActions"]
    forward = next(a for a in actions if a["Type"] == "forward")
    pair = ENGINE_PAIRS[name]
    shares = {pair[g["TargetGroupArn"].split("/")[1]]: g.get("Weight", 1)
              for g in forward["ForwardConfig"]["TargetGroups"]}
    color = _one_of(shares, f"production of {name}", state)
    if color:
        serving = next(tg for tg, c in pair.items() if c == color)
        if _healthy(aws, serving) < 1:
            state.problems.append(f"{serving} has no healthy target")
    state.live = color


def end_state(aws: Any, name: str) -> EndState:
    state = EndState(live=None)
    if name in ENGINE_PAIRS:
        _engine_state(aws, name, state)
    elif name == "web":
        elb = aws.client("elbv2")
        lb = elb.describe_load_balancers(Names=["web-alb"])["LoadBalancers"][0]["LoadBalancerArn"]
        listener = next(x for x in elb.describe_listeners(LoadBalancerArn=lb)["Listeners"] if x["Port"] == 80)
        forward = next(a for a in listener["DefaultActions"] if a["Type"] == "forward")
        shares = {g["TargetGroupArn"].split("/")[1].rsplit("-", 1)[-1]: g.get("Weight", 1)
                  for g in forward["ForwardConfig"]["TargetGroups"]}
        color = _one_of(shares, "listener web-alb:80", state)
        if color:
            _ecs_color(aws, f"web-{color}", f"web-{color}", state)
        state.live = color
    elif name == "worker":
        found = _service(aws, "worker")
        if len(found["deployments"]) != 1:
            state.problems.append(f"worker runs {len(found['deployments'])} revisions at once")
        _ecs_color(aws, "worker", "worker", state)
        state.live = found["taskDefinition"]
    elif name == "legacy":
        groups = aws.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=["legacy-blue", "legacy-green"])["AutoScalingGroups"]
        tg = aws.client("elbv2").describe_target_groups(Names=["legacy"])["TargetGroups"][0]["TargetGroupArn"]
        attached = {g["AutoScalingGroupName"].rsplit("-", 1)[-1]: g for g in groups
                    if tg in g.get("TargetGroupARNs", []) and g["DesiredCapacity"] > 0}
        color = _one_of({c: 1 if c in attached else 0 for c in ("blue", "green")}, "target group legacy", state)
        if color:
            ids = {i["InstanceId"] for i in attached[color]["Instances"] if i["LifecycleState"] == "InService"}
            if not ids or _healthy(aws, "legacy", ids) < 1:
                state.problems.append(f"legacy-{color} has no healthy InService instance")
        state.live = color
    elif name == "api":
        zone = aws.client("route53").list_hosted_zones_by_name(DNSName="example.com.")["HostedZones"][0]["Id"]
        records = aws.client("route53").list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
        shares = {r["SetIdentifier"]: r.get("Weight", 0) for r in records
                  if r["Name"].rstrip(".") == "api.example.com" and "SetIdentifier" in r}
        color = _one_of(shares, "api.example.com", state)
        if color:
            _ecs_color(aws, f"api-{color}", f"api-{color}", state)
        state.live = color
    return state


# --- one trial ----------------------------------------------------------------------------------------


@dataclass
class Trial:
    strategy: str
    recovery: str
    killed: bool
    deploy_exit: int | None
    moment: str  # where the deploy was: "start-up", "step 7/15 (set-weights)", ...
    recovery_exit: int
    record_status: str | None
    immediate: EndState
    settled: EndState
    lock_free: bool
    old: str
    new: str

    @property
    def exit_matches(self) -> bool:
        code, live = self.recovery_exit, self.settled.live
        if code == 3:
            return True  # "a person must look" claims nothing: counted apart
        if code == 1:
            return live == self.old and self.record_status == "rolled-back"
        if code == 0 and self.recovery == "rollback":
            return live == self.old
        if code == 0:
            finished = self.record_status in ("keeping-warm", "succeeded")
            return live == (self.new if finished else self.old)
        if code == 2 and self.recovery == "resume":  # nothing to resume: the deployment had ended
            return self.record_status in ("keeping-warm", "succeeded", "rolled-back")
        return False

    @property
    def ok(self) -> bool:
        return self.settled.ok and self.lock_free and self.exit_matches and self.recovery_exit != 3


def _moment(stdout: str) -> str:
    last = None
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event", "").endswith(".started") and event.get("step"):
                last = event
            elif event.get("event", "").endswith((".succeeded", ".failed")) and last \
                    and event.get("step") == last.get("step"):
                last = {**last, "done": True}
    if last is None:
        return "before the first step"
    return f"{'after' if last.get('done') else 'inside'} {last['step']}"


def one_trial(emulator: Emulator, strategy: str, window: tuple[float, float], index: int, rng: random.Random,
              *, steps_only: bool = False) -> Trial:
    from bluegreen.local.seed import put_image, seed
    from bluegreen.specfiles.loader import load_spec
    from bluegreen.state.local import LocalStore

    name = STRATEGIES[strategy]
    emulator.fresh()
    workdir = Path(tempfile.mkdtemp(prefix=f"bg-crash-{name}-"))
    path = write_spec(workdir, name)
    spec = load_spec(path).spec
    aws = emulator.aws()
    seed(aws, spec, deregistration_delay=30, engine=engine(name))
    put_image(aws, spec.image.repository, "v2")
    old = _service(aws, "worker")["taskDefinition"] if name == "worker" else "blue"

    deploy = cli(emulator, "deploy", str(path), "--image-tag", "v2", "--events", "json", workdir=workdir)
    watched = Watched(deploy)
    if steps_only:  # a moment uniformly drawn from the deploy's steps: after start-up and discovery
        watched.first_step.wait(timeout=300)
        delay = rng.uniform(0.0, window[1])
    else:  # a moment uniformly drawn from the whole run, start-up and discovery included
        delay = rng.uniform(0.0, window[0])
    try:
        deploy.wait(timeout=delay)
        killed = False
    except subprocess.TimeoutExpired:
        deploy.send_signal(signal.SIGKILL)
        killed = True
    deploy.wait()
    out = watched.output()
    recovery = "rollback" if index % 2 == 0 else "resume"
    done = cli(emulator, recovery, name, "--events", "json", workdir=workdir)
    done.communicate(timeout=300)
    immediate = end_state(aws, name)
    time.sleep(SETTLE_SECONDS)
    settled = end_state(aws, name)
    store = LocalStore(workdir / ".bluegreen")
    record = store.current(name)
    new = "green" if name != "worker" else next(
        (d["taskDefinition"] for d in _service(aws, "worker")["deployments"] if d["taskDefinition"] != old), "?")
    if name == "worker" and record is not None:
        new = _registered(store, name, record) or new
    return Trial(strategy=strategy, recovery=recovery, killed=killed, deploy_exit=None if killed else deploy.returncode,
                 moment=_moment(out) if killed else "finished", recovery_exit=done.returncode,
                 record_status=record.get("status") if record else None, immediate=immediate, settled=settled,
                 lock_free=store.read(name) is None, old=old, new=new)


def _registered(store: Any, name: str, record: dict[str, Any]) -> str | None:
    """The revision the deploy registered (its journal), so `resume` finishing on it can be recognised."""
    deployment_id = record.get("id") or record.get("deployment_id")
    return next((e.get("output") for e in store.entries(name, deployment_id)
                 if e.get("event") == "step.succeeded" and e.get("step") == "register-task-definition"), None)


def calibrate(emulator: Emulator, strategy: str) -> tuple[float, float]:
    """Seconds one uncut deploy takes: from its start, and from its first step."""
    from bluegreen.local.seed import put_image, seed
    from bluegreen.specfiles.loader import load_spec

    name = STRATEGIES[strategy]
    emulator.fresh()
    workdir = Path(tempfile.mkdtemp(prefix=f"bg-crash-{name}-"))
    path = write_spec(workdir, name)
    spec = load_spec(path).spec
    seed(emulator.aws(), spec, deregistration_delay=30, engine=engine(name))
    put_image(emulator.aws(), spec.image.repository, "v2")
    started = time.monotonic()
    deploy = cli(emulator, "deploy", str(path), "--image-tag", "v2", "--events", "json", workdir=workdir)
    watched = Watched(deploy)
    deploy.wait(timeout=600)
    ended = time.monotonic()
    if deploy.returncode != 0:
        raise SystemExit(f"{strategy}: the uncut deploy exited {deploy.returncode}; nothing to measure\n"
                         f"{watched.output()}{deploy.stderr.read()}")  # type: ignore[union-attr]
    return ended - started, ended - watched.stepped_at


# --- the table ------------------------------------------------------------------------------------------


def table(trials: list[Trial], windows: dict[str, tuple[float, float]], steps_only: bool) -> str:
    header = ("strategy", "D s", "trials", "killed", "rb/res", "1 color now", "1 color settled", "lock free",
              "exit ok", "exit 3", "all ok", "exits")
    rows = [header]
    for strategy in windows:
        mine = [t for t in trials if t.strategy == strategy]
        exits = Counter(f"{t.recovery[:3]}={t.recovery_exit}" for t in mine)
        rows.append((strategy, f"{windows[strategy][1 if steps_only else 0]:.1f}", str(len(mine)), str(sum(t.killed for t in mine)),
                     f"{sum(t.recovery == 'rollback' for t in mine)}/{sum(t.recovery == 'resume' for t in mine)}",
                     str(sum(t.immediate.ok for t in mine)), str(sum(t.settled.ok for t in mine)),
                     str(sum(t.lock_free for t in mine)), str(sum(t.exit_matches for t in mine)),
                     str(sum(t.recovery_exit == 3 for t in mine)), str(sum(t.ok for t in mine)),
                     " ".join(f"{k}:{v}" for k, v in sorted(exits.items()))))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)


def failures(trials: list[Trial]) -> list[str]:
    out = []
    for t in trials:
        if not t.ok:
            out.append(f"{t.strategy} {t.recovery} killed={t.killed} at {t.moment}: exit {t.recovery_exit}, "
                       f"record {t.record_status}, live {t.settled.live}, problems now {t.immediate.problems} "
                       f"settled {t.settled.problems}, lock free {t.lock_free}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30, help="trials per strategy (default 30)")
    parser.add_argument("--strategies", nargs="+", choices=sorted(STRATEGIES), default=list(STRATEGIES))
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill moments (default 1)")
    parser.add_argument("--scale", type=float, default=200.0, help="the world's clock speed-up (default 200)")
    parser.add_argument("--steps-only", action="store_true",
                        help="draw the kill moment from the deploy's steps only (after start-up and discovery)")
    parser.add_argument("--json", metavar="FILE", help="also write every trial to FILE")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    emulator = Emulator(args.scale)
    trials: list[Trial] = []
    windows: dict[str, tuple[float, float]] = {}
    try:
        for strategy in args.strategies:
            windows[strategy] = calibrate(emulator, strategy)
            for index in range(args.trials):
                trial = one_trial(emulator, strategy, windows[strategy], index, rng, steps_only=args.steps_only)
                trials.append(trial)
                print(f"{strategy} #{index + 1}: {trial.recovery} exit {trial.recovery_exit} after a kill "
                      f"{trial.moment}; {'ok' if trial.ok else 'NOT OK'}", file=sys.stderr, flush=True)
    finally:
        emulator.stop()
    print(f"kill moments drawn from {'the steps' if args.steps_only else 'the whole run'} (D: its length)")
    print(table(trials, windows, args.steps_only))
    for line in failures(trials):
        print(f"not ok: {line}")
    if args.json:
        Path(args.json).write_text(json.dumps([{**t.__dict__, "immediate": t.immediate.__dict__,
                                                 "settled": t.settled.__dict__} for t in trials], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
