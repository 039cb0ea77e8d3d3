"""Discovery reads with more threads as the fleet grows, and the clients keep a connection per thread."""

from __future__ import annotations

from bluegreen.adapters.aws.reads import MAX_WORKERS, WORKERS, workers_for
from bluegreen.adapters.aws.session import Aws


def test_a_small_fleet_reads_with_the_base_number_of_threads():
    assert workers_for(1) == WORKERS
    assert workers_for(10) == WORKERS


def test_threads_grow_with_the_fleet_up_to_a_ceiling():
    assert WORKERS < workers_for(100) < workers_for(300) <= MAX_WORKERS
    assert workers_for(10_000) == MAX_WORKERS


def test_the_connection_pool_grows_with_the_threads_and_never_shrinks():
    aws = Aws("us-east-1", endpoint_url="http://127.0.0.1:1")

    aws.want_connections(workers_for(300))
    aws.want_connections(2)

    assert aws.max_pool_connections == workers_for(300)
