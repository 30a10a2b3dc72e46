"""The layering rules of docs/architecture.md, read from the source with ``ast``:

- no import cycle among the modules of ``kintorm/``, at run time or for annotations;
- ``kintorm/orm/`` uses no private name of the client layer.

Imports counted: every ``import``/``from ... import`` at module level *and inside
functions* (a lazy import still closes a cycle at run time), relative ones resolved.
Imports under ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``) never run: they are
left out of the run-time graph, and counted in a second graph, of the imports the
annotations need too, which must have no cycle either (a module annotated with a name
of a module above it depends on that module all the same: a protocol or a base class
defined lower names what it needs). An import names its most specific module: ``from
kintorm.orm import query`` is an edge to ``kintorm.orm.query`` when that module
exists, to the package's ``__init__`` otherwise; the parent packages a submodule
import initialises first are not edges (a package's ``__init__`` re-exporting its
submodules is not a cycle).

A private client name is one that starts with ``_`` (not a dunder) and is defined in
``kintorm/client/`` (a module-level name, a class's method or attribute, or a
``self._x = ...`` attribute). ``orm`` uses one when it imports such a name from
``kintorm.client.*`` (or imports a private ``kintorm.client._module``), or reads
``obj._name`` for such a name, unless ``obj`` is ``self``/``cls`` and ``orm``
defines that name itself.
"""

from __future__ import annotations

import ast
import pathlib
from collections.abc import Iterator, Mapping

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kintorm"
CLIENT = "kintorm.client"
ORM = "kintorm.orm"


# --- reading the tree ----------------------------------------------------------------


def tree_sources(package: pathlib.Path = PACKAGE) -> dict[str, str]:
    """Module name -> source of every ``.py`` file under ``package``."""
    sources = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        sources[".".join(parts)] = path.read_text()
    return sources


def _packages(sources: Mapping[str, str]) -> set[str]:
    return {m for m in sources if any(o.startswith(m + ".") for o in sources)}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks
    (their ``else:`` runs, so it is kept)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _base(module: str, level: int, name: str | None, packages: set[str]) -> str:
    """The absolute module an ``ImportFrom`` in ``module`` reads from."""
    if level == 0:
        return name or ""
    package = module if module in packages else module.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{name}" if name else package


def imported_modules(
    module: str, source: str, known: Mapping[str, str], *, annotations: bool = False
) -> set[str]:
    """The modules of ``known`` that ``module`` imports at run time (and, with
    ``annotations``, under ``if TYPE_CHECKING:`` too)."""
    packages = _packages(known)
    found: set[str] = set()

    def add(name: str) -> None:
        while name and name not in known:  # a name inside a module: the module
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)

    tree = ast.parse(source)
    for node in ast.walk(tree) if annotations else runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, node.level, node.module, packages)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                add(sub if sub in known else base)
    return found


def import_graph(sources: Mapping[str, str], *, annotations: bool = False) -> dict[str, set[str]]:
    """Module -> the modules it imports at run time (with ``annotations``, also those
    it imports for its annotations alone), among ``sources``."""
    return {m: imported_modules(m, s, sources, annotations=annotations) for m, s in sources.items()}


def strongly_connected(graph: Mapping[str, set[str]]) -> list[set[str]]:
    """The groups of two or more modules that import each other, directly or not
    (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def find_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected group of modules, sorted."""
    return sorted(_cycle_in(group, graph) for group in strongly_connected(graph))


def _cycle_in(group: set[str], graph: Mapping[str, set[str]]) -> list[str]:
    """A shortest cycle through the smallest module of ``group`` (breadth first)."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & group):
            if w == start:
                return [*paths[v], start]
            if w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    raise AssertionError(f"no cycle in {sorted(group)}")  # pragma: no cover


# --- private names of the client layer ------------------------------------------------


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def defined_names(source: str) -> set[str]:
    """Names a module defines: module-level and class-body names (at any depth),
    functions, classes, and ``self.x = ...`` attributes."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.alias) and node.asname is None:
            names.add(node.name.partition(".")[0])
        elif isinstance(node, ast.alias) and node.asname:
            names.add(node.asname)
    return names


def private_client_uses(
    sources: Mapping[str, str], client: str = CLIENT, orm: str = ORM
) -> list[str]:
    """``module:line: what`` for each use of a private client name under ``orm``."""

    def under(module: str, prefix: str) -> bool:
        return module == prefix or module.startswith(prefix + ".")

    client_private = {
        n for m, s in sources.items() if under(m, client) for n in defined_names(s) if _private(n)
    }
    orm_own = {n for m, s in sources.items() if under(m, orm) for n in defined_names(s)}
    packages = _packages(sources)
    found: list[tuple[str, int, str]] = []
    for module, source in sorted(sources.items()):
        if not under(module, orm):
            continue
        for node in runtime_nodes(ast.parse(source)):
            line = getattr(node, "lineno", 0)
            if isinstance(node, ast.ImportFrom):
                base = _base(module, node.level, node.module, packages)
                if not under(base, client):
                    continue
                for alias in node.names:
                    if _private(alias.name) or any(map(_private, base.split("."))):
                        found.append((module, line, f"from {base} import {alias.name}"))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if under(alias.name, client) and any(map(_private, alias.name.split("."))):
                        found.append((module, line, f"import {alias.name}"))
            elif isinstance(node, ast.Attribute) and node.attr in client_private:
                owner = node.value
                own = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
                if own and node.attr in orm_own:
                    continue
                found.append((module, line, ast.unparse(node)))
    return [f"{module}:{line}: {what}" for module, line, what in sorted(found)]


