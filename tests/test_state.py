"""The state store: locks, journals, deployment records and history, on both backends.

Every behaviour test runs twice: on a local directory (tmp_path) and on DynamoDB (moto's server,
through the same `Aws` adapter the product uses). Races and SIGKILL use real processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
from pydantic import TypeAdapter, ValidationError

from bluegreen.errors import ExitCode, InvalidInput, LockHeld
from bluegreen.domain.spec import DynamoState, LocalState, State
from bluegreen.adapters.aws.dynamo_store import DynamoStore, ensure_table
from bluegreen.app.context import ci_build, identity_from
from bluegreen.app.stores import open_journal, open_store
from bluegreen.state.journal import JournalWriter
from bluegreen.state.lease import LockLease
from bluegreen.state.local import LocalStore
from bluegreen.state.store import LockInfo, Store

REPO = Path(__file__).resolve().parents[1]
TABLE = "bluegreen-state"


class FakeClock:
    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Backend:
    kind: str  # "local" or "dynamodb"
    location: str  # directory or table
    aws: Any = None

    def make(self, clock: Callable[[], float] = time.time) -> Store:
        if self.kind == "local":
            return LocalStore(self.location, clock=clock)
        return DynamoStore(self.aws, self.location, clock=clock)

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        return env

    def child_prelude(self) -> str:
        """Python source that builds `store` in a child process."""
        if self.kind == "local":
            return f"from bluegreen.state.local import LocalStore\nstore = LocalStore({self.location!r})\n"
        return ("from bluegreen.adapters.aws.session import Aws\nfrom bluegreen.adapters.aws.dynamo_store import DynamoStore\n"
                f"store = DynamoStore(Aws(), {self.location!r})\n")


@pytest.fixture
def atomic_moto_dynamodb(monkeypatch):
    """Make moto's conditional writes atomic, as DynamoDB's are.

    moto 5.2 evaluates a write's condition and then writes, with no lock in between, while its
    server handles requests on several threads: two concurrent `PutItem ... attribute_not_exists`
    calls can both succeed (seen here: two winners of one lock, about one run in fifteen). Real
    DynamoDB serialises writes to an item. The server runs in this process, so one lock around
    every write restores that; the product itself does not work around the emulator.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        def locked(self, *args, _original=getattr(DynamoDBBackend, name), **kwargs):
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


@pytest.fixture(params=["local", "dynamodb"])
def backend(request, tmp_path) -> Backend:
    if request.param == "local":
        return Backend("local", str(tmp_path / "state"))
    emulator = request.getfixturevalue("aws")
    request.getfixturevalue("atomic_moto_dynamodb")
    from bluegreen.adapters.aws.session import Aws

    adapter = Aws(emulator.region, endpoint_url=emulator.endpoint_url)
    assert ensure_table(adapter, TABLE) is True
    return Backend("dynamodb", TABLE, adapter)


@pytest.fixture
def store(backend) -> Store:
    return backend.make()


def request_lock(deployment_id: str, operation: str = "deploy", **env: str) -> LockInfo:
    return LockInfo.create("web", deployment_id, operation, identity_from(env))


# --- locks ----------------------------------------------------------------------------------------


def test_second_lock_attempt_names_the_holder_and_since_when(store):
    first = store.acquire(request_lock("d-20261122-210000-a1b2", BUILD_URL="https://ci/job/42"), 120).lock

    with pytest.raises(LockHeld) as raised:
        store.acquire(request_lock("d-20261122-210500-c3d4"), 120)

    message = raised.value.message
    assert message.startswith("web is locked by deploy d-20261122-210000-a1b2 by ")
    assert first.holder in message and "@" in first.holder
    assert f"since {first.since}" in message
    assert f"pid {os.getpid()}" in message and "build https://ci/job/42" in message
    assert "lease until" in message and "bluegreen unlock web --force" in message
    assert raised.value.exit_code == ExitCode.LOCKED
    assert raised.value.holder == first
    assert store.read("web") == first


