"""Copying one store into another (SQLite into PostgreSQL, or back), safe to run twice."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from wahdx_tui.core.domain.sanitize import clean
from wahdx_tui.core.store.protocol import HistoryRows, Store
from wahdx_tui.core.store.url import is_postgres, sqlite_path

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
    listed: int = 0
    """Entries of the team's watchlist (retired posts among them)."""
    apis: list[str] = field(default_factory=list)
    """The API base URLs whose history was copied (each store keeps one history per API)."""

    def said(self, src: str, dst: str) -> str:
        """What `store copy` prints: which APIs' history, from where to where, how much."""
        shown = ", ".join(clean(a, 120) for a in self.apis[:3])
        if len(self.apis) > 3:
            shown += f" and {len(self.apis) - 3} more"
        apis = _count(self.scopes, "API")
        what = f"the history of {apis} ({shown})" if self.apis else "nothing: SRC holds no history"
        return (
            f"copied {what} from {src} to {dst}: {_count(self.posts, 'post')},"
            f" {_count(self.transitions, 'state change')} ({self.new_transitions:,} new),"
            f" {_count(self.acks, 'acknowledgement')}, {_count(self.listed, 'watchlist entry')}"
        )


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def copy_store(src: Store, dst: Store, chunk: int = CHUNK) -> CopyReport:
    """Copy every scope's posts, transitions, acknowledgements and team's watchlist from `src`
    into `dst`.

    Posts, acknowledgements and list entries are written as they are in `src` (replacing the
    target's for the same post); a transition the target already holds is not written again.
    """
    scopes = posts = transitions = new = acks = listed = 0
    apis: list[str] = []
    for scope in src.scopes():
        apis.append(scope)
        last = list(src.last_posts(scope).values())
        events = src.events(scope, limit=ALL)
        events.reverse()  # oldest first, so a copy cut short holds the older part
        ack_list = list(src.acks(scope).values())
        scopes += 1
        posts += len(last)
        transitions += len(events)
        acks += len(ack_list)
        new += dst.import_history(scope, HistoryRows(last, events[:chunk], ack_list))
        for start in range(chunk, len(events), chunk):
            new += dst.import_history(scope, HistoryRows(transitions=events[start : start + chunk]))
        entries = src.listed_posts(scope, retired=True)
        dst.import_listed(scope, entries)
        listed += len(entries)
    return CopyReport(scopes, posts, transitions, new, acks, listed, apis)


def same_store(src: str, dst: str) -> bool:
    """True when SRC and DST name one store: the same SQLite file by any path (a symlink, a
    hard link, `sqlite:///`), or the same PostgreSQL database on the same server and port."""
    if is_postgres(src) != is_postgres(dst):
        return False
    if not is_postgres(src):
        a, b = sqlite_path(src), sqlite_path(dst)
        try:
            return a.samefile(b)
        except OSError:  # DST does not exist yet (or cannot be looked at): compare the names
            return a.resolve() == b.resolve()
    return _pg_where(src) == _pg_where(dst)


def _pg_where(url: str) -> tuple[str, str, str]:
    """(host, port, database) a PostgreSQL URL reaches, with libpq's defaults."""
    from psycopg.conninfo import conninfo_to_dict  # loaded only for PostgreSQL

    try:
        parts = conninfo_to_dict(url)
    except Exception:  # a malformed URL: opening it says what is wrong
        return (url, "", "")
    env = os.environ
    host = str(parts.get("host") or env.get("PGHOST") or "localhost")
    port = str(parts.get("port") or env.get("PGPORT") or "5432")
    user = str(parts.get("user") or env.get("PGUSER") or "")
    dbname = str(parts.get("dbname") or env.get("PGDATABASE") or user)
    return (host.lower(), port, dbname)
