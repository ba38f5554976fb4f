"""POST /api/v1/watch and DELETE /api/v1/watch/{accountId}/{publishId}: the team's watchlist fed
over HTTP with the same reader and the same store writes as `wahdx-tui add` and `remove`.

The body is the batch status endpoint's own, `{"checks": [...]}` (each item may carry a
`label`), read by core/watchlist/intake.py's `parse_items`: one bad item refuses the whole batch with a
400 naming it, and nothing is added. Adding again is idempotent (a label is updated, no row
is added), as `add` is.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.store.protocol import Origin, StoreError
from wahdx_tui.core.team.engine import TeamEngine
from wahdx_tui.core.watchlist.intake import IntakeError, item_post, parse_items

SOURCE = "http"
"""Where posts added over HTTP come from, as the list keeps it (`add`, `board`, `file ...`)."""


def _error(status: int, message: str) -> web.Response:
    """`{"error": message}` with the status."""
    return web.Response(
        body=orjson.dumps({"error": message}),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def too_large(limit: int) -> web.Response:
    """413, saying the limit and what to do."""
    return _error(
        413,
        f"body larger than {limit // 1024:,} KiB: send the posts in smaller batches"
        " (1,000 posts take about 100 KiB)",
    )


def _who(request: web.Request) -> str:
    """Who added the posts, as the list keeps it: the client's address (tokens name nobody)."""
    return clean(f"http client {request.remote or 'unknown'}", 200)


async def add_posts(engine: TeamEngine, request: web.Request, limit: int) -> web.Response:
    """POST /api/v1/watch: every post of the body onto the list, or none and why."""
    if request.content_length is not None and request.content_length > limit:
        return too_large(limit)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return too_large(limit)
    try:
        value: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return _error(
            400, f'body: not valid JSON ({clean(str(exc), 160)}): send {{"checks": [...]}}'
        )
    try:
        posts = parse_items(value, "body")
    except IntakeError as exc:
        return _error(400, str(exc))
    store, scope, origin = engine.team.store, engine.team.scope, Origin(SOURCE, _who(request))
    try:
        counts = await engine.history.call(lambda: store.add_watched(scope, posts, origin))
    except StoreError as exc:
        return _error(503, f"store unreachable, nothing added: {exc}")
    return web.Response(
        body=orjson.dumps(
            {"added": counts.added, "updated": counts.updated, "unchanged": counts.unchanged}
        ),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


async def remove_post(engine: TeamEngine, request: web.Request) -> web.Response:
    """DELETE /api/v1/watch/{accountId}/{publishId}: off the list (its history stays)."""
    fields = {
        "accountId": request.match_info["account"],
        "publishId": request.match_info["publish"],
    }
    try:
        post = item_post(fields, "the post given")
    except IntakeError as exc:
        return _error(400, str(exc))
    store, scope = engine.team.store, engine.team.scope
    try:
        gone = await engine.history.call(lambda: store.remove_watched(scope, [post.key]))
    except StoreError as exc:
        return _error(503, f"store unreachable, nothing removed: {exc}")
    return web.Response(
        body=orjson.dumps({"removed": gone}),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
