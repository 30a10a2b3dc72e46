"""``kintorm schema sync|check module:Model ...``: a collection's schema from its model.

``sync`` prints the difference and how many existing records would fail the new
schema, then writes it on confirmation (a terminal's ``y``, or ``--yes``;
``--dry-run`` never writes); ``check`` exits 1 when a collection and its model
disagree, for CI. The server and credentials come from ``-s``/``-a`` or
``KINTO_URL``/``KINTO_AUTH``; the bucket from ``-b``, else the model's.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

from kintorm import cli_options
from kintorm.cli_options import Usage

__all__ = ["configure", "run"]

PROG = "kintorm schema"
EXIT_STATUSES = "Exit status: 0 in agreement (or written), 1 disagreeing or failed, 2 usage error."


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="+", metavar="module:Model", help="the models to sync")
    cli_options.server_options(parser, bucket=True, exits=EXIT_STATUSES)


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``schema`` command's subcommands (``sync``, ``check``) and their options."""
    parser.description = (
        "Keep Kinto collections' JSON schemas (and kinto-admin's uiSchema and "
        "displayFields) in agreement with kintorm models."
    )
    actions = parser.add_subparsers(dest="schema_action", required=True, metavar="ACTION")
    sync = actions.add_parser(
        "sync",
        help="set each model's collection schema, after showing the difference",
        description="Show how each collection's schema differs from its model's and how "
        "many existing records would fail the new one, then write it on confirmation.",
    )
    _add_common(sync)
    sync.add_argument("-y", "--yes", action="store_true", help="write without asking")
    sync.add_argument("--dry-run", action="store_true", help="show the difference only")
    check = actions.add_parser(
        "check",
        help="exit 1 when a collection's schema and its model's disagree",
        description="Compare each collection's schema with its model's; print the "
        "difference and exit 1 when they disagree (for CI).",
    )
    _add_common(check)


def _model(spec: str) -> Any:
    from kintorm.orm.model import Record

    module_name, sep, name = spec.partition(":")
    if not sep or not module_name or not name:
        raise Usage(f"expected module:Model, got {spec!r}")
    try:
        found: Any = importlib.import_module(module_name)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise Usage(f"cannot import {spec}: {exc}") from exc
    if not (isinstance(found, type) and issubclass(found, Record)):
        raise Usage(f"{spec} is not a kintorm Record model")
    return found


def _confirm(args: argparse.Namespace, name: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise Usage(f"not writing {name}'s schema: stdin is not a terminal; give --yes")
    answer = input(f"write {name}'s schema? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _one(args: argparse.Namespace, client: Any, model: Any) -> int:
    """Sync or check one model: 0 in agreement or written, 1 disagreeing (check)."""
    manager = model.objects.using(client)
    where = f"{model.__name__} ({manager.model._meta.collection})"
    found = manager.sync_schema(dry_run=True)
    print(f"{where}: {found.report()}")
    if found.in_agreement:
        return 0
    if args.schema_action == "check":
        return 1
    if args.dry_run:
        return 0
    if not _confirm(args, model.__name__):
        print(f"{where}: not written")
        return 0
    done = manager.sync_schema(if_match=found.timestamp)
    print(f"{where}: written (collection timestamp {done.timestamp})")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``kintorm schema sync|check``: the exit code (2: usage, 1: failure or
    disagreement)."""
    from kintorm.client import KintoException
    from kintorm.orm.exceptions import ORMError

    prog = f"{PROG} {args.schema_action}"
    try:
        models = [_model(spec) for spec in args.models]
        client = cli_options.client(args, bucket=args.bucket)
        return max(_one(args, client, model) for model in models)
    except Usage as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except (KintoException, ORMError, TypeError, ValueError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
