"""The benchmark harness runs (a smoke run: one workload, one repetition).

Timings are never asserted here: only that the harness measures both clients
on the same server and prints its verdict row.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _smoke(module: str, *args: str, timeout: float) -> str:
    """The output of ``python -m module --quick --no-pg *args``, which must succeed."""
    run = subprocess.run(
        [sys.executable, "-m", module, "--quick", "--no-pg", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def test_bench_smoke_run_compares_both_clients() -> None:
    out = _smoke("bench", "--only", "B7", timeout=120)
    rows = [line for line in out.splitlines() if line.startswith("B7 ")]
    assert rows, out[-2000:]
    assert "x" in rows[-1].split("get_record calls")[1]  # ratios were computed
    assert "PostgreSQL: skipped (--no-pg)" in out


def test_data_tools_smoke_run_checks_the_round_trip() -> None:
    out = _smoke("bench", "--only", "B12,B13", timeout=600)  # on their own server
    assert "== Kinto on memory (data server) ==" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line[:3] in ("B12", "B13")}
    assert set(rows) == {"B12", "B13"}, out[-2000:]
    assert "MiB" in rows["B12"] and "x" in rows["B13"].split("bulk_create")[-1]
    assert "dump -> load round trip exact: 2,000 records" in out


def test_only_names_a_workload_and_its_variants() -> None:
    from bench.__main__ import selected

    assert [w.id for w in selected("B1")] == ["B1-3k", "B1"]  # not B10 to B13
    assert [w.id for w in selected("b2")] == ["B2a", "B2b"]
    assert [w.id for w in selected("B12,B13")] == ["B12", "B13"]
    with pytest.raises(SystemExit, match="unknown workload"):
        selected("B14")


def test_run_order_reads_each_shared_collection_in_one_stretch() -> None:
    from bench.__main__ import run_order
    from bench.workloads import WORKLOADS

    order = [w.id for w in run_order(list(WORKLOADS))]
    assert order.index("B4") < order.index("B6") < order.index("B1") < order.index("B2a")
    reads = [order.index(x) for x in ("B1", "B5", "B7")]
    assert max(reads) - min(reads) == 2  # nothing in between: "read" is dropped after


def test_measure_sides_alternates_and_skips_the_warm_up() -> None:
    from bench.harness import measure_sides

    calls: list[str] = []

    def side(name: str) -> object:
        return lambda: lambda: calls.append(name)

    stats = measure_sides([side("a"), side("b"), side("c")], reps=2, warmup=1)  # type: ignore[list-item]
    assert calls == ["a", "b", "c", "c", "b", "a", "a", "b", "c"]
    assert [len(s.walls) for s in stats] == [2, 2, 2]


# --- the bench's indexed permission backend answers as Kinto's memory backend -------------------

OBJECTS = (
    "/buckets/b",
    "/buckets/b/collections/c",
    "/buckets/b/collections/c/records/r1",
    "/buckets/b/collections/c/records/r2",
    "/buckets/b2",
    "/buckets/b:x",  # no Kinto id holds ':': the backend falls back to Kinto's scan
)
PERMISSIONS = ("read", "write", "record:create")
PRINCIPALS = ("account:a", "account:b", "system.Everyone")
#: importing Kinto imports webob, which imports the standard library's cgi
KINTO_IMPORT = pytest.mark.filterwarnings("ignore:'cgi' is deprecated:DeprecationWarning")


def _operations() -> st.SearchStrategy[tuple[str, tuple[object, ...]]]:
    obj, perm, who = (st.sampled_from(x) for x in (OBJECTS, PERMISSIONS, PRINCIPALS))
    pattern = st.sampled_from((*OBJECTS, "/buckets/b/*", "/buckets/b/collections/c/records/*"))
    acl = st.dictionaries(perm, st.lists(who, max_size=2), max_size=2)
    return st.one_of(
        st.tuples(st.just("add_principal_to_ace"), st.tuples(obj, perm, who)),
        st.tuples(st.just("remove_principal_from_ace"), st.tuples(obj, perm, who)),
        st.tuples(st.just("replace_object_permissions"), st.tuples(obj, acl)),
        st.tuples(st.just("delete_object_permissions"), st.lists(pattern, max_size=2).map(tuple)),
        st.tuples(st.just("add_user_principal"), st.tuples(who, who)),
        st.tuples(st.just("remove_principal"), st.tuples(who)),
        st.tuples(st.just("flush"), st.just(())),
    )


@KINTO_IMPORT
@settings(max_examples=300, deadline=None)
@given(st.lists(_operations(), max_size=25))
def test_indexed_permission_backend_answers_as_kintos(
    ops: list[tuple[str, tuple[object, ...]]],
) -> None:
    from kinto.core.permission.memory import Permission as KintoPermission

    from bench.kinto_permission import IndexedStore, Permission

    kinto, indexed = KintoPermission(), Permission()
    for name, args in ops:  # Kinto's own errors (a pattern given twice) included
        outcomes = []
        for backend in (kinto, indexed):
            try:
                getattr(backend, name)(*args)
                outcomes.append(None)
            except KeyError as exc:
                outcomes.append(exc.args)
        assert outcomes[0] == outcomes[1]
    assert isinstance(indexed._store, IndexedStore)
    assert dict(indexed._store) == kinto._store
    objects = list(OBJECTS)
    assert indexed.get_objects_permissions(objects) == kinto.get_objects_permissions(objects)
    for obj in OBJECTS:  # (with a list of permissions, both are Kinto's own code)
        assert indexed.get_object_permissions(obj) == kinto.get_object_permissions(obj)
    assert indexed.get_accessible_objects(PRINCIPALS) == kinto.get_accessible_objects(PRINCIPALS)


@KINTO_IMPORT
def test_indexed_store_refuses_changes_it_would_not_index() -> None:
    from bench.kinto_permission import IndexedStore

    store = IndexedStore()
    store["permission:/buckets/b:read"] = {"account:a"}
    for change in (lambda: store.pop("x"), store.clear, lambda: store.update({})):
        with pytest.raises(TypeError, match="item assignment"):
            change()
    assert store.by_object == {"/buckets/b": {"permission:/buckets/b:read"}}


def test_the_page_says_how_each_figure_was_taken(tmp_path: pathlib.Path) -> None:
    from bench.page import write_docs

    path = tmp_path / "benchmarks.md"
    write_docs(path, [], ["a note"], reps=5, warmup=1, elapsed=1.0, pg_workers=4)
    text = path.read_text()
    assert text.startswith("# Benchmarks: kintorm vs kinto-http")
    assert "the data tools' B12 and B13" in text and "- a note" in text
    assert path.with_suffix(".png").exists()
