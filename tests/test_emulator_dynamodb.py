"""DynamoDB's conditional writes are atomic per item on the realistic emulator (moto's are not):
two deploys taking one lock at the same moment have exactly one winner."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.exceptions import ClientError

from bluegreen.adapters.aws.dynamo_store import ensure_table
from bluegreen.adapters.aws.session import Aws

TABLE = "bluegreen-state"


@pytest.fixture
def slow_conditions(monkeypatch):
    """moto's condition checks take 200 ms: the window between checking and writing, made wide."""
    import moto.dynamodb.models.table as table

    original = table.get_filter_expression

    def slow(*args, **kwargs):
        op = original(*args, **kwargs)
        check = op.expr

        def expr(item):
            result = check(item)
            time.sleep(0.2)
            return result

        op.expr = expr
        return op

    monkeypatch.setattr(table, "get_filter_expression", slow)


def race(db, items: list[dict]) -> list[str]:
    barrier = threading.Barrier(len(items))
    results: list[str] = [""] * len(items)

    def put(index: int) -> None:
        barrier.wait()
        try:
            db.put_item(TableName=TABLE, Item=items[index], ConditionExpression="attribute_not_exists(pk)")
            results[index] = "won"
        except ClientError as error:
            results[index] = error.response["Error"]["Code"]

    threads = [threading.Thread(target=put, args=(i,)) for i in range(len(items))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def lock_item(owner: str, service: str = "web") -> dict:
    return {"pk": {"S": f"lock#{service}"}, "sk": {"S": "lock"}, "owner": {"S": owner}}


def test_simultaneous_conditional_writes_of_one_item_have_exactly_one_winner(realistic_aws, slow_conditions):
    aws = Aws("us-east-1", endpoint_url=realistic_aws.endpoint_url)
    ensure_table(aws, TABLE)
    db = aws.client("dynamodb")

    results = race(db, [lock_item("agent-1"), lock_item("agent-2")])

    assert sorted(results) == ["ConditionalCheckFailedException", "won"]
    owner = db.get_item(TableName=TABLE, Key={"pk": {"S": "lock#web"}, "sk": {"S": "lock"}})["Item"]["owner"]["S"]
    assert owner == ["agent-1", "agent-2"][results.index("won")]


def test_writes_of_different_items_do_not_wait_for_each_other(realistic_aws, slow_conditions):
    aws = Aws("us-east-1", endpoint_url=realistic_aws.endpoint_url)
    ensure_table(aws, TABLE)

    results = race(aws.client("dynamodb"), [lock_item("agent-1", "web"), lock_item("agent-2", "api")])

    assert results == ["won", "won"]
