"""``Attachment``: the metadata kinto-attachment keeps in a record's ``attachment`` key.

The plugin stores one file per record and describes it in the record itself::

    "attachment": {"filename": "cat.png", "location": "https://cdn/.../a1b2.png",
                   "hash": "<sha256 hex>", "mimetype": "image/png", "size": 5120}

(kinto_attachment.utils.save_file), and sets the key to ``null`` when the file is
removed. :class:`Attachment` is that object as a frozen attrs value: plain data
that ``attrs.asdict``, cattrs or any serialiser handles, with the keys it does not
name kept in ``extra`` (nothing the server stored is dropped).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from kintorm.orm.exceptions import ORMError, ValidationError

__all__ = [
    "ATTACHMENT_KEY",
    "ATTACHMENT_SCHEMA",
    "Attachment",
    "AttachmentError",
    "AttachmentHashMismatch",
]

#: the record key kinto-attachment writes (its SINGLE_FILE_FIELD)
ATTACHMENT_KEY = "attachment"

#: the named keys: (name, accepted types, required)
_KEYS: tuple[tuple[str, tuple[type, ...], bool], ...] = (
    ("location", (str,), True),
    ("hash", (str,), True),
    ("size", (int,), True),
    ("filename", (str,), True),
    ("mimetype", (str, type(None)), False),
)

#: the JSON schema of the ``attachment`` key (draft 7): the object or null
ATTACHMENT_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "properties": {
        "location": {"type": "string"},
        "hash": {"type": "string"},
        "size": {"type": "integer", "minimum": 0},
        "filename": {"type": "string"},
        "mimetype": {"type": ["string", "null"]},
    },
    "required": [name for name, _, required in _KEYS if required],
    "additionalProperties": True,
}


class AttachmentError(ORMError):
    """An attachment operation the mapper refuses or cannot complete: no file to
    download, a source it cannot read, a location it will not fetch."""


class AttachmentHashMismatch(AttachmentError):
    """The downloaded bytes are not the attachment's: their sha256 (or size) differs
    from the record's ``hash`` (``size``). Nothing was written."""

    def __init__(self, message: str, *, expected: str, actual: str, size: int) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual
        #: how many bytes came
        self.size = size


@attrs.frozen(kw_only=True)
class Attachment:
    """A record's file, as kinto-attachment describes it.

    ``location`` is where it is served (absolute when the server sets a base URL,
    else relative to the one its capabilities announce), ``hash`` the sha256 of its
    bytes (hex), ``size`` their number, ``filename`` and ``mimetype`` what the
    upload said (or the server decided). ``extra`` holds any other key of the
    stored object. Made by the mapper from the record; upload with
    ``record.attach(...)``, remove with ``record.detach()``.
    """

    location: str
    hash: str
    size: int
    filename: str
    mimetype: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False)

    @classmethod
    def from_wire(cls, value: Any, *, where: str = ATTACHMENT_KEY) -> Attachment:
        """The attachment of a record's ``attachment`` object; ValidationError naming
        ``where`` and the key when it is not one (a record written by another program)."""
        if not isinstance(value, Mapping):
            raise _invalid(where, f"expected an object, got {type(value).__name__} {value!r}")
        known: dict[str, Any] = {}
        for name, types, required in _KEYS:
            if name not in value:
                if required:
                    raise _invalid(where, f"the key {name!r} is missing")
                continue
            item = value[name]
            if isinstance(item, bool) or not isinstance(item, types):
                raise _invalid(where, f"{name!r} is {type(item).__name__} {item!r}")
            known[name] = item
        extra = {k: v for k, v in value.items() if k not in known}
        return cls(**known, extra=extra)

    def to_wire(self) -> dict[str, Any]:
        """The record's ``attachment`` object (the named keys, then ``extra``)."""
        named = {name: getattr(self, name) for name, _, _ in _KEYS}
        return {**self.extra, **named}


def _invalid(where: str, problem: str) -> ValidationError:
    message = f"{where}: not an attachment object: {problem}"
    return ValidationError(message, field=where, errors=[message])
