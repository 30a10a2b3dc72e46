"""The API reference is complete: every public name has its page entry and a docstring.

``docs/reference/*.md`` holds one ``::: kintorm.NAME`` directive per name of
``kintorm.__all__`` (mkdocstrings renders it from the code; ``make docs`` builds
the site in strict mode). A public name, or a public method, property or attribute
of a public class defined in kintorm, without a docstring is listed by name.
"""

from __future__ import annotations

import inspect
import pathlib
import re
from typing import Any

import kintorm

ROOT = pathlib.Path(__file__).resolve().parent.parent
DIRECTIVE = re.compile(r"^::: kintorm\.(\w+)\s*$", re.MULTILINE)


def documented_names() -> set[str]:
    names: set[str] = set()
    for page in (ROOT / "docs" / "reference").glob("*.md"):
        names.update(DIRECTIVE.findall(page.read_text()))
    return names


def test_every_public_name_has_a_reference_entry() -> None:
    missing = sorted(set(kintorm.__all__) - documented_names())
    assert not missing, f"names of kintorm.__all__ missing from docs/reference/: {missing}"


def test_reference_names_only_public_names() -> None:
    unknown = sorted(documented_names() - set(kintorm.__all__))
    assert not unknown, f"docs/reference/ documents names not in kintorm.__all__: {unknown}"


def _own_doc(obj: Any) -> str | None:
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__")
        return doc if isinstance(doc, str) else None
    return getattr(obj, "__doc__", None)


def _members(cls: type) -> dict[str, tuple[type, Any]]:
    """Public members of ``cls`` defined by kintorm classes: name -> (owner, raw value)."""
    found: dict[str, tuple[type, Any]] = {}
    for owner in reversed(cls.__mro__):
        if not owner.__module__.startswith("kintorm"):
            continue
        for name, value in vars(owner).items():
            if name.startswith("_"):
                continue
            if callable(value) or isinstance(value, property | classmethod | staticmethod):
                found[name] = (owner, value)
            elif hasattr(value, "__get__") and hasattr(value, "__wrapped__"):
                found[name] = (owner, value)  # operation descriptors
            # attrs fields and plain attributes are described by their class's docstring
    return found


def undocumented() -> list[str]:
    missing: list[str] = []
    for name in kintorm.__all__:
        obj = getattr(kintorm, name)
        if name == "__version__":
            continue  # a string: documented on its reference page
        if not (_own_doc(obj) or "").strip():
            missing.append(name)
        if not inspect.isclass(obj):
            continue
        for member, (owner, value) in _members(obj).items():
            raw = value.__func__ if isinstance(value, classmethod | staticmethod) else value
            doc = getattr(raw, "__doc__", None)
            if inspect.isclass(raw):
                doc = _own_doc(raw)
            if not (doc or "").strip():
                missing.append(f"{owner.__module__}.{owner.__qualname__}.{member}")
    return sorted(set(missing))


def test_every_public_name_has_a_docstring() -> None:
    missing = undocumented()
    assert not missing, f"{len(missing)} public names without a docstring:\n" + "\n".join(missing)
