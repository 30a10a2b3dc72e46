"""One JSON request with the standard library (the server helper never uses the client)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

_HTTP_TIMEOUT = 10.0


def http_json(
    method: str,
    url: str,
    body: Any = None,
    *,
    auth: tuple[str, str] | None = None,
    timeout: float = _HTTP_TIMEOUT,
) -> tuple[int, Any]:
    """One JSON request with urllib; returns ``(status, decoded body or None)``.

    HTTP error statuses are returned, not raised; connection errors raise OSError.
    """
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
        e.close()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


# -- process cleanup --------------------------------------------------------