def test_expired_lock_is_taken_over(backend):
    clock = FakeClock()
    store = backend.make(clock)
    stale = store.acquire(request_lock("d-old"), 10).lock
    clock.advance(5)
    with pytest.raises(LockHeld):
        store.acquire(request_lock("d-new"), 10)

    clock.advance(6)  # the first holder stopped renewing 11 s ago; its 10 s lease is over
    acquired = store.acquire(request_lock("d-new"), 10)

    assert acquired.taken_over == stale
    assert acquired.lock.deployment_id == "d-new"
    assert acquired.lock.expires == clock.now + 10
    assert store.read("web") == acquired.lock


def test_a_free_lock_reports_no_takeover(store):
    acquired = store.acquire(request_lock("d-1"), 60)
    assert acquired.taken_over is None
    assert acquired.lock.since and acquired.lock.expires > time.time() + 50


def test_only_the_owner_can_release_or_renew(store):
    owner = store.acquire(request_lock("d-1"), 60).lock
    other = request_lock("d-2")  # never acquired
    same_deployment_other_run = request_lock("d-1", "resume")  # same id, another acquisition

    assert store.renew(other, 60) is False
    assert store.release(other) is False
    assert store.renew(same_deployment_other_run, 60) is False
    assert store.release(same_deployment_other_run) is False
    assert store.read("web") == owner

    assert store.renew(owner, 600) is True
    assert store.read("web").expires > owner.expires
    assert store.release(owner) is True
    assert store.read("web") is None
    assert store.release(owner) is False  # idempotent: a second release is harmless
    assert store.renew(owner, 60) is False  # and a late renewal does not bring the lock back
    assert store.read("web") is None


@pytest.mark.parametrize("failure", [RuntimeError("gate failed"), KeyboardInterrupt()])
def test_lock_is_released_after_a_failure_inside_the_lease(store, failure):
    with pytest.raises(type(failure)):
        with LockLease(store, request_lock("d-1"), 60) as lease:
            assert store.read("web") == lease.info
            raise failure

    assert store.read("web") is None
    assert store.acquire(request_lock("d-2"), 60).taken_over is None


def test_lease_is_renewed_while_running(store):
    with LockLease(store, request_lock("d-1"), lease_seconds=3, interval=0.05) as lease:
        first_expiry = lease.info.expires
        deadline = time.monotonic() + 5
        while (lease.renewals < 1 or store.read("web").expires <= first_expiry) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store.read("web").expires > first_expiry
        assert lease.renewals >= 1 and not lease.lost
    assert store.read("web") is None


def test_a_lease_taken_over_by_another_run_is_reported_lost_and_left_alone(store):
    seen: list[LockInfo | None] = []
    with LockLease(store, request_lock("d-1"), 60, interval=0.05, on_lost=seen.append) as lease:
        store.break_lock("web")
        intruder = store.acquire(request_lock("d-2"), 60).lock
        deadline = time.monotonic() + 5
        while not lease.lost and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lease.lost
    assert seen == [intruder]  # the renewal thread has finished by the end of the block
    assert store.read("web") == intruder  # our release did not remove the new holder's lock


def test_break_lock_removes_a_stale_lock(backend):
    past = FakeClock(time.time() - 3600)
    stale = backend.make(past).acquire(request_lock("d-crashed"), 120).lock
    store = backend.make()

    assert store.break_lock("web") == stale
    assert store.read("web") is None
    assert store.break_lock("web") is None
    assert store.acquire(request_lock("d-next"), 120).taken_over is None


RACE_SCRIPT = """
import json, os, sys, time
from bluegreen.errors import LockHeld
from bluegreen.app.context import identity_from
from bluegreen.state.store import LockInfo
{prelude}
store.read("web")  # warm up (imports, connections) before the start line
print("ready", flush=True)
while not os.path.exists({go!r}):
    time.sleep(0.001)
name = sys.argv[1]
try:
    acquired = store.acquire(LockInfo.create("web", name, "deploy", identity_from({{}})), 60)
except LockHeld as exc:
    print(json.dumps({{"lost": exc.message}}), flush=True)
else:
    taken = acquired.taken_over.deployment_id if acquired.taken_over else None
    print(json.dumps({{"won": name, "taken_over": taken}}), flush=True)
"""


