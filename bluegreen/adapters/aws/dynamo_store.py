"""`DynamoStore`: the state store in one DynamoDB table (pk/sk strings), shared by every deploying machine.

Items (partition key `pk`, sort key `sk`, on-demand billing; `ensure_table` creates the table):

    pk                                  sk                  other attributes
    lock#<service>                      lock                service, deployment_id, operation,
                                                            holder, host, pid (N), ci_build,
                                                            since, expires (N, epoch s), token
    journal#<service>#<deployment_id>   0000000001 (seq)    seq (N), event, time, data (JSON text)
    deployment#<service>                <deployment_id>     status, updated, data (JSON text)
    current#<service>                   current             deployment_id, updated
    history#<service>                   0000000001 (seq)    time, data (JSON text)

Entries and records are stored as JSON text in `data` so floats, nesting and empty values
round-trip exactly; a few attributes are copied out only for reading the table by hand.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from typing import Any, Callable, Mapping

from bluegreen.adapters.aws.errors import is_condition_failed, is_conflict, is_not_found
from bluegreen.adapters.aws.session import Aws
from bluegreen.state.store import (
    Acquired, Clock, LockInfo, check_deployment_id, check_service, dumps, held, iso_utc, journal_entry, record_id,
)

_SEQ_WIDTH = 10


def _s(value: Any) -> dict[str, str]:
    return {"S": str(value)}


def _n(value: float | int) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def _plain(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, typed in item.items():
        ((kind, value),) = typed.items()
        out[key] = float(value) if kind == "N" else value
    return out


class DynamoStore:
    """Everything in one DynamoDB table (pk/sk strings): shared by every machine that deploys."""

    name = "DynamoDB"

    def __init__(self, aws: "Aws", table: str, *, clock: Clock = time.time) -> None:
        self.aws = aws
        self.table = table
        self.location = f"table {table}"
        self._clock = clock
        self._next_seq: dict[str, int] = {}
        self._seq_lock = threading.Lock()

    @property
    def _db(self) -> Any:
        return self.aws.client("dynamodb")

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return {"pk": _s(pk), "sk": _s(sk)}

    # locks

    @staticmethod
    def _lock_item(info: LockInfo) -> dict[str, Any]:
        item = {"pk": _s(f"lock#{info.service}"), "sk": _s("lock"), "service": _s(info.service),
                "deployment_id": _s(info.deployment_id), "operation": _s(info.operation),
                "holder": _s(info.holder), "host": _s(info.host), "pid": _n(info.pid),
                "since": _s(info.since), "expires": _n(float(info.expires)), "token": _s(info.token)}
        if info.ci_build:
            item["ci_build"] = _s(info.ci_build)
        return item

    @staticmethod
    def _lock_from(item: Mapping[str, Any] | None) -> LockInfo | None:
        return LockInfo.from_dict(_plain(item)) if item else None

    def acquire(self, info: LockInfo, lease_seconds: float) -> Acquired:
        for _ in range(5):
            now = self._clock()
            stored = replace(info, since=iso_utc(now), expires=now + lease_seconds)
            try:
                response = self._db.put_item(
                    TableName=self.table, Item=self._lock_item(stored),
                    ConditionExpression="attribute_not_exists(#pk) OR #expires < :now",
                    ExpressionAttributeNames={"#pk": "pk", "#expires": "expires"},
                    ExpressionAttributeValues={":now": _n(float(now))},
                    ReturnValues="ALL_OLD",
                )
            except Exception as exc:
                if not is_condition_failed(exc):
                    raise
                holder = self.read(info.service)
                if holder is not None and holder.owned_by(stored):
                    # Our write was applied but its answer was lost; botocore's retry then met our own lock.
                    # The token is this acquisition's alone, so the lock is ours (what it replaced is unknown).
                    return Acquired(holder)
                if holder is None or holder.expired(now):
                    continue  # released or expired between our write and this read: try again
                raise held(info.service, holder) from None
            return Acquired(stored, taken_over=self._lock_from(response.get("Attributes")))
        raise held(info.service, self.read(info.service) or info)

    def _owner_condition(self, info: LockInfo) -> dict[str, Any]:
        return {
            "ConditionExpression": "#deployment_id = :id AND #token = :token",
            "ExpressionAttributeNames": {"#deployment_id": "deployment_id", "#token": "token"},
            "ExpressionAttributeValues": {":id": _s(info.deployment_id), ":token": _s(info.token)},
        }

    def renew(self, info: LockInfo, lease_seconds: float) -> bool:
        condition = self._owner_condition(info)
        condition["ExpressionAttributeNames"]["#expires"] = "expires"
        condition["ExpressionAttributeValues"][":expires"] = _n(float(self._clock() + lease_seconds))
        try:
            self._db.update_item(TableName=self.table, Key=self._key(f"lock#{info.service}", "lock"),
                                 UpdateExpression="SET #expires = :expires", **condition)
        except Exception as exc:
            if is_condition_failed(exc):
                return False
            raise
        return True

    def release(self, info: LockInfo) -> bool:
        try:
            self._db.delete_item(TableName=self.table, Key=self._key(f"lock#{info.service}", "lock"),
                                 **self._owner_condition(info))
        except Exception as exc:
            if is_condition_failed(exc):
                return False
            raise
        return True

    def read(self, service: str) -> LockInfo | None:
        response = self._db.get_item(TableName=self.table, Key=self._key(f"lock#{check_service(service)}", "lock"),
                                     ConsistentRead=True)
        return self._lock_from(response.get("Item"))

    def break_lock(self, service: str) -> LockInfo | None:
        response = self._db.delete_item(TableName=self.table,
                                        Key=self._key(f"lock#{check_service(service)}", "lock"),
                                        ReturnValues="ALL_OLD")
        return self._lock_from(response.get("Attributes"))

    # sequences (journal entries, history records)

    def _query(self, pk: str, *, newest_first: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table, "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": "pk"}, "ExpressionAttributeValues": {":pk": _s(pk)},
            "ConsistentRead": True, "ScanIndexForward": not newest_first,
        }
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - len(items)
            response = self._db.query(**kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response or (limit is not None and len(items) >= limit):
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _last_seq(self, pk: str) -> int:
        newest = self._query(pk, newest_first=True, limit=1)
        return int(newest[0]["sk"]["S"]) if newest else 0

    def _put_next(self, pk: str, build: Callable[[int], dict[str, Any]]) -> int:
        """Put `build(seq)` at the next free seq under `pk` (conditional, so racers never overwrite)."""
        with self._seq_lock:
            seq = self._next_seq.get(pk)
        if seq is None:
            seq = self._last_seq(pk) + 1
        for _ in range(50):
            item = {"pk": _s(pk), "sk": _s(f"{seq:0{_SEQ_WIDTH}d}"), "seq": _n(seq), **build(seq)}
            try:
                self._db.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(#pk)",
                                  ExpressionAttributeNames={"#pk": "pk"})
            except Exception as exc:
                if not is_condition_failed(exc):
                    raise
                if self._is_ours(item):
                    break  # our own write, whose answer was lost and retried: appended once, not twice
                seq = max(seq, self._last_seq(pk)) + 1
                continue
            break
        else:
            raise RuntimeError(f"could not append to {pk} in {self.table}: too many concurrent writers")
        with self._seq_lock:
            self._next_seq[pk] = seq + 1
        return seq

    def _is_ours(self, item: Mapping[str, Any]) -> bool:
        """Whether the item stored under `item`'s key is `item` itself (same data, to the character)."""
        stored = self._db.get_item(TableName=self.table, Key={"pk": item["pk"], "sk": item["sk"]},
                                   ConsistentRead=True).get("Item")
        return stored is not None and stored.get("data") == item.get("data")

    # journal

    def append(self, service: str, deployment_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
        pk = f"journal#{check_service(service)}#{check_deployment_id(deployment_id)}"
        stored: dict[str, Any] = {}

        def build(seq: int) -> dict[str, Any]:
            stored.clear()
            stored.update(journal_entry(entry, seq, self._clock()))
            return {"event": _s(stored["event"]), "time": _s(stored["time"]), "data": _s(dumps(stored))}

        self._put_next(pk, build)
        return stored

    def entries(self, service: str, deployment_id: str) -> list[dict[str, Any]]:
        pk = f"journal#{check_service(service)}#{check_deployment_id(deployment_id)}"
        return [json.loads(item["data"]["S"]) for item in self._query(pk)]

    # deployment records

    def put_deployment(self, service: str, record: Mapping[str, Any]) -> None:
        deployment_id = record_id(record)
        item = {**self._key(f"deployment#{check_service(service)}", deployment_id),
                "data": _s(dumps(dict(record))), "updated": _s(iso_utc(self._clock()))}
        if record.get("status"):
            item["status"] = _s(record["status"])
        self._db.put_item(TableName=self.table, Item=item)

    def get_deployment(self, service: str, deployment_id: str) -> dict[str, Any] | None:
        key = self._key(f"deployment#{check_service(service)}", check_deployment_id(deployment_id))
        item = self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        return json.loads(item["data"]["S"]) if item else None

    def set_current(self, service: str, deployment_id: str) -> None:
        item = {**self._key(f"current#{check_service(service)}", "current"),
                "deployment_id": _s(check_deployment_id(deployment_id)), "updated": _s(iso_utc(self._clock()))}
        self._db.put_item(TableName=self.table, Item=item)

    def current(self, service: str) -> dict[str, Any] | None:
        key = self._key(f"current#{check_service(service)}", "current")
        item = self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        return self.get_deployment(service, item["deployment_id"]["S"]) if item else None

    # history

    def append_history(self, service: str, record: Mapping[str, Any]) -> None:
        data = _s(dumps(dict(record)))
        self._put_next(f"history#{check_service(service)}",
                       lambda _seq: {"time": _s(iso_utc(self._clock())), "data": data})

    def history(self, service: str, limit: int = 20) -> list[dict[str, Any]]:
        if limit <= 0:
            return []
        items = self._query(f"history#{check_service(service)}", newest_first=True, limit=limit)
        return [json.loads(item["data"]["S"]) for item in items]


def ensure_table(aws: "Aws", table: str) -> bool:
    """Create the state table (pk S / sk S, on-demand) unless it exists; True if it was created."""
    db = aws.client("dynamodb")
    try:
        db.describe_table(TableName=table)
        return False
    except Exception as exc:
        if not is_not_found(exc):
            raise
    try:
        db.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            Tags=[{"Key": "managed-by", "Value": "bluegreen"}],
        )
        created = True
    except Exception as exc:
        if not is_conflict(exc):  # ResourceInUseException: someone else is creating it
            raise
        created = False
    db.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
    return created


