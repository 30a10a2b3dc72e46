"""What a loaded record costs the cyclic garbage collector (issue 11).

Every object the collector tracks is visited again by its passes while the heap
grows, so a listing's CPU per record grew with N when each record was about eight
such objects. A record loaded from a listing is now its instance and its lists: the
snapshot is the decoded record with its lists frozen into tuples, which the
collector stops tracking (kintorm.orm.codec.frozen). Counted with
``gc.get_objects()`` after a full collection, not timed.
"""

from __future__ import annotations

import gc
import json
from typing import Any

import attrs

from kintorm import Client, Record

from ._codec import loader

#: the bench's B1 record (bench/workloads.py TODO_FIELDS): one list per record
N = 2_000
LIMIT = 3  # tracked objects per record, at most


class Todo(Record, collection="items"):
    title: str
    done: bool = False
    n: int = 0
    tags: list[str] = attrs.field(factory=list)


def _records(count: int) -> list[dict[str, Any]]:
    return [
        {"id": f"r{i}", "last_modified": i + 1, "title": f"todo number {i}", "done": False}
        | {"n": i, "tags": ["a", "b"]}
        for i in range(count)
    ]


def _tracked_per_record(make: Any, count: int) -> float:
    gc.collect()
    before = len(gc.get_objects())
    kept = make()
    gc.collect()
    after = len(gc.get_objects())
    assert len(kept) == count
    return (after - before) / count


def test_a_loaded_record_is_at_most_three_tracked_objects() -> None:
    body = json.dumps(_records(N))  # decoded inside the count, as a listing's page is
    load = loader(Todo, owned=True)
    per = _tracked_per_record(lambda: [load(r, None, False, None) for r in json.loads(body)], N)
    print(f"{per:.2f} tracked objects per loaded record")
    assert per <= LIMIT


def test_a_listing_keeps_at_most_three_tracked_objects_per_record(client: Client) -> None:
    with client.batch() as batch:
        for item in _records(N):
            item.pop("last_modified")
            batch.create_record(data=item)
    per = _tracked_per_record(lambda: list(Todo.objects.using(client)), N)
    print(f"{per:.2f} tracked objects per record of list(qs)")
    assert per <= LIMIT
    todo = Todo.objects.using(client).get(id="r7")  # and they still track changes
    assert not todo.is_dirty
    todo.tags.append("c")
    assert todo.changed_fields == {"tags"}
