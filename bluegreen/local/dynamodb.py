"""DynamoDB's conditional writes, atomic per item as DynamoDB makes them.

moto's server answers requests on several threads, and its PutItem / UpdateItem / DeleteItem
check a ConditionExpression and then write, with nothing in between that stops a second request
for the same item from checking the old value too: two deploys taking the same lock at the same
moment can both "win". DynamoDB evaluates a condition and applies the write as one step per item
("conditional writes ... are idempotent ... and DynamoDB performs them atomically"), so the
emulator holds a lock per item (table, partition key, sort key) around each of these calls
while a world is active. Listed in DIVERGENCES.md.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any, Callable

from bluegreen.local import world as worlds

_guard = threading.Lock()
_items: dict[tuple[str, str, str], threading.Lock] = {}


def _item_lock(backend: Any, table_name: str, attrs: dict[str, Any]) -> threading.Lock:
    """The one lock of the item `attrs` names (its key attributes) in `table_name`."""
    try:
        table = backend.get_table(table_name)
        hash_key, range_key = table.hash_key_attr, table.range_key_attr
    except Exception:  # noqa: BLE001 - no such table: moto answers with its own error, unserialised
        hash_key, range_key = None, None
    key = (table_name, json.dumps(attrs.get(hash_key), sort_keys=True, default=str),
           json.dumps(attrs.get(range_key), sort_keys=True, default=str) if range_key else "")
    with _guard:
        return _items.setdefault(key, threading.Lock())


def _serialised(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        if worlds.active() is None:
            return original(self, table_name, *args, **kwargs)
        first = args[0] if args else kwargs.get("item_attrs", kwargs.get("key", {}))
        with _item_lock(self, table_name, first or {}):
            return original(self, table_name, *args, **kwargs)

    call._bluegreen_patched = True  # type: ignore[attr-defined]
    return call


def install() -> None:
    """Wrap moto's item writes (once); each waits for the previous write of the same item."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in ("put_item", "update_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)
        if getattr(original, "_bluegreen_patched", False):
            continue
        setattr(DynamoDBBackend, name, _serialised(original))
