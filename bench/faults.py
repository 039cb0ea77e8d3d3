"""Deploys under injected AWS faults: what each run claimed, checked against what AWS holds.

    python bench/faults.py                       # 10 deploys per strategy and fault rate
    python bench/faults.py --deploys 3 --rates 0 0.4 --strategies ecs-task-definition-swap

Per strategy (the examples web, worker, legacy, api, checkout and billing, seeded by `bluegreen.local.seed`;
checkout as ECS's built-in blue/green and billing under CodeDeploy deploy them) and fault
rate, each deploy gets a fresh realistic emulator (moto in-process, the world on a virtual clock)
behind the fault proxy, which fails that share of every AWS call the product makes, split evenly
over HTTP 500, 503, throttling, a connection reset before the call reached AWS, one after AWS
applied it (the answer is lost) and a slow answer. `bluegreen deploy` runs in-process on the
virtual clock. The end state is then read from the emulator directly (not through the proxy):

    one color      production on one color: listener weights, the attached group, the DNS weights
                   (a task-definition swap: one revision), that color running and with healthy targets
    lock free      the service's lock released
    record         the deployment record's status
    exit matches   0: production on the new version (record keeping-warm or succeeded); 1: on the
                   old one, record rolled-back; 6: nothing changed, production on the old one;
                   3: claims nothing (counted as "exit 3 admitted"); 2 or 4 never match

A run is inconsistent when its exit code claims something the end state contradicts, or it leaves
the lock held or production on no single healthy color with exit 0 or 1.

Printed per strategy and rate: attempted, completed (0), rolled back (1), exit 3 admitted, exit 6,
inconsistent, AWS requests per deploy (each retry counted, at the proxy) and the retry share (the
requests beyond the product's own calls, over all requests).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
import tempfile
import time
import types
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import crash_matrix  # noqa: E402 - the examples' specs and the end-state reader

RATES = (0.0, 0.2, 0.4, 0.6)
SLOW_ANSWER = 0.05  # real seconds a slow answer is late


@dataclass
class Run:
    strategy: str
    rate: float
    exit: int | str
    record: str | None
    live: str | None
    problems: list[str]
    lock_free: bool
    old: str
    new: str
    requests: int
    calls: int
    faults: int
    notes: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not self.why_inconsistent()

    def why_inconsistent(self) -> list[str]:
        out = []
        if self.exit == 3:
            return out  # "a person must look" claims nothing about where traffic is
        if not self.lock_free:
            out.append("lock still held")
        if self.exit == 0:
            if self.problems or self.live != self.new:
                out.append(f"exit 0 but production on {self.live} ({'; '.join(self.problems) or 'not the new version'})")
            if self.record not in ("keeping-warm", "succeeded"):
                out.append(f"exit 0 with record {self.record}")
        elif self.exit in (1, 6):
            if self.problems or self.live != self.old:
                out.append(f"exit {self.exit} but production on {self.live} ({'; '.join(self.problems) or 'not the old version'})")
            if self.exit == 1 and self.record != "rolled-back":
                out.append(f"exit 1 with record {self.record}")
        else:
            out.append(f"exit {self.exit} is never right for a deploy that met AWS faults")
        return out


class Bench:
    """moto in this process, a world on a virtual clock, the fault proxy in front, the product on the clock."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        import botocore.endpoint

        from bluegreen.adapters.aws import session
        from bluegreen.local.clock import VirtualClock
        from bluegreen.local.emulator import patch_moto
        from bluegreen.local.faults import FaultProxy

        patch_moto()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.proxy = FaultProxy(self.endpoint, seed=0).start()
        os.environ.update({"AWS_ENDPOINT_URL": self.proxy.endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
                           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        # botocore's back-off between retries: virtual here too (the product's waits already are).
        botocore.endpoint.time = types.SimpleNamespace(sleep=lambda _s: None, time=time.time)  # type: ignore[attr-defined]
        self.clock = VirtualClock()
        self.world: Any = None
        self.product_calls = 0
        original = session.Aws._on_call

        def counted(aws: Any, model: Any, **kwargs: Any) -> None:
            self.product_calls += 1  # once per API call the product makes, whatever botocore retries
            original(aws, model, **kwargs)

        session.Aws._on_call = counted  # type: ignore[method-assign]

    def fresh(self) -> None:
        from bluegreen.local import world as worlds

        self.proxy.configure([])
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"),
                               timeout=30).close()
        if self.world is not None:
            worlds.deactivate(self.world)
        self.world = worlds.activate(worlds.World(self.clock))

    def direct(self) -> Any:
        from bluegreen.adapters.aws.session import Aws

        return Aws("us-east-1", endpoint_url=self.endpoint)

    def stop(self) -> None:
        self.proxy.stop()
        self.server.stop()


def one_deploy(bench: Bench, strategy: str, rate: float, index: int) -> Run:
    from bluegreen.cli.main import main
    from bluegreen.local.faults import mixed_faults
    from bluegreen.local.seed import put_image, seed
    from bluegreen.specfiles.loader import load_spec
    from bluegreen.state.local import LocalStore

    name = crash_matrix.STRATEGIES[strategy]
    bench.fresh()
    workdir = Path(tempfile.mkdtemp(prefix=f"bg-faults-{name}-"))
    os.chdir(workdir)
    path = crash_matrix.write_spec(workdir, name)
    aws = bench.direct()
    seed(aws, load_spec(path).spec, deregistration_delay=30, engine=crash_matrix.engine(name))
    put_image(aws, name, "v2")
    old = crash_matrix._service(aws, "worker")["taskDefinition"] if name == "worker" else "blue"
    bench.proxy.stats.reset()
    bench.product_calls = 0
    bench.proxy.configure(mixed_faults(rate, delay=SLOW_ANSWER), seed=1000 * index + int(rate * 100))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code: int | str = main(["deploy", str(path), "--image-tag", "v2"])
        except BaseException as error:  # noqa: BLE001 - a traceback is a finding, not a crash of the bench
            code = f"raised {type(error).__name__}"
    bench.proxy.configure([])
    requests, faults, calls = bench.proxy.stats.calls(), bench.proxy.stats.faults(), bench.product_calls
    state = crash_matrix.end_state(aws, name)
    store = LocalStore(workdir / ".bluegreen")
    record = store.current(name)
    new = "green"
    if name == "worker":
        new = (crash_matrix._registered(store, name, record) if record else None) or "?"
    notes = [line for line in out.getvalue().splitlines() if line.startswith("error:")][:1]
    return Run(strategy=strategy, rate=rate, exit=code, record=record.get("status") if record else None,
               live=state.live, problems=state.problems, lock_free=store.read(name) is None, old=old, new=new,
               requests=requests, calls=calls, faults=faults, notes=notes)


def table(runs: list[Run], strategies: list[str], rates: list[float]) -> str:
    header = ("strategy", "faults", "attempted", "completed", "rolled back", "exit 3", "exit 6", "inconsistent",
              "requests/deploy", "retry share", "faults injected")
    rows = [header]
    for strategy in strategies:
        for rate in rates:
            mine = [r for r in runs if r.strategy == strategy and r.rate == rate]
            if not mine:
                continue
            requests = sum(r.requests for r in mine)
            retries = sum(max(0, r.requests - r.calls) for r in mine)
            rows.append((strategy, f"{rate:.0%}", str(len(mine)), str(sum(r.exit == 0 for r in mine)),
                         str(sum(r.exit == 1 for r in mine)), str(sum(r.exit == 3 for r in mine)),
                         str(sum(r.exit == 6 for r in mine)), str(sum(not r.consistent for r in mine)),
                         f"{requests / len(mine):.0f}", f"{retries / requests:.1%}" if requests else "-",
                         str(sum(r.faults for r in mine))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deploys", type=int, default=10, help="deploys per strategy and rate (default 10)")
    parser.add_argument("--rates", type=float, nargs="+", default=list(RATES))
    parser.add_argument("--strategies", nargs="+", choices=sorted(crash_matrix.STRATEGIES),
                        default=list(crash_matrix.STRATEGIES))
    args = parser.parse_args()
    from bluegreen.local.clock import product_on

    bench = Bench()
    runs: list[Run] = []
    started = time.perf_counter()
    try:
        with product_on(bench.clock):
            for strategy in args.strategies:
                for rate in args.rates:
                    for index in range(args.deploys):
                        run = one_deploy(bench, strategy, rate, index)
                        runs.append(run)
                        verdict = "ok" if run.consistent else "INCONSISTENT: " + "; ".join(run.why_inconsistent())
                        print(f"{strategy} {rate:.0%} #{index + 1}: exit {run.exit}, record {run.record}, "
                              f"live {run.live}, {verdict} {' '.join(run.notes)[:300]}", file=sys.stderr, flush=True)
    finally:
        bench.stop()
    print(table(runs, args.strategies, args.rates))
    exits = Counter(str(r.exit) for r in runs)
    print(f"deploys {len(runs)}; inconsistent {sum(not r.consistent for r in runs)}; exits "
          + " ".join(f"{k}:{v}" for k, v in sorted(exits.items()))
          + f"; {time.perf_counter() - started:.0f}s real")
    for run in runs:
        if not run.consistent:
            print(f"inconsistent: {run.strategy} {run.rate:.0%} exit {run.exit}: {'; '.join(run.why_inconsistent())}")
    return 0 if all(r.consistent for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
