"""Exceptions raised by the object mapper.

The tree::

    Exception
     ├── ORMError                      anything the mapper refuses before or after a request
     │    ├── FieldError                a field name the model does not declare (typo)
     │    │    └── DeferredFieldError   reading a field that only() did not load
     │    ├── UnsupportedQuery          a query Kinto cannot express (OR across fields, ...)
     │    ├── PageError                 a page request an API answers with 400 (also ValueError;
     │    │    │                        defined in kintorm.orm.cursor, beside the cursors)
     │    │    ├── InvalidCursor        a cursor not made for this query, or altered
     │    │    └── InvalidPageSize      a page size that is not an int from 1 to 10,000
     │    ├── DoesNotExist              get() found nothing (also ``Model.DoesNotExist``)
     │    ├── MultipleObjectsReturned   get() found several
     │    ├── ValidationError           a value the model or the server's schema rejects
     │    │    └── InvalidRecord        a stored record the model cannot load (``.data``)
     │    ├── BulkError                 some items of a bulk operation failed; ``.result``
     │    │                             (defined in kintorm.orm.bulk, beside the result it holds)
     │    ├── AfterHookError            a write was applied but an after hook raised
     │    │                             (defined in kintorm.orm.hooks, beside the hooks)
     │    └── AttachmentError           an attachment the mapper cannot upload, fetch or write
     │         └── AttachmentHashMismatch  downloaded bytes that are not the file
     │                                  (both in kintorm.orm.attachments.value)
     └── KintoException (client)
          ├── PermissionDenied          403 on a write: bucket/collection missing or not writable
          └── PreconditionFailed (client)
               └── ConflictError        412 on save()/delete(): ``.current``, ``.changes``
"""

from __future__ import annotations

from typing import Any

from kintorm.client.exceptions import KintoException, PreconditionFailed

__all__ = [
    "ConflictError",
    "DeferredFieldError",
    "DoesNotExist",
    "FieldError",
    "InvalidRecord",
    "MultipleObjectsReturned",
    "ORMError",
    "PermissionDenied",
    "UnsupportedQuery",
    "ValidationError",
]


class ORMError(Exception):
    """Base of the mapper's own errors."""


class FieldError(ORMError, AttributeError):
    """A field name (in a filter, ordering, ``only()``...) that the model does not declare.

    Kinto would silently match nothing, so the mapper refuses before sending anything.
    """


class DeferredFieldError(FieldError):
    """Reading a field that ``only()`` did not load: its value is unknown here (add it
    to ``only()``, or ``refresh()`` the record). An AttributeError, so ``getattr(obj,
    name, default)`` and ``hasattr`` see no value."""


class UnsupportedQuery(ORMError):
    """A query that Kinto's querystring cannot express; the message says why."""


class DoesNotExist(ORMError, LookupError):
    """``get()`` (or ``refresh()``) found no record."""


class MultipleObjectsReturned(ORMError, LookupError):
    """``get()`` found more than one record."""


class ValidationError(ORMError, ValueError):
    """A value the model (attrs/cattrs) or the server (a collection JSON schema) rejects.

    ``field`` names the first offending field when known, ``errors`` lists every
    message (``"<message> @ <path>"``), ``field_errors`` every error as a ``(path,
    message)`` pair, the path naming the place of a nested value (``author.name``,
    ``tags[2]``, ``meta['key']``; ``""`` for the whole record). ``to_dict()`` is the
    JSON-ready form an API answers with a 400; ``response`` is the server's answer
    if any (its 400: Kinto names one field, the innermost key of its path).
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: list[str] | None = None,
        response: Any = None,
        field_errors: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.errors = errors if errors is not None else [message]
        if field_errors is None:
            field_errors = [(field or "", error) for error in self.errors]
        self.field_errors = field_errors
        self.response = response

    def to_dict(self) -> dict[str, Any]:
        """``{"message": str(exc), "errors": [{"field": path, "message": ...}, ...]}``:
        JSON-ready, for the body of a 400 answer."""
        return {
            "message": str(self),
            "errors": [{"field": path, "message": text} for path, text in self.field_errors],
        }


class InvalidRecord(ValidationError):
    """A record on the server that does not fit the model (written by another program,
    or before the model changed): ``record_id``, ``field`` (the first offending one),
    ``errors`` and ``data``, the record's document as the server sent it.

    A query set made with ``on_invalid("skip")`` reads past such records.
    """

    def __init__(
        self,
        message: str,
        *,
        record_id: Any,
        data: dict[str, Any],
        field: str | None = None,
        errors: list[str] | None = None,
        field_errors: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message, field=field, errors=errors, field_errors=field_errors)
        self.record_id = record_id
        self.data = data


class PermissionDenied(KintoException):
    """A write was refused with 403: Kinto answers so both for a bucket that does not
    exist and for one the user may not write to. The message names bucket and collection."""


class ConflictError(PreconditionFailed):
    """412 on a safe write: someone else changed (or deleted, or created) the record.

    ``current`` is the server's version as a model instance (``None`` when the record
    was deleted), ``local`` the instance being saved and ``changes`` the patch (or
    the full document for a create) that was refused.
    """

    def __init__(
        self,
        message: str,
        exception: KintoException,
        *,
        current: Any = None,
        local: Any = None,
        changes: Any = None,
    ) -> None:
        super().__init__(message, exception, request=exception.request, response=exception.response)
        self.maybe_applied = exception.maybe_applied
        self.current = current
        self.local = local
        self.changes = changes
