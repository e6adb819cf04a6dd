"""Rendered playlists kept in memory, so that an unchanged poll costs no query.

An entry lives until its `fresh_until` (the next window edge, or an emergency that starts or
anything that ends) or until the endpoint's playlist changes: this process drops it when its own
transaction commits (the change feed), other processes when their sync loop reads the change.
"""

import time
from collections.abc import Mapping
from datetime import datetime

from starlette.types import ASGIApp, Receive, Scope, Send

from nguon.dispatch.service import RenderedPlaylist
from nguon.identity.credentials import ApiKeyHasher
from nguon.identity.key_cache import ApiKeyCache
from nguon.identity.roles import Role
from nguon.kit.db import utcnow
from nguon.kit.observability import REQUEST_ID_HEADER, Metrics, RouteFigures, request_id


class PlaylistCache:
    def __init__(self) -> None:
        self._entries: dict[int, RenderedPlaylist] = {}
        # The newest playlist version heard of per endpoint: a render of an older one is stale,
        # even one that finishes after the change was heard.
        self._newest: dict[int, int] = {}

    def get(self, endpoint_id: int, now: datetime) -> RenderedPlaylist | None:
        entry = self._entries.get(endpoint_id)
        return entry if entry is not None and now < entry.fresh_until else None

    def put(self, rendered: RenderedPlaylist) -> None:
        """Keep a render unless a newer version of the playlist has been heard of."""
        if rendered.version >= self._newest.get(rendered.endpoint_id, rendered.version):
            self._entries[rendered.endpoint_id] = rendered

    def drop(self, versions: Mapping[int, int]) -> None:
        """These endpoints' playlists changed to these versions: renders of older ones go.
        A render of the new version stays, however often the change is heard again."""
        for endpoint_id, version in versions.items():
            self._newest[endpoint_id] = max(version, self._newest.get(endpoint_id, version))
            entry = self._entries.get(endpoint_id)
            if entry is not None and entry.version < version:
                del self._entries[endpoint_id]


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*` or a list of tags, compared weakly (W/ is ignored)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


class UnchangedPlaylistShortcut:
    """Answers an unchanged device poll with 304 before the framework sees it.

    Only when everything is already known in memory: the `X-Api-Key` is an endpoint key this
    process verified (and has not seen revoked), the endpoint's playlist is one it rendered and
    is still fresh, and `If-None-Match` names it. Anything else goes on to the route, which
    authenticates, renders and fills both caches. 10,000 displays polling every 10 s is the
    normal load of a large province; this keeps each such poll to a hash and two lookups.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        path: str,
        keys: ApiKeyCache,
        hasher: ApiKeyHasher,
        playlists: PlaylistCache,
        metrics: Metrics,
    ) -> None:
        self.app = app
        self.path = path
        self.keys = keys
        self.hasher = hasher
        self.playlists = playlists
        # Counted and timed as the route counts its own answers, without a log line each.
        self.figures = RouteFigures(metrics, "GET", path, 304)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path and scope["method"] == "GET":
            started = time.perf_counter()
            unchanged = self._unchanged(scope["headers"])
            if unchanged is not None:
                etag, offered_id = unchanged
                headers = [
                    (b"etag", etag.encode()),
                    (b"cache-control", b"no-cache"),
                    (REQUEST_ID_HEADER.encode(), request_id(offered_id).encode()),
                ]
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                self.figures.observe(started)
                return
        await self.app(scope, receive, send)

    def _unchanged(self, headers: list[tuple[bytes, bytes]]) -> tuple[str, str] | None:
        """The ETag to answer 304 with, and the request id the client offered."""
        key = if_none_match = None
        offered_id = ""
        for name, value in headers:
            if name == b"x-api-key":
                key = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"x-request-id":
                offered_id = value.decode("latin-1")
        if key is None or if_none_match is None:
            return None
        principal = self.keys.get(self.hasher.digest(key))
        if principal is None or principal.role is not Role.endpoint or not principal.endpoint_id:
            return None
        rendered = self.playlists.get(principal.endpoint_id, utcnow())
        if rendered is None or not etag_matches(if_none_match, rendered.etag):
            return None
        return rendered.etag, offered_id
