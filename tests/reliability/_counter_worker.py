"""A writer process: ``python _counter_worker.py URL USER PASSWORD BUCKET ID COUNT``.

Increments the counter record ``ID`` ``COUNT`` times through
``Counter.objects.update_with_retry`` and prints ``{"ok": n, "failed": m}``.
"""

from __future__ import annotations

import json
import sys

from kintorm import Client, ConflictError, KintoException, Record


class Counter(Record, collection="items"):
    value: int = 0


ATTEMPTS = 100


def increment(client: Client, record_id: str, count: int) -> tuple[int, int]:
    """(successes, failures): a failure is a ConflictError after ATTEMPTS tries, or
    another KintoException (retries exhausted)."""
    ok = failed = 0
    manager = Counter.objects.using(client)
    for _ in range(count):
        try:
            manager.update_with_retry(
                record_id, lambda c: setattr(c, "value", c.value + 1), attempts=ATTEMPTS
            )
            ok += 1
        except (ConflictError, KintoException):
            failed += 1
    return ok, failed


def main() -> None:
    url, user, password, bucket, record_id, count = sys.argv[1:7]
    client = Client(
        server_url=url,
        auth=(user, password),
        bucket=bucket,
        collection="items",
        retry=8,
        retry_after=0.05,
    )
    ok, failed = increment(client, record_id, int(count))
    print(json.dumps({"ok": ok, "failed": failed}))


if __name__ == "__main__":
    main()
