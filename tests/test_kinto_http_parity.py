"""kinto-http 11.11's public names, compared with kintorm's by introspection.

Every public name of ``kinto_http``, and every public method of its ``Client`` and
``AsyncClient``, must exist in kintorm with parameters a kinto-http call can use
unchanged: the same names, positional where kinto-http's are positional, ``*args``
/ ``**kwargs`` where kinto-http has them; kintorm's extra parameters count as
differences too. Each difference must have a row in the name-by-name table of
docs/migrating.md, and each row must name a difference that exists (so the table
stays true when a difference goes away).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types
from pathlib import Path
from typing import Any

import kinto_http
import kinto_http.client
import pytest

import kintorm

MIGRATING = Path(__file__).parent.parent / "docs" / "migrating.md"
TABLE_HEADING = "## Name by name"
CLIENTS = ("Client", "AsyncClient")

# --- kinto-http's names ------------------------------------------------------------


def kinto_http_names() -> dict[str, Any]:
    """Public names of ``kinto_http``: its ``__all__``, its submodules and what it defines."""
    submodules = {m.name for m in pkgutil.iter_modules(kinto_http.__path__)}
    names: dict[str, Any] = {}
    for name in sorted({*vars(kinto_http), *submodules}):
        if name.startswith("_"):
            continue
        value = getattr(kinto_http, name, None)
        if value is None:  # a submodule the package does not import
            value = importlib.import_module(f"kinto_http.{name}")
        if isinstance(value, types.ModuleType):
            if value.__name__.startswith("kinto_http."):
                names[name] = value
            continue
        defined_here = str(getattr(value, "__module__", "")).startswith("kinto_http")
        if name in kinto_http.__all__ or defined_here:
            names[name] = value
    return names


def public_methods(cls: type) -> list[str]:
    return sorted(
        name
        for name, value in inspect.getmembers(cls)
        if not name.startswith("_") and callable(value) and not isinstance(value, type)
    )


# --- signatures ----------------------------------------------------------------------


def kinto_http_method_params(cls: type, name: str) -> list[inspect.Parameter]:
    if name == "download_attachment":  # (*args, **kwargs) forwarded to this one
        fn = kinto_http.client.Client._download_attachment
        return list(inspect.signature(fn).parameters.values())[2:]  # self, server_info
    fn = inspect.getattr_static(cls, name)
    return list(inspect.signature(fn).parameters.values())[1:]  # self


def kintorm_method_params(cls: type, name: str) -> list[inspect.Parameter] | None:
    try:
        fn = inspect.getattr_static(cls, name)
    except AttributeError:
        return None
    fn = getattr(fn, "fn", fn)  # an operation or stream: the function it was made from
    if not callable(fn):
        return None
    return list(inspect.signature(fn).parameters.values())[1:]


def callable_params(value: Any) -> list[inspect.Parameter] | None:
    try:
        return list(inspect.signature(value).parameters.values())
    except (TypeError, ValueError):
        return None


def param_differences(theirs: list[inspect.Parameter], ours: list[inspect.Parameter]) -> set[str]:
    """The parameter names whose use differs (a kinto-http call would not work the same)."""
    P = inspect.Parameter
    positional = (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)
    ours_by_name = {p.name: p for p in ours}
    our_positions = [p.name for p in ours if p.kind in positional]
    their_positions = [p.name for p in theirs if p.kind in positional]
    differing: set[str] = set()
    for param in theirs:
        if param.kind in (P.VAR_POSITIONAL, P.VAR_KEYWORD):
            if not any(p.kind == param.kind for p in ours):
                differing.add(param.name)
            continue
        mine = ours_by_name.get(param.name)
        unusable = mine is None or mine.kind in (P.POSITIONAL_ONLY, P.VAR_POSITIONAL, P.VAR_KEYWORD)
        moved = (
            mine is not None
            and param.kind in positional
            and (
                mine.kind not in positional
                or our_positions.index(param.name) != their_positions.index(param.name)
            )
        )
        if unusable or moved:
            differing.add(param.name)
    their_names = {p.name for p in theirs}
    their_kinds = {p.kind for p in theirs}
    for mine in ours:
        if mine.name.startswith("_"):  # private (a clone's shared state)
            continue
        if mine.kind in (P.VAR_POSITIONAL, P.VAR_KEYWORD):
            if mine.kind not in their_kinds:
                differing.add(mine.name)
        elif mine.name not in their_names:
            differing.add(mine.name)
    return differing


# --- the comparison ------------------------------------------------------------------


def kintorm_counterpart(name: str) -> Any:
    if hasattr(kintorm, name):
        return getattr(kintorm, name)
    try:
        return importlib.import_module(f"kintorm.{name}")
    except ModuleNotFoundError:
        return None


def differences() -> dict[str, set[str]]:
    """Each differing name -> the parameter names that differ (empty: the name is missing)."""
    found: dict[str, set[str]] = {}
    for name, value in kinto_http_names().items():
        mine = kintorm_counterpart(name)
        if mine is None:
            found[name] = set()
        elif callable(value) and not isinstance(value, types.ModuleType):
            theirs, ours = callable_params(value), callable_params(mine)
            if theirs is not None and ours is not None:
                differing = param_differences(theirs, ours)
                if differing:
                    found[name] = differing
    for client in CLIENTS:
        theirs_cls, ours_cls = getattr(kinto_http, client), getattr(kintorm, client)
        for method in public_methods(theirs_cls):
            ours = kintorm_method_params(ours_cls, method)
            if ours is None:
                found[f"{client}.{method}"] = set()
                continue
            differing = param_differences(kinto_http_method_params(theirs_cls, method), ours)
            if client == "AsyncClient" and not awaitable_in_kintorm(theirs_cls, method):
                differing.add("await")
            if differing:
                found[f"{client}.{method}"] = differing
    return found


#: kintorm's AsyncClient methods that are not operations, and a call of each
#: (no request is made) whose result must be awaitable as kinto-http's are
PLAIN_ASYNC_CALLS = {
    "get_endpoint": lambda c: c.get_endpoint("buckets"),
    "batch": lambda c: c.batch(),
}


def awaitable_in_kintorm(theirs_cls: type, method: str) -> bool:
    """Whether ``await client.<method>(...)``, which works in kinto-http, works in kintorm."""
    if not inspect.iscoroutinefunction(inspect.getattr_static(theirs_cls, method)):
        return True  # not awaited in kinto-http either
    ours = inspect.getattr_static(kintorm.AsyncClient, method)
    if hasattr(ours, "fn"):  # an operation or a stream: a coroutine or an awaitable stream
        return True
    call = PLAIN_ASYNC_CALLS.get(method)
    if call is None:
        return False
    return inspect.isawaitable(call(kintorm.AsyncClient(server_url="http://kinto.invalid/v1")))


# --- the table -----------------------------------------------------------------------


def table_rows() -> dict[str, str]:
    """Each name of the name-by-name table -> its whole row."""
    text = MIGRATING.read_text()
    assert TABLE_HEADING in text, f"docs/migrating.md has no {TABLE_HEADING!r} section"
    section = text.split(TABLE_HEADING, 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 4 or set(cells[0]) <= {"-", " ", ":"}:
            continue
        for token in re.findall(r"`([^`]+)`", cells[0]):
            expanded = (
                [f"{c}.{token.removeprefix('(Async)Client.')}" for c in CLIENTS]
                if token.startswith("(Async)Client.")
                else [token]
            )
            for name in expanded:
                assert name not in rows, f"{name} has two rows"
                rows[name] = line
    return rows


def test_the_table_parses() -> None:
    rows = table_rows()
    assert rows, "the name-by-name table is empty"
    header = [c.strip() for c in rows[next(iter(rows))].strip("|").split("|")]
    assert len(header) >= 4


def test_every_difference_is_listed_with_its_reason() -> None:
    rows = table_rows()
    missing = {name: params for name, params in differences().items() if name not in rows}
    assert not missing, (
        "kinto-http names that differ in kintorm but have no row in docs/migrating.md "
        f"({TABLE_HEADING}): {missing}"
    )


def test_every_listed_name_still_differs() -> None:
    found = differences()
    stale = sorted(name for name in table_rows() if name not in found)
    assert not stale, f"rows of docs/migrating.md for names that no longer differ: {stale}"


def test_each_row_names_its_parameters_and_gives_a_reason() -> None:
    rows = table_rows()
    for name, params in differences().items():
        row = rows.get(name)
        if row is None:
            continue  # reported by the test above
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        assert all(cells[1:4]), f"the row of {name} has an empty cell: {row}"
        unnamed = sorted(p for p in params if p not in row)
        assert not unnamed, f"the row of {name} does not name the parameters {unnamed}"


@pytest.mark.parametrize("client", CLIENTS)
def test_the_comparison_sees_kinto_http_methods(client: str) -> None:
    """The introspection itself works: it finds kinto-http's methods and their keywords."""
    methods = public_methods(getattr(kinto_http, client))
    assert {"get_records", "create_record", "batch", "get_paginated_records"} <= set(methods)
    params = kinto_http_method_params(getattr(kinto_http, client), "create_record")
    assert {"id", "bucket", "collection", "data", "permissions", "safe", "if_not_exists"} == {
        p.name for p in params
    }
    ours = kintorm_method_params(getattr(kintorm, client), "create_record")
    assert ours is not None
    assert not param_differences(params, ours)


