"""A Kinto include for the bench server only: ``POST /v1/__bench_seed__`` writes records
straight into the storage backend, without one full sub-request per record.

Seeding 50,000 records through ``POST /batch`` costs the server a whole request each
(about 4 ms on the memory backend, 20 ms on PostgreSQL with 4 workers on 2 cores);
here the memory backend stores them in a loop and PostgreSQL inserts them in one
statement (Kinto's ``bump_timestamp`` trigger gives each its ``last_modified``).
The body is ``{"parent_id": "/buckets/b/collections/c", "records": [{"id": ..., ...}]}``,
with optionally ``"permissions": {record id: {"read": [principal, ...], ...}}`` (the
records' access control entries, one ``INSERT`` on PostgreSQL too); only the ``admin``
account may call it. The bench reads every seeded collection back
and compares it with what it meant to write (``bench.seeding``).

This module runs inside the Kinto process: it imports Kinto, never kintorm.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kinto.core import Service
from pyramid.httpexceptions import HTTPForbidden
from pyramid.security import NO_PERMISSION_REQUIRED

ADMIN = "account:admin"
seed = Service(name="bench_seed", description="Bench-only bulk seeding", path="/__bench_seed__")

_PG_INSERT = """
INSERT INTO objects (id, parent_id, resource_name, data, last_modified, deleted)
SELECT elem->>'id', :parent_id, 'record', elem - 'id', NULL, FALSE
  FROM jsonb_array_elements(CAST(:records AS JSONB)) WITH ORDINALITY AS t(elem, n)
 ORDER BY n
"""


_PG_ACES = """
INSERT INTO access_control_entries (object_id, permission, principal)
SELECT ace->>0, ace->>1, ace->>2 FROM jsonb_array_elements(CAST(:aces AS JSONB)) AS t(ace)
"""

#: a record id and its permissions: {"read": [principal, ...], ...}
ByRecord = dict[str, dict[str, list[str]]]


def _memory(request: Any, parent_id: str, records: list[Any], permissions: ByRecord) -> None:
    storage, backend = request.registry.storage, request.registry.permission
    for record in records:
        storage.create(resource_name="record", parent_id=parent_id, obj=record)
    for record_id, aces in permissions.items():
        backend.replace_object_permissions(f"{parent_id}/records/{record_id}", aces)


def _postgresql(request: Any, parent_id: str, records: list[Any], permissions: ByRecord) -> None:
    import sqlalchemy as sa

    aces = [
        (f"{parent_id}/records/{record_id}", permission, principal)
        for record_id, by_permission in permissions.items()
        for permission, principals in by_permission.items()
        for principal in dict.fromkeys(principals)
    ]
    with request.registry.storage.client.connect(force_commit=True) as conn:
        conn.execute(sa.text(_PG_INSERT), {"parent_id": parent_id, "records": json.dumps(records)})
    if aces:  # the permission backend has its own connection (the same database here)
        with request.registry.permission.client.connect(force_commit=True) as conn:
            conn.execute(sa.text(_PG_ACES), {"aces": json.dumps(aces)})


#: how each storage backend (by module) takes a bulk write
WRITERS: dict[str, Callable[[Any, str, list[Any], ByRecord], None]] = {
    "kinto.core.storage.memory": _memory,
    "kinto.core.storage.postgresql": _postgresql,
}


@seed.post(permission=NO_PERMISSION_REQUIRED)
def seed_post(request: Any) -> dict[str, int]:
    """Store the records (and permissions) of the body under its ``parent_id``;
    returns their count."""
    # reading authenticated_userid runs the policies (and sets the prefix's authn_type)
    if request.authenticated_userid is None or request.prefixed_userid != ADMIN:
        raise HTTPForbidden()
    body = request.json_body
    write = WRITERS[type(request.registry.storage).__module__]
    write(request, body["parent_id"], body["records"], body.get("permissions") or {})
    return {"created": len(body["records"])}


def includeme(config: Any) -> None:
    """Pyramid include: ``kinto.includes = ... bench.kinto_seed``."""
    config.add_cornice_service(seed)
