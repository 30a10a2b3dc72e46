"""Bringing a collection's schema in line with its model: the difference, the
records the new schema would refuse, and the conditional write.

:func:`sync_schema_op` is the action behind ``Todo.objects.sync_schema()`` and
its awaitable twin ``async_schema()``: it reads the collection (its ``schema``,
``uiSchema``, ``displayFields`` and timestamp), computes the model's, validates
every record of the collection against the new schema client-side (with
``jsonschema``, as Kinto does, ignoring the fields Kinto ignores), and unless
``dry_run`` writes the three attributes with a PATCH under ``If-Match`` on the
timestamp it read: a concurrent change of the collection is a ConflictError.
A missing collection is created with them (``If-None-Match: *``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from kintorm.client.base import BaseClient
from kintorm.client.effects import Emit
from kintorm.client.exceptions import KintoException, PreconditionFailed
from kintorm.client.protocol import Op
from kintorm.orm.exceptions import ConflictError
from kintorm.orm.persist import location
from kintorm.orm.schema.build import UI_METADATA_KEY, json_schema
from kintorm.orm.state import data_fields

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = ["DISPLAY_FIELDS", "SAMPLE", "Failure", "SchemaDiff", "SchemaSync", "sync_schema_op"]

JSONDict = dict[str, Any]
#: how many failing records a report names
SAMPLE = 5
#: how many fields kinto-admin's record list shows (displayFields)
DISPLAY_FIELDS = 3
#: record fields Kinto leaves out of schema validation (kinto/views/records.py)
IGNORED = ("last_modified", "schema", "permissions")
#: the collection attributes a sync writes
ATTRIBUTES = ("schema", "uiSchema", "displayFields")


def admin_forms(model: type[RecordLike]) -> JSONDict:
    """kinto-admin's ``uiSchema`` (the fields in declaration order, each field's
    ``metadata["ui_schema"]``) and ``displayFields`` (the first few fields)."""
    fields = data_fields(model)
    ui: JSONDict = {"ui:order": [*(f.name for f in fields), "*"]}
    for field in fields:
        if UI_METADATA_KEY in field.metadata:
            ui[field.name] = dict(field.metadata[UI_METADATA_KEY])
    return {"uiSchema": ui, "displayFields": [f.name for f in fields[:DISPLAY_FIELDS]]}


@attrs.frozen
class SchemaDiff:
    """What a sync changes: ``added`` properties (name -> new schema), ``removed``
    ones (name -> old schema), ``changed`` ones (name -> (old, new) schema), and
    ``other``: the top-level keys of the schema and the admin attributes that differ
    (key -> (old, new)). False when empty."""

    added: dict[str, Any] = attrs.field(factory=dict)
    removed: dict[str, Any] = attrs.field(factory=dict)
    changed: dict[str, tuple[Any, Any]] = attrs.field(factory=dict)
    other: dict[str, tuple[Any, Any]] = attrs.field(factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.other)

    def lines(self) -> list[str]:
        """The difference as lines of text (``+ name``, ``- name``, ``~ name``)."""
        out = [f"+ {name}: {_short(new)}" for name, new in self.added.items()]
        out += [f"- {name}: {_short(old)}" for name, old in self.removed.items()]
        for name, (old, new) in self.changed.items():
            out.append(f"~ {name}: {_short(old)} -> {_short(new)}")
        for key, (old, new) in self.other.items():
            out.append(f"~ [{key}]: {_short(old)} -> {_short(new)}")
        return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def diff(current: JSONDict, wanted: JSONDict) -> SchemaDiff:
    """The difference between the collection's attributes ``current`` and ``wanted``
    (each ``{"schema", "uiSchema", "displayFields"}``)."""
    old = current.get("schema") or {}
    new = wanted["schema"]
    old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
    changed = {
        name: (old_props[name], new_props[name])
        for name in new_props
        if name in old_props and old_props[name] != new_props[name]
    }
    other = {
        key: (old.get(key), new.get(key))
        for key in sorted({*old, *new} - {"properties"})
        if old.get(key) != new.get(key)
    }
    for key in ATTRIBUTES[1:]:
        if current.get(key) != wanted[key]:
            other[key] = (current.get(key), wanted[key])
    return SchemaDiff(
        added={name: new_props[name] for name in new_props if name not in old_props},
        removed={name: old_props[name] for name in old_props if name not in new_props},
        changed=changed,
        other=other,
    )


@attrs.frozen
class Failure:
    """A record the new schema refuses: its id, the field and the message."""

    id: str
    field: str
    message: str


@attrs.frozen
class SchemaSync:
    """What ``sync_schema()`` found and did: the ``diff``, how many records were
    ``checked`` and how many ``failing`` the new schema (a few named in
    ``failures``), whether it was ``written``, and the collection's ``timestamp``
    (after the write when written)."""

    diff: SchemaDiff
    schema: JSONDict
    checked: int
    failing: int
    failures: tuple[Failure, ...]
    written: bool
    timestamp: int | None

    @property
    def in_agreement(self) -> bool:
        """The collection already had the model's schema and forms."""
        return not self.diff

    def report(self) -> str:
        """The difference and the failing records, as text."""
        if not self.diff:
            return "the collection's schema agrees with the model"
        lines = self.diff.lines()
        lines.append(
            f"{self.failing} of {self.checked} existing record(s) would fail the new schema"
        )
        lines += [f"  {f.id}: {f.field}: {f.message}" for f in self.failures]
        return "\n".join(lines)


