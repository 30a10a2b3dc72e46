"""The model codec's operations as the mapper's tests call them (one-line adapters over
``kintorm.orm.codec.core.codec_for``), and ``build_loader``: the loader of a codec
given another reference strategy, to test the generated one on its own."""

from __future__ import annotations

from typing import Any, TypeVar

from kintorm import Record
from kintorm.client.base import BaseClient
from kintorm.orm.codec.core import Codec, codec_for
from kintorm.orm.codec.fast import Loader

M = TypeVar("M", bound=Record)


def document(obj: Record, *, checked: bool = True) -> dict[str, Any]:
    return codec_for(type(obj)).dump(obj, checked=checked)


def from_wire(
    model: type[M],
    data: dict[str, Any],
    permissions: Any = None,
    *,
    partial: bool = False,
    client: BaseClient | None = None,
) -> M:
    obj: M = codec_for(model).load(data, permissions, partial=partial, client=client)
    return obj


def load_reference(
    model: type[M],
    data: dict[str, Any],
    permissions: Any = None,
    *,
    partial: bool = False,
    client: BaseClient | None = None,
) -> M:
    obj: M = codec_for(model).reference(data, permissions, partial, client)
    return obj


def loader(model: type[Record], *, owned: bool = False) -> Loader:
    return codec_for(model).loader(owned)


def build_loader(model: type[Record], reference: Loader, *, owned: bool = False) -> Loader:
    """The loader a codec of ``model`` whose reference strategy is ``reference`` picks
    now: the generated one (which hands ``reference`` the records it does not take),
    or ``reference`` itself while the converter has hooks of its user's or for a
    model the generated one does not take."""
    return Codec(model, reference=reference).loader(owned)
