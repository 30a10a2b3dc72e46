"""replicate() holds one page, not the collection: its peak memory (tracemalloc)
hardly grows with the number of records copied. A structural check (a ratio of two
peaks in one process), not a timing."""

from __future__ import annotations

import sys
import tracemalloc
import uuid
from collections.abc import Callable

from kintorm import Client
from kintorm.replication import replicate

from ._data import fill

PAGE = 50


def _peak(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_collection(origin: Client, destination: Client) -> None:
    fill(origin, 900)
    part_since = int(origin.get_records_timestamp())
    fill(origin, 100, start=900)
    # the last 100 records against all 1,000: if replicate() held what it copies, the
    # second peak would be ten times the first
    first = destination.clone(bucket=f"copy-{uuid.uuid4().hex[:10]}")
    replicate(origin, first, since=part_since, page_size=PAGE)  # warm up: pools, server info
    small = destination.clone(bucket=f"copy-{uuid.uuid4().hex[:10]}")
    part = _peak(lambda: replicate(origin, small, since=part_since, page_size=PAGE))
    whole_target = destination.clone(bucket=f"copy-{uuid.uuid4().hex[:10]}")
    whole = _peak(lambda: replicate(origin, whole_target, page_size=PAGE))
    held = _peak(lambda: origin.get_records())  # what holding every record costs
    for client in (first, small, whole_target):
        client.delete_bucket(if_exists=True)
    print(
        f"\nreplicate peak: {part / 1e3:.0f} kB for 100 records, {whole / 1e3:.0f} kB for "
        f"1,000; get_records() of 1,000: {held / 1e3:.0f} kB",
        file=sys.stderr,
    )
    assert whole < part * 2
    assert whole < held / 2
