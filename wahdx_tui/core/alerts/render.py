"""Turn what the policy decided into message text: counts, groups, hints and up to ten posts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from wahdx_tui.core.alerts.facts import AlertPost
from wahdx_tui.core.alerts.message import AlertMessage, Kind, Level
from wahdx_tui.core.alerts.safetext import safe_id, safe_text, safe_url
from wahdx_tui.core.domain.categories import CATEGORY_LABELS, HINTS, Category, categorize

MAX_NAMED = 10
"""Posts named in one message; the rest are counted."""
MAX_BODY = 3800
"""Characters at most in a body (below the smallest common chat limit with room for a title)."""
_LABEL, _ID, _ERROR, _HINT = 60, 80, 160, 240


@dataclass(frozen=True, slots=True)
class Alert:
    """One decision of the policy, before it is text."""

    kind: Kind
    at: float
    """When the alert was decided (epoch seconds)."""
    posts: tuple[AlertPost, ...] = ()
    since: float | None = None
    """When it began: a window's first failure, or when the API went down."""
    key: bool = False
    """For API alerts: the key was rejected (not just no answer)."""
    held: tuple[tuple[Kind, int, int], ...] = ()
    """For a held summary: (kind, alerts, posts) held back by the hourly limit."""
    parts: tuple[Alert, ...] = ()
    """For a digest: the alerts quiet hours held."""


def clock(ts: float, tz: tzinfo | None) -> str:
    """HH:MM of a moment in `tz` (local time when None)."""
    return datetime.fromtimestamp(ts, tz).strftime("%H:%M")


def duration(seconds: float) -> str:
    """A length of time for a person: "45 s", "12 min", "3 h 5 min"."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def category_of(post: AlertPost) -> Category:
    """The post's failure category: as given when it is one, else from its error text."""
    if post.category:
        try:
            return Category(post.category)
        except ValueError:
            pass
    return categorize(post.error)


def _accounts_phrase(posts: Sequence[AlertPost]) -> str:
    accounts = {p.account for p in posts}
    if len(accounts) == 1:
        return f"on {safe_id(next(iter(accounts)), _ID)}"
    return f"on {len(accounts)} accounts"


def _by_account(posts: Sequence[AlertPost]) -> str:
    counts = Counter(p.account for p in posts)
    return "By account: " + ", ".join(
        f"{safe_id(account, _ID)} {n}" for account, n in counts.most_common()
    )


def _by_reason(posts: Sequence[AlertPost]) -> list[str]:
    counts: Counter[Category] = Counter()
    hints: dict[Category, str] = {}
    for post in posts:
        category = category_of(post)
        counts[category] += 1
        if category not in hints and post.hint:
            hints[category] = post.hint
    lines = ["By reason:"]
    for category, n in counts.most_common():
        hint = safe_text(hints.get(category) or HINTS[category], _HINT)
        lines.append(f"- {CATEGORY_LABELS[category]} ({n}): {hint}")
    return lines


def _post_lines(posts: Sequence[AlertPost], *, stuck: bool) -> list[str]:
    lines = ["Posts:"]
    for post in posts[:MAX_NAMED]:
        fields = [safe_text(post.label, _LABEL)] if post.label.strip() else []
        fields += [safe_id(post.publish_id, _ID), safe_id(post.account, _ID)]
        if stuck:
            state = safe_text(post.state, 20) if post.state else "one state"
            fields.append(f"stuck in {state}")
            line = "- " + " · ".join(fields)
        else:
            line = "- " + " · ".join(fields) + f" · {CATEGORY_LABELS[category_of(post)]}"
            if post.error:
                line += ": " + safe_text(post.error, _ERROR)
        lines.append(line)
        url = safe_url(post.public_url)
        if url:
            lines.append(f"  {url}")
    if len(posts) > MAX_NAMED:
        lines.append(f"- and {len(posts) - MAX_NAMED} more, see the board.")
    return lines


def _between(since: float | None, at: float, tz: tzinfo | None) -> str:
    if since is None or clock(since, tz) == clock(at, tz):
        return f"at {clock(at, tz)}"
    return f"between {clock(since, tz)} and {clock(at, tz)}"


def _group(posts: Sequence[AlertPost], *, stuck: bool) -> list[str]:
    lines = [_by_account(posts)]
    if not stuck:
        lines += ["", *_by_reason(posts)]
    return [*lines, "", *_post_lines(posts, stuck=stuck)]


