"""Metric responses cached in memory by data version, with ``ETag`` and ``If-None-Match``.

The data only changes when a load, import or refresh commits, and each commit records a new data
version (storage's ``Database.data_version()``). A ``GET /v1/metrics/{name}`` answer is therefore
cached under ``(path, sorted query, data version)`` in a bounded LRU (:class:`ResponseCache`):
a new version simply stops matching the old entries, which age out. Nothing is cached while the
database records no version.

Two pieces, because a cached answer must still pass authentication and parameter checks:

* :func:`lookup`, a dependency of the metric routes placed after the API-key and unknown-parameter
  checks: it reads the data version, and on a hit raises :class:`CacheHit`, which the app's
  handler turns into the stored response (or a ``304 Not Modified``). On a miss, one request
  computes the answer and the others asking for the same key meanwhile wait for it (after a new
  version, 20 clients do not compute the same five answers 20 times);
* :class:`CacheMiddleware`, an ASGI middleware: on a miss it keeps the 200 answer the route made,
  stores it when the data version read again afterwards is unchanged (no answer computed across
  a commit is ever stored under the older version), and adds the headers.

Every metric answer carries ``ETag``, ``X-Data-Version`` and ``X-Data-As-Of`` when a version is
known; ``If-None-Match`` with the current ETag gives a 304 without a body.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sales_analytics.api.service import Service, Version
from sales_analytics.lru import LRU
from sales_analytics.storage import StorageError

log = logging.getLogger(__name__)

#: Paths whose GET answers are cached (the catalogue listing itself is static: not included).
PREFIX = "/v1/metrics/"
MAX_ENTRIES = 512
#: ``request.state`` attributes shared by :func:`lookup` and :class:`CacheMiddleware`.
_KEY = "sa_cache_key"
_HIT = "sa_cache_hit"
_LEADER = "sa_cache_leader"

Key = tuple[str, tuple[tuple[str, str], ...], int]


@dataclass(frozen=True)
class Entry:
    """One cached answer."""

    body: bytes
    media_type: str
    etag: str
    version: Version


class ResponseCache(LRU[Key, Entry]):
    """A thread-safe LRU of at most ``max_entries`` answers, with one computation per key at a
    time (:meth:`claim`)."""

    def __init__(self, max_entries: int = MAX_ENTRIES):
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        super().__init__(max_entries)
        self._inflight: dict[Key, threading.Event] = {}

    def claim(self, key: Key) -> threading.Event | None:
        """``None``: the caller computes ``key``'s answer and must :meth:`release` it after.
        Else the event another request sets when its answer for ``key`` is done (wait on it,
        then :meth:`get` again): one computation per key at a time, not one per client."""
        with self.lock:
            event = self._inflight.get(key)
            if event is None:
                self._inflight[key] = threading.Event()
            return event

    def release(self, key: Key) -> None:
        with self.lock:
            event = self._inflight.pop(key, None)
        if event is not None:
            event.set()


def cache_key(path: str, query: list[tuple[str, str]], version: int) -> Key:
    """``(path, sorted query pairs, version)``: ``?a=1&b=2`` and ``?b=2&a=1`` are one entry."""
    return (path, tuple(sorted(query)), version)


def etag_of(body: bytes, version: int) -> str:
    """A strong ETag: the data version and a digest of the body."""
    return f'"v{version}-{hashlib.blake2b(body, digest_size=8).hexdigest()}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (or is ``*``); weak tags compare too."""
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or etag in (t.removeprefix("W/") for t in tags)


def version_headers(etag: str, version: Version) -> dict[str, str]:
    headers = {"ETag": etag, "X-Data-Version": str(version.version)}
    if version.as_of is not None:
        headers["X-Data-As-Of"] = version.as_of.isoformat()
    return headers


class CacheHit(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised by :func:`lookup` to answer from the cache; see :func:`cache_hit_handler`."""

    def __init__(self, response: Response):
        super().__init__("answered from the cache")
        self.response = response


def lookup(request: Request) -> None:
    """Dependency of the metric routes: answer from the cache when the entry exists.

    Runs after authentication and the unknown-parameter check (it is the routes' last
    dependency). A data version that cannot be read means no caching, never an error.
    """
    if request.method != "GET" or not request.url.path.startswith(PREFIX):
        return
    service: Service = request.app.state.service
    cache: ResponseCache = request.app.state.cache
    try:
        version = service.data_version()
    except StorageError:
        return
    if version.version is None:
        return
    key = cache_key(request.url.path, request.query_params.multi_items(), version.version)
    setattr(request.state, _KEY, (key, version))
    entry = cache.get(key)
    if entry is None:
        computing = cache.claim(key)
        if computing is None:  # this request computes it; the middleware releases the claim
            setattr(request.state, _LEADER, key)
            return
        computing.wait(service.statement_timeout)  # another request computes the same answer
        entry = cache.get(key)
        if entry is None:  # it failed, or the version moved meanwhile: compute it here
            return
    setattr(request.state, _HIT, True)
    headers = version_headers(entry.etag, entry.version)
    if matches(request.headers.get("if-none-match"), entry.etag):
        raise CacheHit(Response(status_code=304, headers=headers))
    raise CacheHit(Response(entry.body, media_type=entry.media_type, headers=headers))


async def cache_hit_handler(_request: Request, exc: CacheHit) -> Response:
    return exc.response


class CacheMiddleware:
    """Stores the metric routes' 200 answers and adds ``ETag`` / ``X-Data-*`` headers (ASGI)."""

    def __init__(self, app: ASGIApp, get_state: Callable[[], tuple[Service, ResponseCache]]):
        self.app = app
        self.get_state = get_state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if state.get(_HIT) or _KEY not in state:
                await send(message)
                return
            if message["type"] == "http.response.start":
                if message["status"] != 200:
                    state.pop(_KEY, None)  # pass everything else through untouched
                    await send(message)
                    return
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await self._finish(scope, state, start, b"".join(chunks), send)
                return
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if (claimed := state.get(_LEADER)) is not None:
                _, cache = self.get_state()
                cache.release(claimed)

    async def _finish(
        self, scope: Scope, state: dict, start: Message | None, body: bytes, send: Send
    ) -> None:
        assert start is not None
        key, version = state[_KEY]
        service, cache = self.get_state()
        etag = etag_of(body, version.version)
        headers = [
            (k, v)
            for k, v in start.get("headers", [])
            if k.lower() not in (b"etag", b"x-data-version", b"x-data-as-of")
        ]
        media_type = next(
            (v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"),
            "application/json",
        )
        try:
            after = await run_in_threadpool(service.data_version, fresh=True)
        except StorageError:
            after = None
        if after is not None and after.version == version.version:
            cache.put(key, Entry(body, media_type, etag, version))
        extra = [
            (k.lower().encode(), v.encode()) for k, v in version_headers(etag, version).items()
        ]
        request_headers = dict(scope.get("headers", []))
        inm = request_headers.get(b"if-none-match")
        if inm is not None and matches(inm.decode("latin-1"), etag):
            kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length",)]
            await send({**start, "status": 304, "headers": kept + extra})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({**start, "headers": headers + extra})
        await send({"type": "http.response.body", "body": body})


__all__ = [
    "MAX_ENTRIES",
    "CacheHit",
    "CacheMiddleware",
    "Entry",
    "ResponseCache",
    "cache_hit_handler",
    "cache_key",
    "etag_of",
    "lookup",
    "matches",
]
