"""The client's layering: no import cycle inside kintorm/client/ (imports inside
functions count, ``if TYPE_CHECKING:`` ones too), and the mapper uses only the
client's public names (no ``client._...``, no private name imported from it)."""

from __future__ import annotations

import ast
import pathlib

import kintorm

PACKAGE = pathlib.Path(kintorm.__file__).parent
CLIENT = PACKAGE / "client"


def _module(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: pathlib.Path) -> set[str]:
    """Every kintorm module ``path`` imports, wherever the import stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("kintorm.")}


def test_no_import_cycle_inside_the_client() -> None:
    files = {_module(p): p for p in CLIENT.glob("*.py") if p.name != "__init__.py"}
    graph = {name: _imports(path) & files.keys() for name, path in files.items()}
    cycles: list[list[str]] = []
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycles.append([*trail[trail.index(name) :], name])
            return
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert not cycles, " ; ".join(" -> ".join(cycle) for cycle in cycles[:3])


def test_the_mapper_uses_only_public_client_names() -> None:
    offences: list[str] = []
    for path in sorted((PACKAGE / "orm").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "kintorm.client"
            ):
                offences += [
                    f"{path.name}:{node.lineno} imports {alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_")
                ]
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and "client" in node.value.id
            ):
                offences.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert not offences, offences
