"""Lookup compilation, kept at its former path: see :mod:`kintorm.orm.query.filters`
(and :mod:`kintorm.orm.query.fields` for field resolution)."""

from kintorm.orm.query.fields import check_fields, resolve_field, target
from kintorm.orm.query.filters import (
    Branches,
    combine_branches,
    compile_filter,
    compile_lookups,
    merge_filters,
)

__all__ = [
    "Branches",
    "check_fields",
    "combine_branches",
    "compile_filter",
    "compile_lookups",
    "merge_filters",
    "resolve_field",
    "target",
]