@pytest.mark.parametrize("existing", ["free", "stale"])
def test_two_processes_race_for_one_lock_and_exactly_one_wins(backend, tmp_path, existing):
    if existing == "stale":
        backend.make(FakeClock(time.time() - 3600)).acquire(request_lock("d-crashed"), 60)
    go = tmp_path / "go"
    script = RACE_SCRIPT.format(prelude=backend.child_prelude(), go=str(go))
    contenders = [
        subprocess.Popen([sys.executable, "-c", script, f"d-contender-{i}"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=backend.child_env(), cwd=tmp_path)
        for i in range(8)
    ]
    try:
        for child in contenders:
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
        go.touch()
        results = []
        for child in contenders:
            out, err = child.communicate(timeout=60)
            assert child.returncode == 0, err
            results.append(json.loads(out))
    finally:
        for child in contenders:
            if child.poll() is None:
                child.kill()

    winners = [r for r in results if "won" in r]
    assert len(winners) == 1, results
    assert all("web is locked by deploy " + winners[0]["won"] in r["lost"] for r in results if "lost" in r)
    assert backend.make().read("web").deployment_id == winners[0]["won"]
    assert winners[0]["taken_over"] == ("d-crashed" if existing == "stale" else None)


def test_lock_info_names_the_ci_build():
    assert ci_build({"BUILD_URL": "https://ci/job/42/", "BUILD_TAG": "jenkins-web-42"}) == "https://ci/job/42/"
    assert ci_build({"BUILD_TAG": "jenkins-web-42"}) == "jenkins-web-42"
    assert ci_build({"GITHUB_RUN_ID": "7", "GITHUB_SERVER_URL": "https://github.com",
                     "GITHUB_REPOSITORY": "acme/web"}) == "https://github.com/acme/web/actions/runs/7"
    assert ci_build({"CI_JOB_ID": "99"}) == "gitlab job 99"
    assert ci_build({}) is None

    info = LockInfo(service="web", deployment_id="d-1", operation="rollback", holder="jenkins@agent-3",
                    host="agent-3", pid=123, ci_build="https://ci/job/42", since="2026-11-22T21:00:00Z",
                    expires=1795381320.0)
    assert info.describe() == ("rollback d-1 by jenkins@agent-3 (pid 123, build https://ci/job/42) "
                               "since 2026-11-22T21:00:00Z, lease until 2026-11-22T21:02:00Z")
    assert LockInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info


def test_names_that_could_escape_the_store_are_refused(store):
    with pytest.raises(InvalidInput):
        store.append("web", "../../etc/passwd", {"event": "step.started"})
    with pytest.raises(InvalidInput):
        LockInfo.create("web/../x", "d-1", "deploy", identity_from({}))


# --- journal --------------------------------------------------------------------------------------


def test_journal_entries_come_back_in_order_with_increasing_seq(backend):
    first, second = backend.make(), backend.make()  # two writers, e.g. a killed job and `resume`
    events = ["deploy.started", "step.started", "step.succeeded", "step.started", "step.failed",
              "rollback.started", "step.started", "step.succeeded", "rollback.succeeded"]
    for i, event in enumerate(events):
        writer = first if i % 3 else second
        stored = writer.append("web", "d-1", {"event": event, "step": i, "weights": {"blue": 90.5, "green": 9.5},
                                              "note": ""})
        assert stored["seq"] == i + 1 and stored["event"] == event and stored["time"].endswith("Z")
    first.append("web", "d-2", {"event": "deploy.started"})

    entries = backend.make().entries("web", "d-1")
    assert [e["seq"] for e in entries] == list(range(1, len(events) + 1))
    assert [e["event"] for e in entries] == events
    assert entries[4] == {"seq": 5, "time": entries[4]["time"], "event": "step.failed", "step": 4,
                          "weights": {"blue": 90.5, "green": 9.5}, "note": ""}
    assert [e["seq"] for e in first.entries("web", "d-2")] == [1]
    assert first.entries("web", "d-none") == []


def test_journal_entry_needs_an_event(store):
    with pytest.raises(ValueError):
        store.append("web", "d-1", {"step": 1})


def test_journal_entry_survives_sigkill_right_after_append(backend, tmp_path):
    script = backend.child_prelude() + textwrap.dedent("""
        import os, signal
        store.append("web", "d-1", {"event": "step.started", "step": "ShiftTraffic", "weights": [90, 10]})
        os.kill(os.getpid(), signal.SIGKILL)
        raise SystemExit("not reached")
    """)
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=backend.child_env(), cwd=tmp_path, timeout=60)

    assert child.returncode == -signal.SIGKILL, child.stderr
    (entry,) = backend.make().entries("web", "d-1")
    assert entry["seq"] == 1 and entry["event"] == "step.started" and entry["weights"] == [90, 10]


