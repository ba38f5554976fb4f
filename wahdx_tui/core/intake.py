"""Posts handed over for the team's watchlist (CSV, JSON lines, a batch body), checked item by item.

One reader for every way in: `wahdx-tui add --from FILE` reads text with `parse_checks`, and
the HTTP ingest (`POST /api/v1/watch`) hands its decoded body to `parse_items`. Either
returns every post or raises one `IntakeError` naming the line or item that is wrong, so a
bad batch adds nothing.

Accepted:

- CSV with a header row: ``accountId,publishId[,mediaType,label]`` (snake_case too, any
  order);
- JSON lines: one object per line, with those keys;
- one JSON object ``{"checks": [...]}``, the batch status endpoint's own body (each item may
  also carry a ``label``), or a JSON list of such items.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from typing import Any

from wahdx_tui.core.domain.errors import WahdxError
from wahdx_tui.core.domain.model import WatchedPost
from wahdx_tui.core.watchlist.reader import (
    MAX_POSTS,
    POST_KEYS,
    check_id,
    check_label,
    check_media_type,
)
from wahdx_tui.core.watchlist.yamlsafe import show

MAX_INTAKE_BYTES = 64 * 1024 * 1024
"""Largest input read at once, in bytes."""
_FIELDS = "accountId, publishId, mediaType, label (snake_case also accepted)"
_FORMATS = 'CSV with a header row, JSON lines, or one {"checks": [...]} object'


class IntakeError(WahdxError):
    """Input for the watchlist that cannot be used; one line naming where and what is wrong."""


def parse_checks(data: str | bytes, name: str = "input") -> list[WatchedPost]:
    """The posts in `data` (CSV, JSON lines or a batch body, told apart by its first
    character), named `name` in messages; raises IntakeError, adding nothing, when any is bad."""
    text = _text(data, name)
    body = text.lstrip()
    if not body:
        raise IntakeError(f"{name}: no posts: give {_FORMATS}")
    if body[0] == "{" and _json_lines_body(body):
        return _limited(_json_lines(text, name), name)
    if body[0] in "[{":
        try:
            value = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise IntakeError(f"{name}: not valid JSON: {_json_reason(exc)}") from None
        return parse_items(value, name)
    return _limited(_csv_rows(text, name), name)


def parse_items(value: object, name: str = "body") -> list[WatchedPost]:
    """The posts of a decoded JSON body: ``{"checks": [...]}`` or a list of items."""
    items: object = value
    where = ""
    if isinstance(value, dict):
        unknown = [k for k in value if k != "checks"]
        if unknown:
            raise IntakeError(
                f'{name}: unknown key {show(str(unknown[0]))}: the body is {{"checks": [...]}}'
            )
        if "checks" not in value:
            raise IntakeError(f'{name}: no "checks": the body is {{"checks": [...]}}')
        items, where = value["checks"], "checks"
    if not isinstance(items, list):
        raise IntakeError(f"{name}: {where or 'the body'} must be a list of posts")
    if not items:
        raise IntakeError(f"{name}: no posts: {where or 'the list'} is empty")
    if len(items) > MAX_POSTS:
        raise IntakeError(f"{name}: too many posts: more than {MAX_POSTS:,}; split the input")
    return [item_post(item, f"{name}: {where}[{i}]") for i, item in enumerate(items)]


def item_post(item: object, where: str) -> WatchedPost:
    """One JSON item as a post; IntakeError starting with `where` when it is bad."""
    if not isinstance(item, dict):
        raise IntakeError(f"{where}: a post must be an object with accountId and publishId")
    fields: dict[str, object] = {}
    for key, value in item.items():
        canon = POST_KEYS.get(str(key))
        if canon is None:
            raise IntakeError(f"{where}: unknown key {show(str(key))}; allowed keys: {_FIELDS}")
        if canon in fields:
            raise IntakeError(f"{where}: {canon} is given twice; keep only one")
        if value is not None and not isinstance(value, str):
            raise IntakeError(f"{where}: {canon} must be a string, got {_kind(value)}")
        fields[canon] = value
    return _post(fields, where)


def _post(fields: Mapping[str, object], where: str) -> WatchedPost:
    """A post from its canonical fields (strings, or None where left out)."""
    values: dict[str, str] = {}
    for name in ("accountId", "publishId"):
        value = fields.get(name)
        if value is None:
            raise IntakeError(f"{where}: {name} is missing: give the {name[:-2]} id")
        values[name] = str(value)
    try:
        account = check_id(values["accountId"], "accountId")
        publish = check_id(values["publishId"], "publishId")
        media = fields.get("mediaType")
        media_type = check_media_type(str(media)) if media not in (None, "") else None
        label = check_label(str(fields.get("label") or ""))
    except ValueError as exc:
        raise IntakeError(f"{where}: {exc}") from None
    return WatchedPost(account, publish, media_type, label)


def _text(data: str | bytes, name: str) -> str:
    if len(data) > MAX_INTAKE_BYTES:
        raise IntakeError(
            f"{name}: too large: over {MAX_INTAKE_BYTES // (1024 * 1024)} MiB; split the input"
        )
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IntakeError(f"{name}: not UTF-8 text (byte {exc.start + 1:,})") from None


def _json_lines_body(body: str) -> bool:
    """Whether a body starting with '{' is JSON lines: its first line is an object, and the
    body is not one object holding "checks" (anything else is read as one JSON document)."""
    try:
        whole: object = json.loads(body)
    except (ValueError, RecursionError):
        try:
            json.loads(body.split("\n", 1)[0])
        except (ValueError, RecursionError):
            return False
        return True
    return not (isinstance(whole, dict) and "checks" in whole)


def _json_reason(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    return "nested too deeply"


def _limited(posts: Iterator[WatchedPost], name: str) -> list[WatchedPost]:
    out: list[WatchedPost] = []
    for post in posts:
        out.append(post)
        if len(out) > MAX_POSTS:
            raise IntakeError(f"{name}: too many posts: more than {MAX_POSTS:,}; split the input")
    if not out:
        raise IntakeError(f"{name}: no posts: give {_FORMATS}")
    return out


def _json_lines(text: str, name: str) -> Iterator[WatchedPost]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            item: Any = json.loads(line)
        except (ValueError, RecursionError) as exc:
            reason = _json_reason(exc).rsplit(" at line ", 1)[0]
            raise IntakeError(f"{where}: not a JSON object: {reason}") from None
        yield item_post(item, where)


def _csv_rows(text: str, name: str) -> Iterator[WatchedPost]:
    reader = csv.reader(text.splitlines())
    columns: list[str] | None = None
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            where = f"{name} line {reader.line_num}"
            if columns is None:
                columns = _header(row, where)
                continue
            if len(row) > len(columns):
                raise IntakeError(
                    f"{where}: {len(row)} fields, but the header has {len(columns)}:"
                    " quote a value that holds a comma"
                )
            yield _post(dict(zip(columns, row, strict=False)), where)
    except csv.Error as exc:
        raise IntakeError(f"{name} line {reader.line_num}: not CSV: {exc}") from None


def _header(row: list[str], where: str) -> list[str]:
    """The canonical name of each column of a CSV header row."""
    columns: list[str] = []
    for cell in row:
        canon = POST_KEYS.get(cell.strip())
        if canon is None:
            raise IntakeError(
                f"{where}: unknown column {show(cell.strip())}; the header names {_FIELDS}"
            )
        if canon in columns:
            raise IntakeError(f"{where}: column {canon} is given twice; keep only one")
        columns.append(canon)
    for name in ("accountId", "publishId"):
        if name not in columns:
            raise IntakeError(
                f"{where}: the header has no {name} column: start with accountId,publishId"
            )
    return columns


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value}): put it in quotes"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__