def _validator(schema: JSONDict) -> Any:
    try:
        import jsonschema
    except ImportError as exc:  # pragma: no cover - the schema extra
        raise ImportError(
            "checking records against a schema needs jsonschema: pip install 'kintorm[schema]'"
        ) from exc
    return jsonschema.Draft7Validator(schema)


def _failure(validator: Any, schema: JSONDict, record: JSONDict) -> Failure | None:
    """Validate ``record`` as Kinto does (kinto.schema_validation.validate_schema)."""
    ignored = IGNORED if "id" in schema.get("properties", {}) else ("id", *IGNORED)
    data = {k: v for k, v in record.items() if k not in ignored}
    error = next(iter(validator.iter_errors(data)), None)
    if error is None:
        return None
    path = ".".join(str(p) for p in error.absolute_path) or "(record)"
    return Failure(id=str(record.get("id")), field=path, message=error.message)


def _check_records(
    client: BaseClient, bucket: str, collection: str, schema: JSONDict
) -> Op[tuple[int, int, list[Failure]]]:
    """(checked, failing, the first failures) over every record, a page at a time."""
    validator = _validator(schema)
    checked, failing, named = 0, 0, list[Failure]()
    pages = BaseClient.get_paginated_records.op(client, bucket=bucket, collection=collection)
    outcome: Any = None
    while True:
        try:
            effect = pages.send(outcome)
        except StopIteration:
            return checked, failing, named
        if not isinstance(effect, Emit):
            outcome = yield effect
            continue
        outcome = None
        for record in _records(effect.value):
            checked += 1
            found = _failure(validator, schema, record)
            if found is not None:
                failing += 1
                if len(named) < SAMPLE:
                    named.append(found)


def _records(page: Iterable[Any]) -> Iterable[JSONDict]:
    return (r for r in page if isinstance(r, dict) and not r.get("deleted"))


def _read_collection(client: BaseClient, bucket: str, collection: str) -> Op[JSONDict | None]:
    try:
        body: JSONDict = yield from BaseClient.get_collection.op(
            client, id=collection, bucket=bucket
        )
    except KintoException as exc:
        if getattr(exc.response, "status_code", None) in (403, 404):
            return None  # missing (or not readable): created, or the write says why
        raise
    data: JSONDict = body["data"]
    return data


def sync_schema_op(
    model: type[RecordLike], client: BaseClient, dry_run: bool, if_match: int | None
) -> Op[SchemaSync]:
    """The action of ``sync_schema()`` (see the module docstring)."""
    bucket, collection = location(model, client)
    wanted = {"schema": json_schema(model), **admin_forms(model)}
    current = yield from _read_collection(client, bucket, collection)
    timestamp = current.get("last_modified") if current is not None else None
    difference = diff(current or {}, wanted)
    checked, failing, named = 0, 0, list[Failure]()
    if difference and current is not None:
        checked, failing, named = yield from _check_records(
            client, bucket, collection, wanted["schema"]
        )
    written = False
    if difference and not dry_run:
        expected = timestamp if if_match is None or timestamp is None else if_match
        timestamp = yield from _write(model, client, bucket, collection, wanted, expected)
        written = True
    return SchemaSync(
        diff=difference,
        schema=wanted["schema"],
        checked=checked,
        failing=failing,
        failures=tuple(named),
        written=written,
        timestamp=timestamp,
    )


def _write(
    model: type[RecordLike],
    client: BaseClient,
    bucket: str,
    collection: str,
    wanted: JSONDict,
    timestamp: int | None,
) -> Op[int | None]:
    """PATCH the collection's schema attributes under ``If-Match`` (create it when
    missing); ConflictError when it changed since it was read."""
    try:
        if timestamp is None:
            body: JSONDict = yield from BaseClient.create_collection.op(
                client, id=collection, bucket=bucket, data=wanted
            )
        else:
            body = yield from BaseClient.patch_collection.op(
                client, id=collection, bucket=bucket, data=wanted, if_match=timestamp
            )
    except PreconditionFailed as exc:
        raise ConflictError(
            f"the collection {bucket}/{collection} of {model.__name__} changed since its "
            f"schema was compared (timestamp {timestamp}): compare again before syncing",
            exc,
        ) from exc
    found: int | None = body["data"].get("last_modified")
    return found
