"""GET /healthz: the role, the lease, the last complete pass, the API and the store, as JSON;
200 while serving, 503 while the store cannot be reached (for systemd, probes and balancers)."""

from __future__ import annotations

import time
from typing import Any

from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.team.engine import TeamEngine

Json = dict[str, Any]


def health(engine: TeamEngine, now: float | None = None) -> tuple[int, Json]:
    """(HTTP status, the JSON body) for serve as it stands now."""
    now = time.time() if now is None else now
    store_down = engine.store_down_since
    status = 503 if store_down is not None else 200
    last = engine.health.last_success
    lease = engine.team.lease
    api = engine.health
    body: Json = {
        "status": "serving" if status == 200 else "store unreachable",
        "role": "holder" if engine.polls_api else "standby",
        "lease": None
        if lease is None
        else {
            "holder_host": clean(lease.host, 120),
            "holder_pid": lease.pid,
            "this_process": lease.holder_id == engine.team.holder.id and engine.polls_api,
            "expired": lease.expired,
            "renewed_at": lease.renewed_at,
            "expires_at": lease.expires_at,
        },
        "seconds_since_last_complete_pass": None if last is None else max(0.0, now - last),
        "api": {
            "state": api.state,
            "down_since": api.down_since,
            "error": clean(api.last_error, 300) if api.last_error else None,
        },
        "store": {
            "reachable": store_down is None,
            "unreachable_since": store_down,
            "location": engine.team.store.location,
        },
        "posts": len(engine.board.rows),
    }
    return status, body


def brief(status: int) -> Json:
    """What a caller without a token is told on a bind beyond loopback: the verdict alone."""
    return {"status": "serving" if status == 200 else "store unreachable"}
