"""Page streams: following ``Next-Page``, and the combinators over a stream of pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs

from kintorm.client.effects import Emit, Op, Stream
from kintorm.client.exceptions import MalformedResponse
from kintorm.client.messages import NOT_MODIFIED, Request, Response, preview
from kintorm.client.retries import send
from kintorm.client.shared import Session


def collect(stream: Stream) -> Op[list[Any]]:
    """Run a page stream to its end, concatenating the emitted pages."""
    items: list[Any] = []
    outcome: Any = None
    while True:
        try:
            effect = stream.send(outcome)
        except StopIteration:
            return items
        if isinstance(effect, Emit):
            items.extend(effect.value)
            outcome = None
        else:
            outcome = yield effect


def relay(
    stream: Stream,
    on_page: Callable[[list[Any]], tuple[Iterable[Any], bool]],
) -> Stream:
    """Forward the effects of a page stream; emit each value ``on_page`` makes of a
    page, and stop the stream early when ``on_page`` says it is done."""
    outcome: Any = None
    while True:
        try:
            effect = stream.send(outcome)
        except StopIteration:
            return
        if not isinstance(effect, Emit):
            outcome = yield effect
            continue
        outcome = None
        values, done = on_page(effect.value)
        for value in values:
            yield Emit(value)
        if done:
            stream.close()
            return


def paginate(session: Session, request: Request, *, pages: float = float("inf")) -> Stream:
    """Emit the ``data`` list of each page, following ``Next-Page`` up to ``pages`` pages.

    A loop, not recursion: any number of pages works and one page is held at a time.
    """
    current: Request | None = request
    done = 0
    while current is not None and done < pages:
        response = yield from send(session, current)
        if response.status_code == NOT_MODIFIED or session.dry_mode:
            return  # If-None-Match matched, or nothing was sent: no page (as kinto-http)
        yield Emit(page_data(session, current, response))
        done += 1
        current = next_request(session, request, response)


def page_data(session: Session, request: Request, response: Response) -> list[Any]:
    """The ``data`` list of a listing's page; MalformedResponse when it has none."""
    body = response.json() if response.content else {"data": []}
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        malformed = MalformedResponse(
            f"a listing without a data list: {preview(response.text)!r}",
            request=request,
            response=response,
        )
        malformed.path_prefix = session.root_path
        raise malformed
    return data


def next_request(session: Session, request: Request, response: Response) -> Request | None:
    """The request of the page after ``response`` (``request`` with the parameters of
    its ``Next-Page`` link), None on the last page. A link to another origin is refused."""
    next_page = response.headers.get("Next-Page")
    if not next_page:
        return None
    path, params = session.relative(next_page)
    return attrs.evolve(request, path=path, params=params)
