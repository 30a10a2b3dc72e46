"""The sans-IO core, in one import: requests and responses as values, effects,
encoding, the shared session state, retries and pagination.

Nothing here touches the network or the clock. An *operation* is a generator
that yields effects (``effects.py``) and receives their outcome; the
trampolines (``trampoline.py``) run it, and the drivers in ``sync.py`` and
``aio.py`` only move bytes, time and files. Each concern has its module; this
one gathers their names for the code that needs several:

* ``messages.py``: :class:`Request`, :class:`Response`, :class:`Headers`, :class:`File`;
* ``effects.py``: :class:`Sleep`, :class:`Emit`, :class:`Fanout`, file effects, ``Op``;
* ``encoding.py``: JSON and query encoding as Kinto reads them, ETag quoting;
* ``shared.py``: :class:`Session`, the state a client shares with its clones;
* ``retries.py``: :func:`send` (Backoff, retries, error mapping);
* ``pagination.py``: :func:`paginate`, :func:`collect`, :func:`relay`.
"""

from __future__ import annotations

from kintorm.client.effects import Action, Effect, Emit, Fanout, Op, Sleep, Stream
from kintorm.client.encoding import (
    KINTO_INT_RANGE,
    MAX_JSON_DEPTH,
    check_encoded,
    check_json,
    encode_json,
    encode_param,
    encode_params,
    quote_etag,
    unquote_etag,
)
from kintorm.client.messages import (
    BODY_PREVIEW_CHARS,
    JSON_CONTENT_TYPE,
    NOT_MODIFIED,
    File,
    Headers,
    Request,
    Response,
    preview,
)
from kintorm.client.pagination import collect, paginate, relay
from kintorm.client.retries import (
    ERROR_CLASSES,
    IDEMPOTENT_METHODS,
    RETRYABLE_STATUSES,
    UNCERTAIN_STATUSES,
    error_for,
    is_idempotent,
    send,
)
from kintorm.client.shared import Session

__all__ = [
    "BODY_PREVIEW_CHARS",
    "ERROR_CLASSES",
    "IDEMPOTENT_METHODS",
    "JSON_CONTENT_TYPE",
    "KINTO_INT_RANGE",
    "MAX_JSON_DEPTH",
    "NOT_MODIFIED",
    "RETRYABLE_STATUSES",
    "UNCERTAIN_STATUSES",
    "Action",
    "Effect",
    "Emit",
    "Fanout",
    "File",
    "Headers",
    "Op",
    "Request",
    "Response",
    "Session",
    "Sleep",
    "Stream",
    "check_encoded",
    "check_json",
    "collect",
    "encode_json",
    "encode_param",
    "encode_params",
    "error_for",
    "is_idempotent",
    "paginate",
    "preview",
    "quote_etag",
    "relay",
    "send",
    "unquote_etag",
]