def _posts_phrase(posts: Sequence[AlertPost], what: str) -> str:
    """'3 posts failed on acc_a and acc_b': how many posts did `what`, and on which accounts."""
    return f"{_plural(len(posts), 'post')} {what} {_accounts_phrase(posts)}"


def _failed_or_stuck(alert: Alert, tz: tzinfo | None) -> tuple[str, list[str]]:
    """New failures or newly stuck posts: the title, when they were found, the posts grouped."""
    stuck = alert.kind is Kind.STUCK
    posts = alert.posts
    title = _posts_phrase(posts, "stuck" if stuck else "failed")
    when = _between(alert.since, alert.at, tz)
    if stuck:
        first = f"{title}, found {when}: no change for longer than expected."
    else:
        first = f"{title} {when}."
    return title, [first, "", *_group(posts, stuck=stuck)]


RESOLVES: dict[Kind, Kind] = {Kind.FAILED_RESOLVED: Kind.FAILED, Kind.STUCK_RESOLVED: Kind.STUCK}
"""The all-clear of each kind of alert that gets one."""


def _resolved(alert: Alert, tz: tzinfo | None) -> tuple[str, list[str]]:
    posts = alert.posts
    what = "failed" if alert.kind is Kind.FAILED_RESOLVED else "stuck"
    where = _accounts_phrase(posts)
    if len(posts) == 1:
        said = f"the {what} post {where} has published"
    else:
        said = f"all {len(posts)} {what} posts {where} have published"
    sent = f" of {clock(alert.since, tz)}" if alert.since is not None else ""
    return f"Resolved: {said}", [
        f"{said[0].upper()}{said[1:]}, by {clock(alert.at, tz)}: nothing more to do for the"
        f" {what} alert{sent}."
    ]


def _reminder(alert: Alert, tz: tzinfo | None) -> tuple[str, list[str]]:
    posts = alert.posts
    title = f"Reminder: {_plural(len(posts), 'failed post')} not acknowledged"
    first = f"{title} at {clock(alert.at, tz)}. Acknowledge them on the board to stop reminders."
    return title, [first, "", *_group(posts, stuck=False)]


def _api_down(alert: Alert, tz: tzinfo | None) -> tuple[str, list[str]]:
    since = alert.since if alert.since is not None else alert.at
    title = f"Wahdx API down for {duration(alert.at - since)}"
    return title, [
        f"The Wahdx API has not answered since {clock(since, tz)} ({duration(alert.at - since)}).",
        "Checks go on; the board shows the last states it knew. One message follows when it"
        " is back.",
    ]


def _key_rejected(alert: Alert, tz: tzinfo | None) -> tuple[str, list[str]]:
    return "Wahdx API key rejected", [
        f"The Wahdx API rejected the API key at {clock(alert.at, tz)}: no post is being"
        " checked until it is fixed.",
        "Set a valid key (WAHDX_API_KEY or --api-key-file) and restart.",
    ]


def _api_back(alert: Alert, tz: tzinfo | None) -> tuple[str, list[str]]:
    since = alert.since if alert.since is not None else alert.at
    took = duration(alert.at - since)
    if alert.key:
        title = f"Wahdx API accepts the key again after {took}"
    else:
        title = f"Wahdx API back after {took}"
    return title, [
        f"{title}: it was out from {clock(since, tz)} to {clock(alert.at, tz)}. Checks are"
        " running again."
    ]


_KIND_WORDS: dict[Kind, str] = {
    Kind.FAILED: "failures",
    Kind.STUCK: "stuck posts",
    Kind.REMINDER: "reminders",
    Kind.API_DOWN: "the API",
    Kind.API_BACK: "the API",
    Kind.HELD: "held alerts",
    Kind.FAILED_RESOLVED: "all-clears",
    Kind.STUCK_RESOLVED: "all-clears",
}


def _held(alert: Alert, tz: tzinfo | None) -> tuple[str, list[str]]:
    total = sum(n for _, n, _ in alert.held)
    parts = []
    for kind, n, posts in alert.held:
        about = _KIND_WORDS.get(kind, str(kind))
        parts.append(f"{n} about {about}" + (f" ({_plural(posts, 'post')})" if posts else ""))
    title = f"{total} further {'alert' if total == 1 else 'alerts'} held, see the board"
    since = f" at {clock(alert.since, tz)}" if alert.since is not None else ""
    return title, [
        f"The hourly limit of alerts was reached{since}; {total} more were held until"
        f" {clock(alert.at, tz)}: " + ", ".join(parts) + ".",
        "The board has every detail.",
    ]