def _params(fn: Any) -> list[inspect.Parameter]:
    return list(inspect.signature(fn).parameters.values())


def test_the_comparison_finds_each_kind_of_difference() -> None:
    """The checker itself: each way a kinto-http call could break is reported."""

    def theirs(id: str, filepath: str, *, safe: bool = True, **kwargs: Any) -> None: ...
    def same(id: str, filepath: str, *, safe: bool = True, **kwargs: Any) -> None: ...
    def keyword_only(*, id: str, filepath: str, safe: bool = True, **kwargs: Any) -> None: ...
    def swapped(filepath: str, id: str, *, safe: bool = True, **kwargs: Any) -> None: ...
    def no_kwargs(id: str, filepath: str, *, safe: bool = True) -> None: ...
    def renamed(id: str, filepath: str, *, unsafe: bool = False, **kwargs: Any) -> None: ...
    def extra(id: str, filepath: str, *, safe: bool = True, x: int = 0, **kwargs: Any) -> None: ...

    assert param_differences(_params(theirs), _params(same)) == set()
    assert param_differences(_params(theirs), _params(keyword_only)) == {"id", "filepath"}
    assert param_differences(_params(theirs), _params(swapped)) == {"id", "filepath"}
    assert param_differences(_params(theirs), _params(no_kwargs)) == {"kwargs"}
    assert param_differences(_params(theirs), _params(renamed)) == {"safe", "unsafe"}
    assert param_differences(_params(theirs), _params(extra)) == {"x"}
