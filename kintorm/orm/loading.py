"""Kept for the callers of its names until the merge: the generated loaders moved to
kintorm.orm.codec.fast, and the choice between them and the reference to the codec
(kintorm.orm.codec.core)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kintorm.orm.codec.fast import Loader, eligible, generate, is_native
from kintorm.orm.convert import converter

if TYPE_CHECKING:
    from kintorm.orm.model import Record

__all__ = ["Loader", "build_loader", "eligible", "is_native"]


def build_loader(model: type[Record], reference: Loader, *, owned: bool = False) -> Loader:
    """The generated loader of ``model`` (kintorm.orm.codec.fast.generate), handing its
    records to ``reference`` while the converter has hooks of its user's; ``reference``
    itself for a model the fast path does not take."""
    fast = generate(model, reference, owned=owned)
    if fast is None:
        return reference
    generated: Loader = fast

    def load(*args: Any) -> Any:
        return reference(*args) if converter.customized else generated(*args)

    return load
