"""Test data for the replication tests, and a comparable snapshot of a collection."""

from __future__ import annotations

from typing import Any

from kintorm import Client


def fill(client: Client, count: int, start: int = 0) -> None:
    """``count`` records with nested and unicode data; every third has its own ACL."""
    with client.batch() as batch:
        for n in range(start, start + count):
            permissions = {"read": [f"account:reader{n % 2}"]} if n % 3 == 0 else None
            batch.create_record(
                id=f"r{n:05d}",
                data={"n": n, "title": f"récord {n}", "tags": ["a", n], "sub": {"x": n / 2}},
                permissions=permissions,
            )


def snapshot(client: Client) -> dict[str, Any]:
    """Every record of the client's collection with its permissions, by id (batched
    GETs), and the collection's metadata (without its timestamp) and permissions."""
    ids = [r["id"] for r in client.get_records(_fields="id")]
    with client.batch() as batch:
        for record_id in ids:
            batch.get_record(id=record_id)
    records = {body["data"]["id"]: body for body in batch.results()}
    collection = client.get_collection()
    data = {k: v for k, v in collection["data"].items() if k != "last_modified"}
    return {
        "records": records,
        "collection": {"data": data, "permissions": collection["permissions"]},
    }
