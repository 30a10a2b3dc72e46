"""One bench server and what lives on it: the clients, the seeded collections, the
records' shapes and the model classes that read them.

Collections are seeded through ``bench.kinto_seed`` (straight into the server's
storage: no thousands of HTTP writes), then read back whole and compared with what
was meant, so a seeding shortcut cannot change what a workload reads.
"""

from __future__ import annotations

import itertools
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import kinto_http
import requests

import kintorm

try:  # the mapper may not be there yet: its rows say so instead of failing
    from kintorm import Record
except ImportError:  # pragma: no cover - depends on the state of kintorm.orm
    Record = None  # type: ignore[assignment,misc]

MAPPER_MISSING = "needs the mapper (kintorm.orm not available)"
BUCKET = "bench"
#: records per seeding request (about 3 MB of JSON)
SEED_CHUNK = 10_000
SEED_PLUGIN = "bench.kinto_seed"
#: a record's permissions: {"read": [principal, ...], ...}
Permissions = dict[str, list[str]]


class SeedingError(AssertionError):
    """A seeded collection does not read back as what was written."""


@dataclass
class Ctx:
    """One server, one client of each library (and a raw ``requests`` session for the
    floors), and the collections seeded on it."""

    server: Any
    backend: str
    scale: float
    anchor: kinto_http.Client
    client: kintorm.Client
    raw: requests.Session = field(default_factory=requests.Session)
    seeded: dict[str, list[str]] = field(default_factory=dict)
    _names: Any = field(default_factory=itertools.count)
    #: this run's mark in collection names: a PostgreSQL database kept from an
    #: interrupted run may still hold collections of the same numbers
    _run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    _transient: list[str] = field(default_factory=list)
    _shared: dict[str, str] = field(default_factory=dict)
    #: what a workload prepares once and keeps for its later runs and its check
    kept: dict[str, Any] = field(default_factory=dict)

    def n(self, count: int, postgresql: int | None = None) -> int:
        """``count`` (``postgresql`` on that backend when given), times the scale."""
        if postgresql is not None and self.backend == "postgresql":
            count = postgresql
        return max(10, int(count * self.scale))

    def records_url(self, name: str) -> str:
        """The plural records endpoint of collection ``name``."""
        return f"{self.server.url}/buckets/{BUCKET}/collections/{name}/records"

    def fresh(self, prefix: str, *, keep: bool = False) -> str:
        """A new empty collection. The transient ones made before are deleted first:
        Kinto's memory permission backend scans every object on each request, so the
        server would slow down run after run (and the side run second would pay more)."""
        for old in self._transient:
            self.client.delete_collection(id=old, bucket=BUCKET, if_exists=True)
            self.seeded.pop(old, None)
        self._transient.clear()
        name = f"{prefix}-{self._run}-{next(self._names)}"
        self.client.create_collection(id=name, bucket=BUCKET)
        if not keep:
            self._transient.append(name)
        return name

    def seed(
        self,
        prefix: str,
        records: list[dict[str, Any]],
        *,
        keep: bool = False,
        permissions: list[Permissions] | None = None,
    ) -> str:
        """A new collection holding ``records`` (ids made here, kept in ``seeded``, in
        the order of ``records``), written straight into the server's storage and
        checked by reading it back. ``permissions`` (one per record) are stored with
        them, unchecked: reading them back costs a request per record."""
        name = self.fresh(prefix, keep=keep)
        meant = {uuid.uuid4().hex: record for record in records}
        rows = [{"id": record_id, **record} for record_id, record in meant.items()]
        acl = dict(zip(meant, permissions, strict=True)) if permissions is not None else {}
        parent = f"/buckets/{BUCKET}/collections/{name}"
        for start in range(0, len(rows), SEED_CHUNK):
            chunk = rows[start : start + SEED_CHUNK]
            body = {
                "parent_id": parent,
                "records": chunk,
                "permissions": {r["id"]: acl[r["id"]] for r in chunk if acl.get(r["id"])},
            }
            response = self.raw.post(f"{self.server.url}/__bench_seed__", json=body, timeout=600)
            response.raise_for_status()
        got = self.client.get_records(bucket=BUCKET, collection=name)
        skip = ("id", "last_modified")
        read = {r["id"]: {k: v for k, v in r.items() if k not in skip} for r in got}
        if read != meant or len(got) != len(meant):
            wrong = sum(1 for k, v in meant.items() if read.get(k) != v)
            raise SeedingError(
                f"{name}: {len(got)} record(s) read back for {len(meant)} seeded, {wrong} differ"
            )
        self.seeded[name] = list(meant)
        return name

    def shared(
        self,
        key: str,
        count: int,
        make: Callable[[int], list[Any]] | None = None,
        permissions: Callable[[int], list[Permissions]] | None = None,
    ) -> str:
        """A collection of ``count`` records (todos unless ``make`` says otherwise, with
        the ``permissions`` it makes), seeded once and reused until ``release`` drops it."""
        if key not in self._shared:
            acl = permissions(count) if permissions is not None else None
            name = self.seed(key, (make or todos)(count), keep=True, permissions=acl)
            self._shared[key] = name
        return self._shared[key]

    def release(self, keep: set[str]) -> None:
        """Delete the shared collections whose key is not in ``keep``: a memory-backend
        Kinto scans its collections on requests, so records left over from reads would
        slow every later workload's requests (both sides)."""
        for key in [k for k in self._shared if k not in keep]:
            self.drop(key)

    def drop(self, key: str) -> None:
        """Delete the shared collection ``key`` now (seeded again if asked for again)."""
        name = self._shared.pop(key, None)
        if name is not None:
            self.client.delete_collection(id=name, bucket=BUCKET, if_exists=True)
            self.seeded.pop(name, None)

    def batch_size(self) -> int:
        """The server's ``batch_max_requests`` (what a batch chunk may hold)."""
        settings = self.client.server_info().get("settings") or {}
        return int(settings.get("batch_max_requests") or 25)


def todos(count: int, **extra: Any) -> list[dict[str, Any]]:
    """``count`` small records (about 300 bytes on the wire with their metadata)."""
    return [
        {"title": f"todo number {i}", "done": False, "n": i, "tags": ["a", "b"], **extra}
        for i in range(count)
    ]


WIDE_FIELDS = 50
TODO_FIELDS = {"title": str, "done": bool, "n": int, "tags": list[str]}


def wide_record() -> dict[str, Any]:
    """50 fields: strings, numbers and a small list."""
    data: dict[str, Any] = {}
    for i in range(WIDE_FIELDS):
        kind = i % 3
        data[f"f{i:02d}"] = (
            f"value of field {i} " * 3 if kind == 0 else i * 1000 if kind == 1 else [i, i + 1]
        )
    return data


def wide_fields() -> dict[str, Any]:
    """The annotations of a model of ``wide_record()``."""
    sample = wide_record()
    return {k: type(v) if not isinstance(v, list) else list[int] for k, v in sample.items()}


_MODELS: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}


def model(collection: str, fields: dict[str, Any]) -> Any:
    """A Record subclass bound to ``collection`` (bucket from the client), made once per
    collection and fields, as an application defines its models once: what the mapper
    prepares per class on first use is not timed again on every run."""
    key = (collection, tuple(fields.items()))
    if key not in _MODELS:

        def body(ns: dict[str, Any]) -> None:
            ns["__annotations__"] = dict(fields)
            ns["__module__"] = "bench.workloads"

        _MODELS[key] = types.new_class("M", (Record,), {"collection": collection}, body)
    return _MODELS[key]
