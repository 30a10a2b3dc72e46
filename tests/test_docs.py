"""Every ```python block of README.md and docs/*.md runs against a real Kinto.

Each page runs top to bottom in one namespace, on a freshly flushed server of
its own, with ``KINTO_URL`` and ``KINTO_AUTH`` defined (the URL of the server
and admin credentials: in the docs they stand for your own). A block that
defines ``test_*(kinto_client)`` functions, as pytest examples do, has them
called with a client on a fresh bucket, as the fixture of that name would.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Iterator

import pytest

from kintorm import Client
from kintorm.server import KintoServer

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def blocks(page: pathlib.Path) -> list[str]:
    return BLOCK.findall(page.read_text())


@pytest.fixture(scope="module")
def docs_server() -> Iterator[KintoServer]:
    with KintoServer() as server:
        yield server


def test_every_guide_is_present() -> None:
    names = {p.name for p in PAGES}
    expected = {"quickstart.md", "client.md", "migrating.md", "architecture.md"}
    assert expected <= names, f"missing guides: {expected - names}"


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p)], ids=lambda p: p.name)
def test_page_examples_run(page: pathlib.Path, docs_server: KintoServer) -> None:
    docs_server.flush()
    namespace: dict[str, object] = {
        "__name__": f"docs_{page.stem}",
        "KINTO_URL": docs_server.url,
        "KINTO_AUTH": docs_server.admin_auth,
    }
    for number, code in enumerate(blocks(page), 1):
        try:
            exec(compile(code, f"{page.name}#block{number}", "exec"), namespace)  # noqa: S102
            _call_test_functions(namespace, code, docs_server)
        except Exception as exc:
            raise AssertionError(f"{page.name} block {number} failed: {exc!r}\n{code}") from exc


def _call_test_functions(namespace: dict[str, object], code: str, server: KintoServer) -> None:
    for name in re.findall(r"^def (test_\w+)\(kinto_client\)", code, re.MULTILINE):
        bucket = f"docs-{name.replace('_', '-')}"
        client = Client(server_url=server.url, auth=server.admin_auth, bucket=bucket)
        client.create_bucket()
        client.create_collection(id="items")
        test = namespace[name]
        assert callable(test)
        test(client.clone(collection="items"))
