"""The typed strategy for whole pages: msgspec decodes a listing's body straight into
one struct per record, checking each value's type in C, and a function generated per
model makes the instances of the page from the structs.

It serves a listing read whole (``list(qs)``) when msgspec is the decoder (the
``fast`` extra, unless ``$KINTORM_JSON=json``), for a model whose ``__init__`` only
stores values (kintorm.orm.codec.fast.eligible) and whose fields are all JSON-native
without ``float`` (str, int, bool, ``X | None``, lists and string-keyed dicts of them:
the struct's checks are then exactly the generated loader's). A struct takes a record
only when it holds exactly the model's fields, ``id`` and ``last_modified``, each of
its type. A page with any other record (a tombstone, an undeclared or a missing
field, a value of another type, a string msgspec refuses) is decoded again as plain
JSON and loaded by the other strategies, so that every record gets what they give it.

The instances are what the generated loader makes of the same records: the values
(lists and dicts as decoded), the snapshot (the values, lists frozen into tuples), the
client; two objects per record that the garbage collector keeps tracking.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from kintorm.client.decoding import FAST_DECODER, collector_paused, decode_json
from kintorm.client.retries import Decoder
from kintorm.orm.codec.fast import define, eligible, frozen_source, is_native
from kintorm.orm.codec.frozen import freeze
from kintorm.orm.state import CLIENT, SNAPSHOT, RecordLike

if TYPE_CHECKING:
    from kintorm.client.base import BaseClient

__all__ = ["Loaded", "PageDecoder", "TypedPages", "typed_pages"]

#: the JSON scalars whose values a struct checks as the generated loader does
_SCALARS: tuple[type, ...] = (str, int, bool)


class Loaded(list[Any]):
    """A page whose records are instances already (the query set keeps them as they are)."""


#: ``decode(body)``: a listing's body as ``json.loads`` gives it, its ``data`` a
#: :class:`Loaded` page when the typed strategy took every record
PageDecoder = Decoder


class TypedPages:
    """The typed strategy of one model: its struct's decoder and instance builder."""

    def __init__(self, model: type[RecordLike], fields: Sequence[attrs.Attribute[Any]]) -> None:
        import msgspec  # present: FAST_DECODER is msgspec's

        self._failed: tuple[type[Exception], ...] = (msgspec.MsgspecError,)
        record = msgspec.defstruct(
            f"{model.__name__}Record",
            [*((f.name, f.type) for f in fields), ("id", str), ("last_modified", int)],
            forbid_unknown_fields=True,
            gc=False,
        )
        page = msgspec.defstruct(f"{model.__name__}Page", [("data", list[record])], gc=False)  # type: ignore[valid-type]
        self._decode: Callable[[bytes], Any] = msgspec.json.Decoder(page).decode
        self._build = _builder(model, fields)

    def decoder(self, client: BaseClient | None) -> PageDecoder:
        """The page decoder of listings read with ``client``."""

        def decode(content: bytes) -> Any:
            with collector_paused():
                try:
                    page = self._decode(content)
                except self._failed:
                    return decode_json(content)  # for the other strategies
                return {"data": self._build(page.data, client)}

        return decode


def typed_pages(
    model: type[RecordLike], fields: Sequence[attrs.Attribute[Any]]
) -> TypedPages | None:
    """The typed strategy of ``model``, or None where it does not apply (see the module
    docstring)."""
    if FAST_DECODER is None or not eligible(model):
        return None
    if not all(is_native(f.type, _SCALARS) for f in fields):
        return None
    return TypedPages(model, fields)


def _builder(
    model: type[RecordLike], fields: Sequence[attrs.Attribute[Any]]
) -> Callable[[list[Any], BaseClient | None], Loaded]:
    """``build(structs, client)``: the instances, as the generated loader makes them."""
    lines = ["def build(structs, client):", "    page = _Loaded()", "    append = page.append"]
    lines.append("    for s in structs:")
    lines.append("        obj = _new(_model)")
    snapshot = []
    for n, field in enumerate(fields):
        lines.append(f"        v{n} = s.{field.name}")
        snapshot.append(f"{field.name!r}: {frozen_source(field.type, f'v{n}')}")
    names = [f.name for f in fields]
    for field in attrs.fields(model):  # the order __init__ stores them in
        if field.name in ("id", "last_modified"):
            lines.append(f"        obj.{field.name} = s.{field.name}")
        elif field.name in names:  # not permissions (made empty when first read), nor
            # the attachment field (a view of the undeclared keys, which are none here)
            lines.append(f"        obj.{field.name} = v{names.index(field.name)}")
    lines.append(f"        obj.{SNAPSHOT} = {{{', '.join(snapshot)}}}")
    lines.append(f"        obj.{CLIENT} = client")
    lines.append("        append(obj)")
    lines.append("    return page")
    text = "\n".join(lines) + "\n"
    env: dict[str, Any] = {"_Loaded": Loaded, "_new": object.__new__, "_model": model}
    env["_freeze"] = freeze
    filename = f"<kintorm page builder {model.__module__}.{model.__qualname__} {id(model):x}>"
    build: Callable[[list[Any], BaseClient | None], Loaded] = define(text, filename, env, "build")
    return build
