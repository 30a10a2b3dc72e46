"""The model codec's operations as the mapper's tests call them (one-line adapters over
``kintorm.orm.codec.core.codec_for``), and ``build_loader``: the generated loader of
a model with a given reference, to test the fast strategy on its own."""

from __future__ import annotations

from typing import Any, TypeVar

from kintorm import Record
from kintorm.client.base import BaseClient
from kintorm.orm.codec.core import codec_for
from kintorm.orm.codec.fast import Loader, generate
from kintorm.orm.convert import converter

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
    """The generated loader of ``model`` handing records to ``reference`` while the
    converter has hooks of its user's (as ``Codec.loader`` decides); ``reference``
    itself for a model the fast path does not take."""
    fast = generate(model, reference, owned=owned)
    if fast is None:
        return reference
    generated: Loader = fast

    def load(*args: Any) -> Any:
        return reference(*args) if converter.customized else generated(*args)

    return load
