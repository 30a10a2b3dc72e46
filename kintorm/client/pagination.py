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
    page, and stop the stream early when ``on_page`` says it is done.

    However this ends (``on_page`` raising, the caller closing it), the stream is
    closed at once, so that a request it sent ahead is cancelled then, not when the
    garbage collector gets to it."""
    outcome: Any = None
    try:
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
                return
    finally:
        stream.close()


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
    the next page's request is sent at once (see :class:`SendingAhead`), so that the
    server works on it while this page's body is decoded and the caller consumes it.
    A page stream whose consumer may stop early asks for each page when it is wanted.

    ``decode``: how each page's body is decoded (its ``data`` list is emitted as the
    decoder gives it: the mapper's may give records loaded already).
    """
    sending = SendingAhead(session, request, ahead, decode)
    current: Request | None = request
    done = 0
    try:
        while current is not None and done < pages:
            response = yield from sending.send(current, more=done + 1 < pages)
            if response.status_code == NOT_MODIFIED or session.dry_mode:
                return  # If-None-Match matched, or nothing was sent: no page (as kinto-http)
            yield Emit(page_data(session, current, response, decode))
            done += 1
            current = next_request(session, request, response)
    finally:
        sending.close()


@attrs.define
class SendingAhead:
    """The next page of a listing, asked for as soon as a page's answer is in (before
    its body is decoded), when the caller reads every page: a ``Start`` whose handle
    the page's own ``send`` finishes. Not while the server asks to back off, not past
    the pages wanted (``more``, which the page stream gives), and only for a GET
    listing (``enabled``). ``request`` is the listing's first: each next page is it
    with the parameters of the link."""

    session: Session
    request: Request
    enabled: bool
    decode: Decoder = decode_json
    started: Started | None = None

    def __attrs_post_init__(self) -> None:
        self.enabled = self.enabled and self.request.method == "GET"

    def send(self, current: Request, *, more: bool) -> Op[Response]:
        """``send`` of the page ``current``: its answer waited for when it was started
        (else it is sent now), the next page started when its answer is in if ``more``
        pages are wanted after it."""
        sent, self.started = self.started, None
        if sent is not None and sent.request != current:
            sent.cancel()  # the page was re-sent and its answer links elsewhere
            sent = None
        answered = self._answered if self.enabled and more else None
        return (
            yield from send(
                self.session, current, started=sent, answered=answered, decode=self.decode
            )
        )

    def _answered(self, response: Response) -> Op[None]:
        if self.started is not None:
            return
        if response.status_code != 200 or self.session.backoff_until > time.monotonic():
            return  # no page, or the next request waits as the server asked
        try:
            following = next_request(self.session, self.request, response)
        except KintoException:
            return  # a link refused: raised once this page is emitted
        if following is not None:
            self.started = yield Start(following)

    def close(self) -> None:
        """Give up the page started, if the stream ends before it is read."""
        if self.started is not None:
            self.started.cancel()
            self.started = None


def page_data(
    session: Session, request: Request, response: Response, decode: Decoder = decode_json
) -> list[Any]:
    """The ``data`` list of a listing's page (``decode`` decoding the body, if no one
    did yet); MalformedResponse when it has none."""
    body = response.json(decode) if response.content else {"data": []}
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
