"""Choosing the state store a spec's `state:` section names."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from bluegreen.domain.spec import DynamoState
from bluegreen.state.journal import JournalWriter
from bluegreen.state.local import LocalStore
from bluegreen.state.store import Clock, Store

if TYPE_CHECKING:
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.domain.spec import State


def open_store(state: "State", aws_factory: Callable[[], "Aws"], *, clock: Clock = time.time) -> Store:
    """The store a spec's `state:` names. `aws_factory` is only called for DynamoDB."""
    if isinstance(state, DynamoState):
        from bluegreen.adapters.aws.dynamo_store import DynamoStore

        return DynamoStore(aws_factory(), state.table, clock=clock)
    return LocalStore(state.directory, clock=clock)


def open_journal(store: Store, state: "State", *,
                 on_warning: Callable[[str], None] | None = None) -> JournalWriter:
    """The journal for a run: `store`, backed by `<state.directory>/journal-fallback`."""
    return JournalWriter(store, Path(state.directory) / "journal-fallback", on_warning=on_warning)
