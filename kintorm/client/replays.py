"""Recognising one's own write after a lost answer.

A write re-sent after its answer was lost may meet its own earlier attempt: a
create gets 412 (the record exists), an If-Match write 412 (the timestamp moved).
:func:`applied_check` tells, from the object read back, whether it holds what
the request wrote (used by single writes and by batches)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kintorm.client.messages import JSON_CONTENT_TYPE, Request

__all__ = ["applied_check"]

JSONDict = dict[str, Any]


_IGNORED = frozenset({"id", "last_modified"})


def _has_principals(stored: Any, sent: Any, *, clears: bool = False) -> bool:
    """Every principal sent is in the stored permissions (Kinto adds the writer to
    ``write``); with ``clears``, a ``None`` list (merge-patch) means emptied."""
    if not sent:
        return True
    stored = stored if isinstance(stored, dict) else {}
    for perm, principals in sent.items():
        have = stored.get(perm) or []
        if principals is None:
            if clears and have:
                return False
            continue
        if not set(principals) <= set(have):
            return False
    return True


def _merged(target: Any, patch: Any) -> Any:
    """RFC 7396: ``patch`` applied to ``target``."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merged(result.get(key), value)
    return result


def applied_check(request: Request) -> Callable[[JSONDict], bool] | None:
    """A test telling whether an object read back holds what ``request`` wrote;
    None for a JSON Patch, which cannot be checked."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    content_type = headers.get("content-type", JSON_CONTENT_TYPE)
    if "json-patch" in content_type:
        return None
    body = request.json() or {}
    sent = body.get("data") if isinstance(body, dict) else None
    sent = sent if isinstance(sent, dict) else {}
    perms = body.get("permissions") if isinstance(body, dict) else None
    merge = "merge-patch" in content_type
    exact = request.method == "PUT" and headers.get("if-none-match") != "*"

    def check(current: JSONDict) -> bool:
        stored = current.get("data")
        if not isinstance(stored, dict):
            return False
        if not _has_principals(current.get("permissions"), perms, clears=merge):
            return False
        if exact:  # an update (PUT): the same data
            return _strip(stored) == _strip(sent)
        if merge:  # the patch changes nothing any more
            return bool(_merged(stored, sent) == stored)
        # a create (every field sent, as sent) or a basic patch (a shallow merge)
        return all(k in stored and stored[k] == v for k, v in sent.items() if k not in _IGNORED)

    return check


def _strip(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in _IGNORED}