def test_local_journal_skips_a_torn_last_line_and_carries_on(tmp_path):
    store = LocalStore(tmp_path)
    store.append("web", "d-1", {"event": "step.started"})
    path = tmp_path / "journal" / "web" / "d-1.jsonl"
    with path.open("ab") as f:
        f.write(b'{"seq": 2, "event": "step.succ')  # power cut mid-write
    store.append("web", "d-1", {"event": "step.started"})

    assert [(e["seq"], e["event"]) for e in store.entries("web", "d-1")] == [(1, "step.started"), (2, "step.started")]


def test_journal_falls_back_to_local_files_when_the_dynamodb_table_is_missing(aws, tmp_path, monkeypatch):
    from bluegreen.adapters.aws.session import Aws

    monkeypatch.chdir(tmp_path)
    warnings: list[str] = []
    primary = DynamoStore(Aws(endpoint_url=aws.endpoint_url), "no-such-table")
    journal = JournalWriter(primary, ".bluegreen/journal-fallback", on_warning=warnings.append)

    journal.append("web", "d-1", {"event": "step.started", "step": 1})
    journal.append("web", "d-1", {"event": "step.succeeded", "step": 1})

    assert len(warnings) == 1 and journal.warning == warnings[0]
    assert warnings[0].startswith("journal: DynamoDB write failed (")
    assert "ResourceNotFoundException" in warnings[0]
    assert warnings[0].endswith("writing to .bluegreen/journal-fallback/web/d-1.jsonl instead")
    entries = journal.entries("web", "d-1")
    assert [(e["seq"], e["event"], e["fallback"]) for e in entries] == [
        (1, "step.started", True), (2, "step.succeeded", True)]
    assert (tmp_path / ".bluegreen/journal-fallback/web/d-1.jsonl").exists()


def test_journal_that_falls_back_midway_reads_back_as_one_sequence(aws, tmp_path):
    from bluegreen.adapters.aws.session import Aws

    adapter = Aws(endpoint_url=aws.endpoint_url)
    ensure_table(adapter, TABLE)
    journal = open_journal(DynamoStore(adapter, TABLE), LocalState(directory=str(tmp_path)))
    journal.append("web", "d-1", {"event": "deploy.started"})
    journal.append("web", "d-1", {"event": "step.started"})

    def unreachable(**_: Any) -> None:  # PutItem starts failing (e.g. a network partition)
        raise RuntimeError("injected: could not reach DynamoDB")

    adapter.client("dynamodb").meta.events.register("before-send.dynamodb.PutItem", unreachable)
    try:
        journal.append("web", "d-1", {"event": "step.succeeded"})
        journal.append("web", "d-1", {"event": "step.started"})
    finally:
        adapter.client("dynamodb").meta.events.unregister("before-send.dynamodb.PutItem", unreachable)
    assert "injected: could not reach DynamoDB" in journal.warning
    journal.append("web", "d-1", {"event": "step.succeeded"})  # stays on the fallback for this run

    merged = journal.entries("web", "d-1")
    assert [(e["seq"], e["event"], e.get("fallback", False)) for e in merged] == [
        (1, "deploy.started", False), (2, "step.started", False),
        (3, "step.succeeded", True), (4, "step.started", True), (5, "step.succeeded", True)]
    assert len(DynamoStore(adapter, TABLE).entries("web", "d-1")) == 2


def test_journal_writer_passes_through_when_the_primary_works(store, tmp_path):
    journal = JournalWriter(store, tmp_path / "fallback")
    journal.append("web", "d-1", {"event": "step.started"})
    assert journal.warning is None and not (tmp_path / "fallback").exists()
    assert [e["event"] for e in journal.entries("web", "d-1")] == ["step.started"]