def _merge(parts: Sequence[Alert], kind: Kind) -> tuple[AlertPost, ...]:
    posts: dict[tuple[str, str], AlertPost] = {}
    for part in parts:
        if part.kind is kind:
            for post in part.posts:
                posts.setdefault(post.key, post)
    return tuple(posts.values())


def _digest(alert: Alert, tz: tzinfo | None) -> tuple[str, list[str]]:
    since = alert.since if alert.since is not None else alert.at
    span = f"{clock(since, tz)} to {clock(alert.at, tz)}"
    title = f"Quiet hours digest ({span})"
    lines = [f"What happened during quiet hours, {span}:"]
    for kind, what in ((Kind.FAILED, "failed"), (Kind.STUCK, "got stuck")):
        posts = _merge(alert.parts, kind)
        if posts:
            lines += [
                "",
                f"{_posts_phrase(posts, what)}.",
                *_group(posts, stuck=kind is Kind.STUCK),
            ]
    api = [p for p in alert.parts if p.kind in (Kind.API_DOWN, Kind.API_BACK)]
    if api:
        lines += ["", "API:"]
        lines += [f"- {RENDERERS[p.kind](p, tz)[0]} ({clock(p.at, tz)})" for p in api]
    resolved = [p for p in alert.parts if p.kind in RESOLVES]
    if resolved:
        lines += ["", "Resolved:"]
        lines += [f"- {RENDERERS[p.kind](p, tz)[0][len('Resolved: ') :]}" for p in resolved]
    reminders = [p for p in alert.parts if p.kind is Kind.REMINDER]
    if reminders:
        n = len(reminders[-1].posts)
        lines += ["", f"{_plural(n, 'failed post')} still not acknowledged, see the board."]
    held = sum(n for p in alert.parts if p.kind is Kind.HELD for _, n, _ in p.held)
    if held:
        lines += ["", f"{held} further alerts from before quiet hours were held, see the board."]
    return title, lines


RENDERERS = {
    Kind.FAILED: _failed_or_stuck,
    Kind.STUCK: _failed_or_stuck,
    Kind.REMINDER: _reminder,
    Kind.API_DOWN: _api_down,
    Kind.API_BACK: _api_back,
    Kind.KEY_REJECTED: _key_rejected,
    Kind.HELD: _held,
    Kind.DIGEST: _digest,
    Kind.FAILED_RESOLVED: _resolved,
    Kind.STUCK_RESOLVED: _resolved,
}
LEVELS: dict[Kind, Level] = {
    Kind.FAILED: "failure",
    Kind.STUCK: "warning",
    Kind.REMINDER: "warning",
    Kind.API_DOWN: "failure",
    Kind.API_BACK: "success",
    Kind.KEY_REJECTED: "failure",
    Kind.HELD: "warning",
    Kind.DIGEST: "warning",
    Kind.TEST: "info",
    Kind.FAILED_RESOLVED: "success",
    Kind.STUCK_RESOLVED: "success",
}


def _cut(body: str) -> str:
    if len(body) <= MAX_BODY:
        return body
    cut = body.rfind("\n", 0, MAX_BODY - 40)
    return body[: cut if cut > 0 else MAX_BODY - 40] + "\n… (cut; see the board)"


def render(alert: Alert, tz: tzinfo | None = None) -> AlertMessage:
    """The message for one alert; times in `tz` (local time when None)."""
    title, lines = RENDERERS[alert.kind](alert, tz)
    if not title.startswith("Wahdx"):
        title = "wahdx: " + title
    return AlertMessage(alert.kind, title, _cut("\n".join(lines)), LEVELS[alert.kind])


def notify_test_message(where: str, at: float, tz: tzinfo | None = None) -> AlertMessage:
    """The message `notify-test` sends."""
    body = (
        f"A test alert from wahdx-tui on {safe_text(where, 60)} at {clock(at, tz)}. If you can"
        " read this, alerts about failed and stuck posts will reach this channel."
    )
    return AlertMessage(Kind.TEST, "wahdx: test alert", body, "info")
