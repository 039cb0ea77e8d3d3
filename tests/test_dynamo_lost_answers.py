"""The DynamoDB store when AWS applied a write and its answer was lost (the connection reset after the
server applied the call; botocore retries it): the lock is recognised as ours by its token, and a
journal entry is appended once. Through the fault proxy in front of the emulator."""

from __future__ import annotations

import os
import types

import pytest

from bluegreen.adapters.aws.dynamo_store import DynamoStore, ensure_table
from bluegreen.adapters.aws.session import Aws
from bluegreen.domain.identity import Identity
from bluegreen.errors import LockHeld
from bluegreen.local.faults import Fault, Rule
from bluegreen.state.store import LockInfo

TABLE = "bluegreen-state"
ME = Identity(user="ci", host="agent-1", pid=os.getpid())


@pytest.fixture
def store(fault_proxy, monkeypatch) -> DynamoStore:
    import time

    import botocore.endpoint

    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=lambda _s: None, time=time.time))
    aws = Aws("us-east-1", endpoint_url=fault_proxy.endpoint_url)
    ensure_table(aws, TABLE)
    return DynamoStore(aws, TABLE)


def lose_the_next_answer(fault_proxy, operation: str) -> None:
    fault_proxy.configure([Rule(Fault.RESET_AFTER, operations=frozenset({f"dynamodb:{operation}"}), limit=1)])


def test_a_lock_whose_put_answer_was_lost_is_ours_not_held_by_ourselves(store, fault_proxy):
    lose_the_next_answer(fault_proxy, "PutItem")
    wanted = LockInfo.create("web", "web-d1", "deploy", ME)

    acquired = store.acquire(wanted, lease_seconds=120)

    assert fault_proxy.stats.faults("dynamodb:PutItem", Fault.RESET_AFTER) == 1  # the answer was lost, once
    assert acquired.lock.owned_by(wanted) and acquired.taken_over is None
    assert store.read("web").token == wanted.token
    assert store.renew(acquired.lock, 120) is True and store.release(acquired.lock) is True
    assert store.read("web") is None


def test_someone_elses_lock_is_still_held_when_our_answer_is_lost(store, fault_proxy):
    other = LockInfo.create("web", "web-d0", "deploy", Identity(user="ci", host="agent-2", pid=7))
    store.acquire(other, lease_seconds=120)
    lose_the_next_answer(fault_proxy, "PutItem")

    with pytest.raises(LockHeld) as raised:
        store.acquire(LockInfo.create("web", "web-d1", "deploy", ME), lease_seconds=120)

    assert "agent-2" in raised.value.message and store.read("web").token == other.token


def test_a_journal_entry_whose_answer_was_lost_is_appended_once(store, fault_proxy):
    store.append("web", "web-d1", {"event": "step.started", "step": "one"})
    lose_the_next_answer(fault_proxy, "PutItem")

    store.append("web", "web-d1", {"event": "step.succeeded", "step": "one"})

    assert [e["event"] for e in store.entries("web", "web-d1")] == ["step.started", "step.succeeded"]
