"""Page streams: following ``Next-Page``, and the combinators over a stream of pages."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from kintorm.client.decoding import decode_json
from kintorm.client.effects import Emit, Op, Start, Started, Stream
from kintorm.client.exceptions import KintoException, MalformedResponse
from kintorm.client.messages import NOT_MODIFIED, Request, Response, preview
from kintorm.client.retries import Decoder, send
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


def paginate(
    session: Session,
    request: Request,
    *,
    pages: float = float("inf"),
    ahead: bool = False,
    decode: Decoder = decode_json,
) -> Stream:
    """Emit the ``data`` list of each page, following ``Next-Page`` up to ``pages`` pages.

    A loop, not recursion: any number of pages works and one page is held at a time.

    ``ahead``, for a caller that reads every page (``collect``): a page's answer in,
    the next page's request is sent at once (a ``Start``), so that the server works
    on it while this page's body is decoded and the caller consumes it. Not while the
    server asks to back off, and only for a listing (GET). A page stream whose
    consumer may stop early asks for each page when it is wanted.

    ``decode``: how each page's body is decoded (its ``data`` list is emitted as the
    decoder gives it: the mapper's may give records loaded already).
    """
    ahead = ahead and request.method == "GET"
    current: Request | None = request
    started: Started | None = None  # the next page's request, once sent ahead
    done = 0

    def next_request(response: Response) -> Request | None:
        next_page = response.headers.get("Next-Page")
        if not next_page:
            return None
        path, params = session.relative(next_page)
        return attrs.evolve(request, path=path, params=params)

    def send_ahead(response: Response) -> Op[None]:
        nonlocal started
        if response.status_code != 200 or started is not None or done + 1 >= pages:
            return
        if session.backoff_until > time.monotonic():
            return  # the next request waits as the server asked
        try:
            following = next_request(response)
        except KintoException:
            return  # a link refused: raised below, once this page is emitted
        if following is not None:
            started = yield Start(following)

    try:
        while current is not None and done < pages:
            sent, started = started, None
            if sent is not None and sent.request != current:
                sent.cancel()  # the page was re-sent and its answer links elsewhere
                sent = None
            response = yield from send(
                session,
                current,
                started=sent,
                answered=send_ahead if ahead else None,
                decode=decode,
            )
            if response.status_code == NOT_MODIFIED or session.dry_mode:
                return  # If-None-Match matched, or nothing was sent: no page (as kinto-http)
            body = response.json(decode) if response.content else {"data": []}
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                malformed = MalformedResponse(
                    f"a listing without a data list: {preview(response.text)!r}",
                    request=current,
                    response=response,
                )
                malformed.path_prefix = session.root_path
                raise malformed
            yield Emit(data)
            done += 1
            current = next_request(response)
    finally:
        if started is not None:  # the stream ended before the page sent ahead was read
            started.cancel()
