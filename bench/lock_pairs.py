"""Lock pairs: two deploys of one service started at the same moment on the DynamoDB backend; exactly
one may win, the other must exit 4 (locked) having changed nothing.

    python bench/lock_pairs.py                 # 20 pairs
    python bench/lock_pairs.py --pairs 5 --unserialised   # moto's own, non-atomic conditional writes

Each pair: a fresh emulator (moto in-process, the realistic world on a virtual clock, the examples'
`worker` task-definition swap seeded, its state in a DynamoDB table), then two threads released
by one barrier, each running `bluegreen deploy` in-process. Both also race on the lock item alone
(two `DynamoStore.acquire` released by a barrier), which hits the conditional write's window far
more often than whole deploys do.

Printed: pairs, deploy pairs with exactly one winner (one exit 0, one exit 4), the exit codes seen,
acquire races with exactly one winner, and the lock left free after each pair.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
import tempfile
import threading
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TABLE = "bluegreen-state"
RACES_PER_PAIR = 10


def start_server() -> tuple[Any, str]:
    from moto.server import ThreadedMotoServer

    from bluegreen.local.emulator import patch_moto

    patch_moto()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    return server, endpoint


def write_spec(directory: Path) -> Path:
    import yaml

    data = yaml.safe_load((REPO / "deployments" / "worker.yaml").read_text())
    data["image"] = {"repository": "worker"}
    data["health"] = {**data.get("health", {}), "deadline": "10m", "interval": "10s", "bake": "1m"}
    data["state"] = {"backend": "dynamodb", "table": TABLE, "directory": str(directory / ".bluegreen")}
    path = directory / "deployments" / "worker.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def simultaneously(*calls: Any) -> list[Any]:
    """Run `calls` on threads released by one barrier; their results (or exceptions) in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except BaseException as error:  # noqa: BLE001 - counted, not raised
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def acquire_races(endpoint: str) -> int:
    """Races on the lock item alone; how many had exactly one winner."""
    from bluegreen.adapters.aws.dynamo_store import DynamoStore
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.domain.identity import Identity
    from bluegreen.state.store import LockInfo

    won = 0
    for race in range(RACES_PER_PAIR):
        stores = [DynamoStore(Aws("us-east-1", endpoint_url=endpoint), TABLE) for _ in range(2)]
        service = f"race-{race}"
        infos = [LockInfo.create(service, f"{service}-d{i}", "deploy", Identity(user="ci", host=f"agent-{i}", pid=i))
                 for i in range(2)]
        outcomes = simultaneously(*(lambda s=s, i=i: s.acquire(i, lease_seconds=120) for s, i in zip(stores, infos)))
        winners = [o for o in outcomes if not isinstance(o, BaseException)]
        won += len(winners) == 1
    return won


def one_pair(endpoint: str, clock_world: Any) -> tuple[list[Any], bool, int]:
    from bluegreen.adapters.aws.dynamo_store import DynamoStore, ensure_table
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.cli.main import main
    from bluegreen.local.seed import put_image, seed
    from bluegreen.specfiles.loader import load_spec

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()
    clock_world()
    directory = Path(tempfile.mkdtemp(prefix="bg-lock-pair-"))
    path = write_spec(directory)
    aws = Aws("us-east-1", endpoint_url=endpoint)
    seed(aws, load_spec(path).spec, deregistration_delay=30)
    put_image(aws, "worker", "v2")
    ensure_table(aws, TABLE)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        exits = simultaneously(*(lambda: main(["deploy", str(path), "--image-tag", "v2"]) for _ in range(2)))
    races = acquire_races(endpoint)
    lock_free = DynamoStore(aws, TABLE).read("worker") is None
    return exits, lock_free, races


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--unserialised", action="store_true",
                        help="leave moto's conditional writes as they are (not atomic), for comparison")
    args = parser.parse_args()
    from bluegreen.local import dynamodb, world as worlds
    from bluegreen.local.clock import VirtualClock, product_on

    server, endpoint = start_server()
    clock = VirtualClock()
    state: dict[str, Any] = {}

    def fresh_world() -> None:
        if state.get("world") is not None:
            worlds.deactivate(state["world"])
        state["world"] = worlds.activate(worlds.World(clock))

    fresh_world()
    if args.unserialised:
        from moto.dynamodb.models import DynamoDBBackend

        for name in ("put_item", "update_item", "delete_item"):  # the originals, under the patch
            setattr(DynamoDBBackend, name, getattr(DynamoDBBackend, name).__wrapped__)
    exits_seen: Counter[str] = Counter()
    one_winner = free = races_won = 0
    try:
        with product_on(clock):
            for index in range(args.pairs):
                exits, lock_free, races = one_pair(endpoint, fresh_world)
                codes = sorted(e if isinstance(e, int) else type(e).__name__ for e in exits)
                exits_seen.update(str(c) for c in codes)
                winner = codes == [0, 4]
                one_winner += winner
                free += lock_free
                races_won += races
                print(f"pair {index + 1}: exits {codes}, lock free {lock_free}, acquire races with one winner "
                      f"{races}/{RACES_PER_PAIR}", file=sys.stderr, flush=True)
    finally:
        server.stop()
    print(f"conditional writes: {'moto as is (not atomic)' if args.unserialised else 'serialised per item'} "
          f"({dynamodb.__name__})")
    print(f"pairs {args.pairs}")
    print(f"deploy pairs with exactly one winner {one_winner}/{args.pairs}")
    print("exits " + " ".join(f"{code}:{n}" for code, n in sorted(exits_seen.items())))
    print(f"lock free after the pair {free}/{args.pairs}")
    print(f"acquire races with exactly one winner {races_won}/{args.pairs * RACES_PER_PAIR}")
    return 0 if one_winner == args.pairs else 1


if __name__ == "__main__":
    raise SystemExit(main())
