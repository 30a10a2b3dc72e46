"""Release checks: the sdist and wheel build, and the wheel works once installed.

The wheel is installed into a fresh virtual environment (its dependencies come
from the package index, as for a user), then imported and run from there,
outside the source tree: what ``pip install kintorm`` would give.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator

import pytest
from packaging.metadata import Metadata

import kintorm

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _run(*argv: str | pathlib.Path, cwd: pathlib.Path | None = None) -> str:
    # without $PYTHONPATH: a checkout on it would be imported instead of the wheel
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    return out


@pytest.fixture(scope="module")
def wheel(dist: pathlib.Path) -> pathlib.Path:
    (found,) = dist.glob("kintorm-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(
    wheel: pathlib.Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[pathlib.Path]:
    """The ``bin`` directory of a fresh virtual environment holding the wheel."""
    env = tmp_path_factory.mktemp("venv")
    venv.create(env, with_pip=True)
    bin_dir = env / "bin"
    _run(
        bin_dir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel
    )
    yield bin_dir


def _metadata(wheel: pathlib.Path) -> Metadata:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        raw = archive.read(name).decode()
    return Metadata.from_email(raw, validate=True)  # raises on an invalid field


def test_sdist_and_wheel_are_built(dist: pathlib.Path) -> None:
    version = kintorm.__version__
    assert (dist / f"kintorm-{version}.tar.gz").is_file()
    assert (dist / f"kintorm-{version}-py3-none-any.whl").is_file()


def test_wheel_metadata_is_valid_and_complete(wheel: pathlib.Path) -> None:
    meta = _metadata(wheel)
    assert meta.name == "kintorm"
    assert str(meta.version) == kintorm.__version__  # one source: kintorm/_version.py
    assert meta.license_expression == "Apache-2.0"  # an SPDX expression
    assert str(meta.requires_python) == ">=3.11"
    assert meta.project_urls is not None
    assert {"Homepage", "Documentation", "Changelog"} <= set(meta.project_urls)
    assert meta.classifiers is not None
    assert "Typing :: Typed" in meta.classifiers
    assert any(c.startswith("Programming Language :: Python :: 3.11") for c in meta.classifiers)
    assert meta.summary and meta.description


def test_wheel_holds_py_typed_and_the_pytest_plugin(wheel: pathlib.Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points_name = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        entry_points = archive.read(entry_points_name).decode()
    assert "kintorm/py.typed" in names
    sections: dict[str, list[str]] = {}
    current = ""
    for line in entry_points.splitlines():
        line = line.strip()
        if line.startswith("["):
            current = line.strip("[]")
        elif line:
            sections.setdefault(current, []).append(line.replace(" ", ""))
    assert "kintorm=kintorm.testing" in sections.get("pytest11", [])
    assert "kintorm=kintorm.cli:main" in sections.get("console_scripts", [])


def test_installed_wheel_imports_and_runs(installed: pathlib.Path, tmp_path: pathlib.Path) -> None:
    # run from an empty directory: the source tree must not be what gets imported
    where = _run(
        installed / "python",
        "-c",
        "import kintorm, kintorm.orm, kintorm.client; print(kintorm.__file__, kintorm.__version__)",
        cwd=tmp_path,
    )
    path, version = where.split()
    assert "site-packages" in path and not path.startswith(str(ROOT))
    assert version == kintorm.__version__
    assert "serve" in _run(installed / "kintorm", "--help", cwd=tmp_path)
    assert _run(installed / "kintorm", "--version", cwd=tmp_path).strip() == (
        f"kintorm {kintorm.__version__}"
    )


SYNC_ONLY = """
import importlib.util
from kintorm import AsyncClient, Client
assert importlib.util.find_spec("httpx") is None and importlib.util.find_spec("httpx2") is None
Client(server_url="http://kinto.test/v1")
try:
    AsyncClient(server_url="http://kinto.test/v1")
except ImportError as exc:
    print(exc)
"""


def test_a_plain_install_is_sync_only_and_says_what_async_needs(
    installed: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    # the wheel was installed without extras: no async HTTP library came with it
    said = _run(installed / "python", "-c", SYNC_ONLY, cwd=tmp_path)
    assert "pip install 'kintorm[async]'" in said


def test_changelog_has_a_section_for_the_version() -> None:
    headings = [
        line[3:].split(" ")[0]
        for line in (ROOT / "CHANGELOG.md").read_text().splitlines()
        if line.startswith("## ")
    ]
    assert kintorm.__version__ in headings, headings
