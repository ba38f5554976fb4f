"""Copying one store into another (SQLite into PostgreSQL, or back), safe to run twice."""

from __future__ import annotations

from dataclasses import dataclass

from wahdx_tui.core.store.protocol import Store

CHUNK = 20_000
"""Transitions written per transaction: a long history is copied in bounded steps."""
ALL = 2**62


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What a copy read from the source, and how many transitions were new to the target."""

    scopes: int
    posts: int
    transitions: int
    new_transitions: int
    acks: int


def copy_store(src: Store, dst: Store, chunk: int = CHUNK) -> CopyReport:
    """Copy every scope's posts, transitions and acknowledgements from `src` into `dst`.

    Posts and acknowledgements are written as they are in `src` (replacing the target's for
    the same post); a transition the target already holds is not written again.
    """
    scopes = posts = transitions = new = acks = 0
    for scope in src.scopes():
        last = list(src.last_posts(scope).values())
        events = src.events(scope, limit=ALL)
        events.reverse()  # oldest first, so a copy cut short holds the older part
        ack_list = list(src.acks(scope).values())
        scopes += 1
        posts += len(last)
        transitions += len(events)
        acks += len(ack_list)
        new += dst.import_history(scope, last, events[:chunk], ack_list)
        for start in range(chunk, len(events), chunk):
            new += dst.import_history(scope, [], events[start : start + chunk], [])
    return CopyReport(scopes, posts, transitions, new, acks)
