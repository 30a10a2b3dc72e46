"""Change tracking: the difference between two documents as a Kinto PATCH.

A *document* is what a record looks like on the wire, without ``id`` and
``last_modified``: ``{"data": {...}, "permissions": {"read": [...], ...}}``.
The mapper keeps the document of each record as it was last loaded or saved
(the snapshot) and diffs it against the current one, so changes made inside
nested lists and dicts are seen, not only attribute assignments.

* :func:`merge_diff` -> an RFC 7396 merge-patch, or ``None`` when merge-patch
  cannot say it (a ``null`` value, since merge-patch ``null`` deletes);
* :func:`json_diff` -> RFC 6902 operations (always possible);
* :func:`diff_documents` picks one and wraps it in MergePatch / JSONPatch.
"""

from __future__ import annotations

from typing import Any, Literal

from kintorm.client.patch import JSONPatch, MergePatch, PatchType

__all__ = ["PatchMode", "changed_keys", "diff_documents", "json_diff", "merge_diff", "same"]

PatchMode = Literal["auto", "merge", "json"]
JSONDict = dict[str, Any]


def same(a: Any, b: Any) -> bool:
    """JSON equality: ``1``, ``1.0`` and ``True`` are different values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _has_object_null(value: Any) -> bool:
    """Would merge-patch lose something of ``value`` when it is a patch value?

    A null deletes; a null inside an object value deletes too (the target becomes
    that object, merged). Nulls inside arrays are fine: arrays are copied whole.
    """
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_object_null(v) for v in value.values())
    return False


def merge_diff(old: JSONDict, new: JSONDict) -> JSONDict | None:
    """The merge-patch that turns ``old`` into ``new``; ``None`` if there is none."""
    patch: JSONDict = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        if key in old and same(old[key], value):
            continue
        previous = old.get(key)
        if isinstance(value, dict) and isinstance(previous, dict):
            sub = merge_diff(previous, value)
            if sub is None:
                return None
            if sub:
                patch[key] = sub
            continue
        if _has_object_null(value):
            return None
        if isinstance(value, dict) and key in old:
            # Kinto merges an object into the existing non-object value instead of
            # replacing it (kinto.core.utils.recursive_update_dict): not expressible.
            return None
        patch[key] = value
    return patch


def _pointer(parts: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def json_diff(old: Any, new: Any, path: list[str | int] | None = None) -> list[JSONDict]:
    """RFC 6902 operations turning ``old`` into ``new`` (under ``path``)."""
    path = path or []
    if same(old, new):
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        ops: list[JSONDict] = [
            {"op": "remove", "path": _pointer([*path, key])} for key in old if key not in new
        ]
        for key, value in new.items():
            if key in old:
                ops += json_diff(old[key], value, [*path, key])
            else:
                ops.append({"op": "add", "path": _pointer([*path, key]), "value": value})
        return ops
    if isinstance(old, list) and isinstance(new, list) and path:
        common = min(len(old), len(new))
        ops = []
        for i in range(common):
            ops += json_diff(old[i], new[i], [*path, i])
        # trailing removals from the end, so indexes stay valid
        ops += [
            {"op": "remove", "path": _pointer([*path, i])}
            for i in reversed(range(common, len(old)))
        ]
        ops += [{"op": "add", "path": _pointer([*path, "-"]), "value": v} for v in new[common:]]
        if len(ops) > 1 + len(new) // 2:
            return [{"op": "replace", "path": _pointer(path), "value": new}]
        return ops
    if not path:
        raise ValueError("a document root cannot be replaced")
    # "add" on an object member replaces it and also works when the server lacks it
    op = "replace" if isinstance(path[-1], int) else "add"
    return [{"op": op, "path": _pointer(path), "value": new}]


def _permissions(doc: JSONDict) -> dict[str, list[str]]:
    perms: dict[str, list[str]] = doc.get("permissions") or {}
    return perms


def changed_keys(old: JSONDict, new: JSONDict) -> set[str]:
    """Top-level data keys that differ, plus ``"permissions"`` if they do."""
    old_data, new_data = old.get("data", {}), new.get("data", {})
    keys = {k for k in old_data.keys() | new_data.keys() if k not in old_data or k not in new_data}
    keys |= {k for k in old_data.keys() & new_data.keys() if not same(old_data[k], new_data[k])}
    if not same(_permissions(old), _permissions(new)):
        keys.add("permissions")
    return keys


def _merge_patch(old: JSONDict, new: JSONDict) -> MergePatch | None:
    data = merge_diff(old.get("data", {}), new.get("data", {}))
    if data is None:
        return None
    old_perms, new_perms = _permissions(old), _permissions(new)
    perms = {
        perm: new_perms.get(perm, [])
        for perm in old_perms.keys() | new_perms.keys()
        if not same(old_perms.get(perm, []), new_perms.get(perm, []))
    }
    if not data and not perms:
        return MergePatch()
    return MergePatch(data=data or None, permissions=perms or None)


def _json_patch(old: JSONDict, new: JSONDict) -> JSONPatch:
    ops = json_diff(old.get("data", {}), new.get("data", {}), ["data"])
    old_perms, new_perms = _permissions(old), _permissions(new)
    for perm in sorted(old_perms.keys() | new_perms.keys()):
        before, after = set(old_perms.get(perm, [])), set(new_perms.get(perm, []))
        for principal in sorted(before - after):
            ops.append({"op": "remove", "path": _pointer(["permissions", perm, principal])})
        for principal in sorted(after - before):
            ops.append({"op": "add", "path": _pointer(["permissions", perm, principal])})
    return JSONPatch(ops)


def _only(doc: JSONDict, keys: set[str]) -> JSONDict:
    """``doc`` with only the data keys in ``keys`` (permissions as they are)."""
    data = doc.get("data", {})
    return {**doc, "data": {k: v for k, v in data.items() if k in keys}}


def diff_documents(old: JSONDict, new: JSONDict, mode: PatchMode = "auto") -> PatchType | None:
    """The PATCH turning document ``old`` into ``new``, or ``None`` when they are equal.

    ``"auto"`` sends a merge-patch, or a JSON-patch where merge-patch cannot say it;
    ``"merge"`` insists on merge-patch (ValueError when impossible); ``"json"``
    always sends JSON-patch.
    """
    keys = changed_keys(old, new)
    if not keys:
        return None
    # Only the changed keys, in their order: the diffs skip equal values anyway, and
    # a record of 50 fields with one changed is then one comparison per field.
    old, new = _only(old, keys), _only(new, keys)
    if mode != "json":
        merge = _merge_patch(old, new)
        if merge is not None:
            return merge
        if mode == "merge":
            raise ValueError(
                "merge-patch cannot express this change (a null value would delete the key); "
                "use patch='json' or 'auto'"
            )
    return _json_patch(old, new)
