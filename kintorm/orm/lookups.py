"""The lookup table, kept at its former path: see :mod:`kintorm.orm.query.lookups`."""

from kintorm.orm.query.lookups import (
    ABOVE,
    LOOKUPS,
    Either,
    Lookup,
    Target,
    encode_value,
    guard_params,
    like_literal,
)

__all__ = [
    "ABOVE",
    "LOOKUPS",
    "Either",
    "Lookup",
    "Target",
    "encode_value",
    "guard_params",
    "like_literal",
]
