"""The sans-IO core: requests and responses as values, and the rules between them.

Nothing here touches the network or the clock. An *operation* is a generator
that yields effects and receives their outcome:

* :class:`Request` -> the driver sends it and answers with a :class:`Response`
  (or with a :class:`~kintorm.client.exceptions.TransportError` *value* when no
  response came back);
* :class:`Sleep` -> the driver waits (``time.sleep`` or ``asyncio.sleep``);
* :class:`Emit` -> a streaming operation hands a value (a page) to its caller.

The drivers in ``sync.py`` and ``aio.py`` only move bytes and time; retries,
backoff, error mapping and pagination are decided here, once.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import time
import warnings
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs

from kintorm.client.exceptions import (
    BackoffException,
    KintoException,
    MalformedResponse,
    PreconditionFailed,
    TransportError,
)

T = TypeVar("T")

JSON_CONTENT_TYPE = "application/json"
RETRYABLE_STATUSES = frozenset({409, 429, *range(500, 600)})
#: Methods that can be re-sent after a lost response without doing the work twice
#: (and PATCH guarded by If-Match: a replay of an applied patch gets 412).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: Statuses of a proxy in front of Kinto that may have forwarded the request:
#: the write may have been applied although its answer was lost.
UNCERTAIN_STATUSES = frozenset({502, 504})
#: Exception class per status; anything else >= 400 is a plain KintoException.
ERROR_CLASSES: Mapping[int, type[KintoException]] = {412: PreconditionFailed}
BODY_PREVIEW_CHARS = 200
#: the answer to a read whose If-None-Match matched: no body
NOT_MODIFIED = 304

logger = logging.getLogger("kintorm.client")


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only HTTP headers (Kinto sends ``Etag``, users write ``ETag``)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = {k.lower(): (k, v) for k, v in (items or {}).items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@attrs.frozen
class File:
    """One part of a multipart upload."""

    field: str
    filename: str
    content: bytes = attrs.field(repr=lambda c: f"<{len(c)} bytes>")
    mimetype: str | None = None


@attrs.frozen
class Request:
    """An HTTP request to Kinto; ``path`` is relative to the server URL (``/buckets/b``).

    Headers that carry credentials are never part of it: the driver adds them.
    """

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes | None = None
    files: tuple[File, ...] = ()
    form: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def path_url(self) -> str:
        """The path with its query string (what kinto-http's exceptions show)."""
        return f"{self.path}?{urlencode(self.params)}" if self.params else self.path

    def json(self) -> Any:
        return None if self.body is None else json.loads(self.body)


def _to_headers(headers: Mapping[str, str]) -> Headers:
    return headers if isinstance(headers, Headers) else Headers(headers)


_NOT_DECODED: Any = object()


@attrs.frozen
class Response:
    """An HTTP response: ``status_code``, case-insensitive ``headers``, raw ``content``."""

    status_code: int
    headers: Headers = attrs.field(converter=_to_headers)
    content: bytes = b""
    request: Request | None = attrs.field(default=None, repr=False, eq=False)
    #: the decoded body, once decoded (the body is parsed once, however often it is read)
    decoded: Any = attrs.field(default=_NOT_DECODED, repr=False, eq=False)
    #: this answers a re-send after a lost answer: an earlier attempt may have been applied
    replay: bool = attrs.field(default=False, repr=False, eq=False)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The decoded JSON body (the same object on each call); a body that is not
        JSON raises MalformedResponse."""
        if self.decoded is not _NOT_DECODED:
            return self.decoded
        try:
            decoded = json.loads(self.content)
        except ValueError:
            raise MalformedResponse(
                f"expected JSON, got {preview(self.text)!r}", request=self.request, response=self
            ) from None
        object.__setattr__(self, "decoded", decoded)
        return decoded


@attrs.frozen
class Sleep:
    seconds: float


@attrs.frozen
class Emit:
    value: Any


Effect = Request | Sleep | Emit
#: An operation: yields effects, returns T.
Op = Generator[Effect, Any, T]


def preview(text: str) -> str:
    return text if len(text) <= BODY_PREVIEW_CHARS else text[:BODY_PREVIEW_CHARS] + "..."


# --- encoding -----------------------------------------------------------------


def _json_default(value: object) -> str:
    if isinstance(value, datetime.date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, set | frozenset):  # permissions are sets in kinto-http
        return sorted(value)  # type: ignore[return-value]
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON serialisable")


#: The integers Kinto keeps exactly: its JSON parser (rapidjson) reads any other
#: integer as a float (2**64 comes back as 1.8446744073709552e+19), on every backend.
KINTO_INT_RANGE = (-(2**63), 2**64 - 1)
#: The deepest nesting of objects and arrays in a body kintorm sends. Kinto 26 answers
#: 500 from about 480 levels (a recursive copy of the record), on every backend.
MAX_JSON_DEPTH = 320
#: every digit as "0": a run of 19 means an integer that may be outside KINTO_INT_RANGE
#: (shorter ones are all inside), or digits in a string (a false alarm costs a walk)
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19
#: what _nests_deeper keeps of a JSON text: brackets, and what strings need to be found
_SKELETON_DROP = bytes(sorted(set(range(256)) - set(b'{}[]"\\bfnrtu/')))
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_INNERMOST = re.compile(rb"\[\]|\{\}")


def encode_json(payload: Any) -> bytes:
    """UTF-8 JSON bytes; dates become ISO-8601 strings; anything else unknown raises
    TypeError; NaN, infinities and lone surrogates ValueError (Kinto would answer 400);
    so do integers outside KINTO_INT_RANGE (Kinto would store a float) and nesting
    deeper than MAX_JSON_DEPTH (Kinto would answer 500), naming where they are."""
    try:
        text = json.dumps(
            payload,
            default=_json_default,
            separators=(",", ":"),
            allow_nan=False,
            ensure_ascii=False,
        )
        data = text.encode()
    except ValueError as exc:  # NaN and infinities (UnicodeEncodeError is one too)
        raise ValueError(f"cannot send as JSON: {_reason(exc)}") from None
    except RecursionError:
        check_json(payload)
        raise ValueError("cannot send as JSON: nested too deep") from None
    check_encoded(payload, data)
    return data


def check_encoded(
    value: Any, data: bytes, *, path: str = "", max_depth: int = MAX_JSON_DEPTH
) -> None:
    """:func:`check_json` of ``value`` whose UTF-8 JSON is ``data``, only when ``data``
    holds a run of 19 digits or nests deeper than ``max_depth`` (C-speed scans)."""
    if len(data) < min(len(_LONG_NUMBER), 2 * max_depth + 2):
        return  # too short for such an integer or for that many brackets
    if _LONG_NUMBER in data.translate(_DIGITS_AS_ZERO) or _nests_deeper(data, max_depth):
        check_json(value, path=path, max_depth=max_depth)


def _nests_deeper(data: bytes, max_depth: int) -> bool:
    """Whether the JSON text ``data`` nests objects and arrays deeper than ``max_depth``:
    the brackets outside strings, with innermost pairs removed level by level."""
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    skeleton = _STRING.sub(b"", data.translate(None, _SKELETON_DROP))
    skeleton = skeleton.translate(None, b"bfnrtu/")  # true, false, null
    for _ in range(max_depth):
        if not skeleton:
            return False
        skeleton = _INNERMOST.sub(b"", skeleton)  # one level: "{[]}" becomes "{}"
    return bool(skeleton)


def check_json(value: Any, *, path: str = "", max_depth: int = MAX_JSON_DEPTH) -> None:
    """ValueError naming the place (``path``, then ``.key`` / ``[index]``) of the first
    integer outside KINTO_INT_RANGE, or of nesting deeper than ``max_depth`` levels.
    A loop, not recursion: any depth can be checked."""
    low, high = KINTO_INT_RANGE
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, int) and not isinstance(item, bool):
            if not low <= item <= high:
                raise ValueError(
                    f"the integer {item} at {where or 'the top'} is outside -2**63..2**64-1, "
                    "the range Kinto stores exactly (it would store a float)"
                )
            continue
        if isinstance(item, dict):
            children: Any = ((f"{where}.{k}" if where else str(k), v) for k, v in item.items())
        elif isinstance(item, list | tuple | set | frozenset):
            children = ((f"{where}[{i}]", v) for i, v in enumerate(item))
        else:
            continue
        if depth >= max_depth:
            shown = where if len(where) <= 60 else f"{where[:40]}...{where[-16:]}"
            raise ValueError(
                f"{path or 'the value'} nests objects and arrays more than {max_depth} "
                f"levels deep (at {shown or 'the top'}): Kinto cannot store it"
            )
        stack.extend((child, name, depth + 1) for name, child in children)


def _reason(exc: ValueError) -> str:
    if isinstance(exc, UnicodeEncodeError):
        return f"a string holds a lone surrogate {exc.object[exc.start : exc.end]!r}"
    return str(exc)


def encode_param(key: str, value: Any) -> str:
    """One querystring value as Kinto parses it (kinto-http's rules, so the same call means
    the same thing): strings go as they are, lists of ``in_``/``exclude_`` are comma
    separated, everything else is JSON."""
    if isinstance(value, str):
        return value
    if key.startswith(("in_", "exclude_")) and isinstance(value, list | tuple | set):
        return ",".join(v if isinstance(v, str) else json.dumps(v) for v in value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return json.dumps(value, default=_json_default)


def encode_params(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((k, encode_param(k, v)) for k, v in params.items() if v is not None)


def quote_etag(value: Any) -> str:
    return '"{}"'.format(str(value).strip('"'))


def unquote_etag(value: str | None) -> str | None:
    return None if value is None else value.strip('"')


# --- the shared state of a client family (a client and its clones) ------------


@attrs.define
class Session:
    """Settings and mutable state shared by a client and its clones."""

    server_url: str
    retry: int = 0
    retry_after: float | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    backoff_until: float = 0.0
    server_info: dict[str, Any] | None = None
    #: kinto-http's dry mode: nothing is sent, every request is answered ``200 {}``
    dry_mode: bool = False
    #: follow Next-Page links to any origin: only when every request goes through a
    #: session object of the user's (a mock), which adds no credentials of ours
    any_origin: bool = False

    @property
    def origin(self) -> tuple[str, str]:
        parts = urlsplit(self.server_url)
        return parts.scheme, parts.netloc

    @property
    def root_path(self) -> str:
        return urlsplit(self.server_url).path.rstrip("/")

    def url(self, request: Request) -> str:
        query = f"?{urlencode(request.params)}" if request.params else ""
        return f"{self.server_url.rstrip('/')}{request.path}{query}"

    def relative(self, url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Split an absolute URL from the server (``Next-Page``) into (path, params).

        A URL on another origin is refused: following it would hand our
        credentials to someone else.
        """
        parts = urlsplit(url)
        if self.any_origin and (parts.scheme, parts.netloc) != self.origin:
            params = tuple(parse_qsl(parts.query, keep_blank_values=True))
            return parts._replace(query="").geturl(), params
        if (parts.scheme, parts.netloc) != self.origin:
            raise KintoException(
                f"refusing to follow a link to another origin ({parts.scheme}://{parts.netloc}); "
                f"the server is {self.origin[0]}://{self.origin[1]}"
            )
        path = parts.path
        root = self.root_path
        if root and path.startswith(root):
            path = path[len(root) :]
        return path or "/", tuple(parse_qsl(parts.query, keep_blank_values=True))


# --- sending one request: backoff, retries, errors ----------------------------


def _retry_delay(session: Session, response: Response | None, attempt: int) -> float:
    if session.retry_after is not None:
        return float(session.retry_after)
    header = response.headers.get("Retry-After", "") if response is not None else ""
    if header.isdigit():
        return float(header)
    return min(0.1 * 2.0**attempt, 5.0)


def _observe(session: Session, response: Response) -> None:
    """Headers that change the client's behaviour: Alert and Backoff."""
    alert = response.headers.get("Alert")
    if alert:
        warnings.warn(alert, DeprecationWarning, stacklevel=6)
    backoff = response.headers.get("Backoff", "")
    session.backoff_until = time.monotonic() + int(backoff) if backoff.isdigit() else 0.0


def error_for(response: Response, request: Request) -> KintoException:
    """The exception for a 4xx/5xx response, naming the server's message.

    A body that is not Kinto's JSON error gives MalformedResponse, except for a
    412, whose status alone says what happened (a truncated 412 is still a 412),
    and for an empty body (a HEAD is always answered so): then the status alone
    names the error, with the exception class a GET would get.
    """
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not response.content.strip():
        detail = _reason_phrase(response.status_code)
        cls = ERROR_CLASSES.get(response.status_code, KintoException)
    elif isinstance(body, dict):
        message = body.get("message") or body.get("error") or ""
        errno = body.get("errno")
        detail = f"{message} (errno {errno})" if errno is not None else str(message)
        cls = ERROR_CLASSES.get(response.status_code, KintoException)
    else:
        detail = f"non-JSON body: {preview(response.text)!r}"
        cls = ERROR_CLASSES.get(response.status_code, MalformedResponse)
        if response.status_code == 413:  # from the HTTP server in front of Kinto
            detail = f"the request body is over the server's limit: {preview(response.text)!r}"
            cls = KintoException
    return cls(detail, request=request, response=response)


def _reason_phrase(status: int) -> str:
    try:
        return f"{HTTPStatus(status).phrase} (no body)"
    except ValueError:
        return "(no body)"


def is_idempotent(request: Request) -> bool:
    """Whether ``request`` may be re-sent after a lost response without doing the work
    twice: GET/HEAD/PUT/DELETE, and a PATCH guarded by ``If-Match``."""
    if request.method in IDEMPOTENT_METHODS:
        return True
    return request.method == "PATCH" and "If-Match" in Headers(request.headers)


def _garbled(response: Response) -> bool:
    """A 2xx announcing JSON whose body does not parse: cut short on its way back."""
    if not 200 <= response.status_code < 300 or not response.content:
        return False
    content_type = response.headers.get("Content-Type")
    if content_type is None:
        if response.content.lstrip()[:1] not in (b"{", b"["):
            return False
    elif "json" not in content_type:
        return False
    try:
        response.json()  # decoded once: the caller reads the same object
    except MalformedResponse:
        return True
    return False


def send(
    session: Session,
    request: Request,
    *,
    ok: frozenset[int] = frozenset(),
    idempotent: bool | None = None,
) -> Op[Response]:
    """Send ``request``, honouring Backoff and retrying what may be retried.

    Returns the response when its status is < 400 or in ``ok``; raises the
    mapped KintoException otherwise.

    A lost response (no response, a 2xx whose JSON body is cut short, a proxy's
    502/504) is retried when the request is idempotent (:func:`is_idempotent`,
    or ``idempotent`` when given: a ``POST /batch`` of idempotent sub-requests).
    The earlier attempt may have been applied: the error of a later attempt
    then has ``maybe_applied`` set, and a later answer has ``replay`` set, so the
    caller can recognise its own write (a create replayed gets 412, a delete
    replayed gets 404).
    """
    if session.dry_mode:
        logger.debug("(dry mode) %s %s", request.method, request.path_url)
        return Response(200, {"Content-Type": JSON_CONTENT_TYPE}, b"{}", request)
    attempts = session.retry + 1
    uncertain = False
    replayable = is_idempotent(request) if idempotent is None else idempotent
    for attempt in range(attempts):
        wait = session.backoff_until - time.monotonic()
        if wait > 0:
            if session.retry <= 0:
                raise BackoffException(
                    f"the server asked to back off; retry in {int(wait) + 1} s", int(wait) + 1
                )
            yield Sleep(wait)
        outcome = yield request
        last = attempt == attempts - 1
        if isinstance(outcome, TransportError):
            if last or not replayable:
                outcome.maybe_applied = uncertain or request.method not in ("GET", "HEAD")
                raise outcome
            uncertain = True
            yield Sleep(_retry_delay(session, None, attempt))
            continue
        response: Response = attrs.evolve(outcome, request=request)
        _observe(session, response)
        if _garbled(response):
            if last or not replayable:
                garbled = MalformedResponse(
                    f"a {response.status_code} response whose body was cut short: "
                    f"{preview(response.text)!r}; the request may have been applied",
                    request=request,
                    response=response,
                )
                garbled.maybe_applied = request.method not in ("GET", "HEAD")
                garbled.path_prefix = session.root_path
                raise garbled
            uncertain = True
            yield Sleep(_retry_delay(session, None, attempt))
            continue
        if response.status_code < 400 or response.status_code in ok:
            return attrs.evolve(response, replay=True) if uncertain else response
        lost = response.status_code in UNCERTAIN_STATUSES  # a gateway's: maybe forwarded
        if last or response.status_code not in RETRYABLE_STATUSES or (lost and not replayable):
            error = error_for(response, request)
            error.path_prefix = session.root_path
            error.maybe_applied = uncertain or lost
            raise error
        uncertain = uncertain or lost
        yield Sleep(_retry_delay(session, response, attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def collect(stream: Generator[Effect, Any, None]) -> Op[list[Any]]:
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
    stream: Generator[Effect, Any, None],
    on_page: Callable[[list[Any]], tuple[Iterable[Any], bool]],
) -> Generator[Effect, Any, None]:
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
    session: Session, request: Request, *, pages: float = float("inf")
) -> Generator[Effect, Any, None]:
    """Emit the ``data`` list of each page, following ``Next-Page`` up to ``pages`` pages.

    A loop, not recursion: any number of pages works and one page is held at a time.
    """
    current: Request | None = request
    done = 0
    while current is not None and done < pages:
        response = yield from send(session, current)
        if response.status_code == NOT_MODIFIED or session.dry_mode:
            return  # If-None-Match matched, or nothing was sent: no page (as kinto-http)
        body = response.json() if response.content else {"data": []}
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
        next_page = response.headers.get("Next-Page")
        current = None
        if next_page:
            path, params = session.relative(next_page)
            current = attrs.evolve(request, path=path, params=params)