# --- deployment records and history ---------------------------------------------------------------


def test_current_deployment_is_the_one_pointed_at(store):
    assert store.current("web") is None
    assert store.get_deployment("web", "d-1") is None
    store.put_deployment("web", {"id": "d-1", "status": "succeeded"})
    record = {"id": "d-2", "status": "running", "plan": json.dumps({"steps": []}),
              "keep_warm_until": "2026-11-22T21:15:00Z", "weights": {"green": 12.5}}
    store.put_deployment("web", record)
    store.set_current("web", "d-2")

    assert store.current("web") == record
    store.put_deployment("web", {**record, "status": "keeping-warm"})
    assert store.current("web")["status"] == "keeping-warm"
    assert store.get_deployment("web", "d-1") == {"id": "d-1", "status": "succeeded"}
    assert store.current("api") is None
    with pytest.raises(ValueError):
        store.put_deployment("web", {"status": "running"})


def test_history_is_newest_first_and_limited(store):
    for i in range(1, 26):
        store.append_history("web", {"deployment_id": f"d-{i}", "result": "succeeded", "seconds": i * 1.5})
    store.append_history("api", {"deployment_id": "d-x", "result": "failed"})

    recent = store.history("web")
    assert len(recent) == 20
    assert [r["deployment_id"] for r in recent[:3]] == ["d-25", "d-24", "d-23"]
    assert recent[-1]["deployment_id"] == "d-6"
    assert store.history("web", limit=2) == [
        {"deployment_id": "d-25", "result": "succeeded", "seconds": 37.5},
        {"deployment_id": "d-24", "result": "succeeded", "seconds": 36.0}]
    assert [r["deployment_id"] for r in store.history("api")] == ["d-x"]
    assert store.history("nothing") == []


# --- choosing a backend ---------------------------------------------------------------------------


def test_local_store_lives_in_the_working_directory_and_needs_no_aws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def no_aws():
        raise AssertionError("a local store must not touch AWS")

    store = open_store(LocalState(), no_aws)
    assert isinstance(store, LocalStore) and store.directory == tmp_path / ".bluegreen"
    store.append("web", "d-1", {"event": "step.started"})
    assert (tmp_path / ".bluegreen/journal/web/d-1.jsonl").exists()
    assert open_store(LocalState(directory=str(tmp_path / "abs")), no_aws).directory == tmp_path / "abs"


def test_dynamodb_store_uses_the_table_of_the_spec(aws):
    from bluegreen.adapters.aws.session import Aws

    adapter = Aws(endpoint_url=aws.endpoint_url)
    store = open_store(DynamoState(backend="dynamodb", table=TABLE), lambda: adapter)
    assert isinstance(store, DynamoStore) and store.table == TABLE
    assert ensure_table(adapter, TABLE) is True and ensure_table(adapter, TABLE) is False
    table = aws.client("dynamodb").describe_table(TableName=TABLE)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    with pytest.raises(ValidationError, match="table"):  # a dynamodb state without a table cannot be written
        TypeAdapter(State).validate_python({"backend": "dynamodb"})


def test_dynamodb_items_follow_the_documented_schema(aws):
    from bluegreen.adapters.aws.session import Aws

    adapter = Aws(endpoint_url=aws.endpoint_url)
    ensure_table(adapter, TABLE)
    store = DynamoStore(adapter, TABLE)
    store.acquire(request_lock("d-1"), 60)
    store.append("web", "d-1", {"event": "step.started"})
    store.put_deployment("web", {"id": "d-1", "status": "running"})
    store.set_current("web", "d-1")
    store.append_history("web", {"deployment_id": "d-1"})

    keys = sorted((i["pk"]["S"], i["sk"]["S"]) for i in aws.client("dynamodb").scan(TableName=TABLE)["Items"])
    assert keys == [("current#web", "current"), ("deployment#web", "d-1"), ("history#web", "0000000001"),
                    ("journal#web#d-1", "0000000001"), ("lock#web", "lock")]