# --- the checkers on small module sets --------------------------------------------------


def test_a_cycle_is_found_and_printed() -> None:
    sources = {
        "pkg": "",
        "pkg.a": "from pkg import b\n",
        "pkg.b": "def f():\n    from . import c\n",  # inside a function: still counted
        "pkg.c": "import pkg.a\n",
        "pkg.d": "from pkg.a import thing\n",
    }
    assert find_cycles(import_graph(sources)) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_no_cycle_is_found_in_a_one_way_tree() -> None:
    sources = {
        "pkg": "from pkg.a import x\nfrom pkg.b import y\n",  # re-exports: not a cycle
        "pkg.a": "import json\nx = 1\n",
        "pkg.b": "from .a import x\nfrom pkg import sub\ny = x\n",
        "pkg.sub": "",
        "pkg.sub.c": "from ..b import y\n",
    }
    graph = import_graph(sources)
    assert graph["pkg.b"] == {"pkg.a", "pkg.sub"}
    assert graph["pkg.sub.c"] == {"pkg.b"}
    assert find_cycles(graph) == []


def test_imports_under_type_checking_are_ignored() -> None:
    sources = {
        "pkg": "",
        "pkg.a": "from pkg.b import B\n",
        "pkg.b": (
            "import typing\nfrom typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from pkg.a import A\n"
            "if typing.TYPE_CHECKING:\n    import pkg.a\n"
            "else:\n    import json\n"
        ),
    }
    assert find_cycles(import_graph(sources)) == []
    sources["pkg.b"] += "def later():\n    from pkg import a\n"
    assert find_cycles(import_graph(sources)) == [["pkg.a", "pkg.b", "pkg.a"]]


def test_imports_for_annotations_close_a_cycle_of_their_own() -> None:
    sources = {
        "pkg": "",
        "pkg.low": "import typing\nif typing.TYPE_CHECKING:\n    from pkg.high import H\n",
        "pkg.mid": "if TYPE_CHECKING:\n    import pkg.high\n",
        "pkg.high": "from pkg import low, mid\n",
        "pkg.other": "if TYPE_CHECKING:\n    from pkg.low import x\n",  # one way: fine
    }
    assert find_cycles(import_graph(sources)) == []
    assert find_cycles(import_graph(sources, annotations=True)) == [
        ["pkg.high", "pkg.low", "pkg.high"],
    ]
    assert strongly_connected(import_graph(sources, annotations=True)) == [
        {"pkg.high", "pkg.low", "pkg.mid"}
    ]


def test_private_client_names_used_by_the_orm_are_found() -> None:
    sources = {
        "k": "",
        "k.client": "",
        "k.client.base": (
            "class Client:\n"
            "    def _send(self): ...\n"
            "    def send(self): ...\n"
            "    def __init__(self):\n        self._session = None\n"
            "_helper = 1\n"
        ),
        "k.orm": "",
        "k.orm.a": (
            "from k.client.base import Client, _helper\n"
            "def go(client):\n"
            "    client.send()\n"  # public: fine
            "    client.__init__\n"  # dunder: fine
            "    return client._send()\n"
        ),
        "k.orm.b": (
            "from ..client import base\n"
            "class Manager:\n"
            "    def __init__(self):\n        self._session = 1\n"  # its own name
            "    def run(self, client):\n"
            "        self._session\n"
            "        return client._session, self._other\n"
        ),
    }
    assert private_client_uses(sources, client="k.client", orm="k.orm") == [
        "k.orm.a:1: from k.client.base import _helper",
        "k.orm.a:5: client._send",
        "k.orm.b:7: client._session",
    ]


def test_the_checkers_see_the_real_tree() -> None:
    """A guard on the real-tree tests below: they read modules and find imports."""
    sources = tree_sources()
    assert {"kintorm", "kintorm.client.base", "kintorm.orm.query"} <= set(sources)
    assert {CLIENT, ORM} <= import_graph(sources)["kintorm"]


# --- the rules on kintorm/ ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotations", "kind"), [(False, "import"), (True, "import (annotations included)")]
)
def test_no_import_cycle_in_kintorm(annotations: bool, kind: str) -> None:
    graph = import_graph(tree_sources(), annotations=annotations)
    groups = sorted(sorted(g) for g in strongly_connected(graph))
    if groups:
        shown = "\n".join(
            f"{' -> '.join(_cycle_in(set(g), graph))}\n  (all in the circle: {', '.join(g)})"
            for g in groups
        )
        pytest.fail(f"{len(groups)} {kind} circle(s) in kintorm/:\n{shown}", pytrace=False)


def test_the_orm_uses_no_private_client_name() -> None:
    uses = private_client_uses(tree_sources())
    if uses:
        shown = "\n".join(uses)
        pytest.fail(
            f"{len(uses)} use(s) of the client layer's private names in kintorm/orm/:\n{shown}",
            pytrace=False,
        )
