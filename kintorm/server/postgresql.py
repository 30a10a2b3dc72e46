"""PostgreSQL for the server: where it is (``$KINTORM_PG_URL``), making the database,
and a one-line error when it refuses a connection."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from kintorm.server.errors import ServerError

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/{dbname}"
PG_URL_ENV = "KINTORM_PG_URL"
#: appended to every database name, so that several checkouts can test side by side
PG_DB_SUFFIX_ENV = "KINTORM_PG_DB_SUFFIX"


def postgresql_url(dbname: str = "kintorm_test") -> str | None:
    """A PostgreSQL URL for Kinto, or None when no server answers.

    Uses ``$KINTORM_PG_URL`` when set (a URL without a database gets ``dbname``),
    else ``postgresql://postgres@127.0.0.1:5432/<dbname>``. Creates the database
    when it is missing.
    """
    return postgresql_status(dbname)[0]


def postgresql_status(dbname: str = "kintorm_test") -> tuple[str | None, str]:
    """Like :func:`postgresql_url`, plus a human-readable reason for a None."""
    url = _pg_target(dbname)
    for probe in (_ensure_db_psycopg2, _ensure_db_psql):
        try:
            reason = probe(url)
        except _ToolMissing:
            continue
        if reason is None:
            return url, f"PostgreSQL reachable at {_redact(url)}"
        return None, f"PostgreSQL not reachable at {_redact(url)}: {reason}"
    return None, f"cannot probe {_redact(url)}: neither psycopg2 nor psql is installed"


class _ToolMissing(Exception):
    pass


def _pg_target(dbname: str) -> str:
    dbname += os.environ.get(PG_DB_SUFFIX_ENV, "")
    env = os.environ.get(PG_URL_ENV)
    if not env:
        return DEFAULT_PG_URL.format(dbname=dbname)
    parts = urllib.parse.urlsplit(env)
    if parts.path.strip("/"):
        return env
    return urllib.parse.urlunsplit(parts._replace(path=f"/{dbname}"))


def _split_db(url: str) -> tuple[str, str]:
    """(url of the `postgres` maintenance database, target database name)."""
    parts = urllib.parse.urlsplit(url)
    dbname = urllib.parse.unquote(parts.path.strip("/"))
    return urllib.parse.urlunsplit(parts._replace(path="/postgres")), dbname


def _scrub(text: str, url: str) -> str:
    """``text`` (a driver's error message) without the password of ``url``, as given
    or percent-decoded."""
    password = urllib.parse.urlsplit(url).password
    if not password:
        return text
    for secret in {password, urllib.parse.unquote(password)}:
        text = text.replace(secret, "***")
    return text


def _redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_postgresql(url: str) -> None:
    """ServerError in one line when PostgreSQL refuses ``url`` (a missing database or
    role, a wrong password, no server), instead of Kinto's traceback."""
    try:
        psycopg2: Any = importlib.import_module("psycopg2")
    except ImportError:
        return  # kinto migrate reports it
    scheme, sep, rest = url.partition("://")
    dsn = scheme.split("+", 1)[0] + sep + rest  # postgresql+psycopg2:// -> postgresql://
    try:
        psycopg2.connect(dsn, connect_timeout=5).close()
    except psycopg2.Error as e:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        reason = " ".join(" ".join(lines).split()) or type(e).__name__
        raise ServerError(
            f"cannot use PostgreSQL at {_redact(url)}: {_scrub(reason, url)}"
        ) from None


def _ensure_db_psycopg2(url: str) -> str | None:
    try:
        psycopg2: Any = importlib.import_module("psycopg2")
    except ImportError as e:
        raise _ToolMissing from e
    admin_url, dbname = _split_db(url)
    try:
        conn = psycopg2.connect(admin_url, connect_timeout=3)
    except psycopg2.Error as e:
        return _scrub(str(e).strip(), url) or type(e).__name__
    try:
        conn.autocommit = True  # CREATE DATABASE refuses to run in a transaction
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
            if cur.fetchone() is None:
                with contextlib.suppress(psycopg2.errors.DuplicateDatabase):
                    cur.execute(f"CREATE DATABASE {_quote_ident(dbname)}")
    except psycopg2.Error as e:
        return _scrub(str(e).strip(), url) or type(e).__name__
    finally:
        conn.close()
    return None


def _ensure_db_psql(url: str) -> str | None:
    psql = shutil.which("psql")
    if psql is None:
        raise _ToolMissing
    admin_url, dbname = _split_db(url)
    env = {**os.environ, "PGCONNECT_TIMEOUT": "3"}

    def run(sql: str) -> subprocess.CompletedProcess[str]:
        # SQL on stdin so psql quotes the name itself (:'db' literal, :"db" identifier).
        return subprocess.run(
            [psql, admin_url, "-tAq", "-v", f"db={dbname}"],
            input=sql,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

    found = run("SELECT 1 FROM pg_database WHERE datname = :'db';")
    if found.returncode != 0:
        return found.stderr.strip() or f"psql exited with {found.returncode}"
    if found.stdout.strip() != "1":
        created = run('CREATE DATABASE :"db";')
        if created.returncode != 0 and "already exists" not in created.stderr:
            return created.stderr.strip()
    return None
