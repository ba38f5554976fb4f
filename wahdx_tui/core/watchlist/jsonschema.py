"""The watchlist's JSON Schema, generated from the reader's keys and the settings table.

``python -m wahdx_tui.core.watchlist.jsonschema`` writes the shipped ``data/watchlist.schema.json``;
``--check`` only says whether that file is what the generator produces (exit 1 if not).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from wahdx_tui.core.settings.table import FILE_SETTINGS, QUIET_PATTERN, Setting
from wahdx_tui.core.watchlist.reader import (
    ACCOUNT_KEYS,
    GROUPED_POST_KEYS,
    MAX_ID_LENGTH,
    MAX_LABEL_LENGTH,
    MAX_POSTS,
    POST_KEYS,
)

__all__ = ["SCHEMA_PATH", "main", "schema_text", "watchlist_schema"]

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "data" / "watchlist.schema.json"
"""The shipped schema (the repository's top-level ``watchlist.schema.json`` links to it)."""

Schema = dict[str, Any]

# The definition each canonical entry key refers to.
_FIELD_DEFS = {
    "accountId": "id",
    "publishId": "id",
    "mediaType": "mediaType",
    "label": "label",
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _spellings(keys: Mapping[str, str], canonical: str) -> list[str]:
    return [key for key, name in keys.items() if name == canonical]


def _one_spelling(keys: Mapping[str, str], canonical: str) -> Schema:
    """Exactly one of the key's spellings is present."""
    return {"oneOf": [{"required": [key]} for key in _spellings(keys, canonical)]}


def _entry(keys: Mapping[str, str], required: Sequence[str]) -> Schema:
    """A post entry: its keys, the required ones in one spelling, mediaType in at most one."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {key: _ref(_FIELD_DEFS[name]) for key, name in keys.items()},
        "allOf": [_one_spelling(keys, name) for name in required],
        "not": {"required": _spellings(keys, "mediaType")},
    }


def _description(setting: Setting) -> str:
    text = f"{setting.help[0].upper()}{setting.help[1:]}: {setting.wanted}"
    if setting.default is not None:
        text += f"; default {setting.show(setting.default)}"
    if setting.applies == "restart":
        text += "; takes effect at the next start"
    return text + "."


def _setting(setting: Setting) -> Schema:
    """The schema of one setting's value: a number within its bounds, or null (not set)."""
    value: Schema
    if setting.kind == "quiet":
        value = {"type": "string", "pattern": QUIET_PATTERN}
    else:
        value = {"type": "integer" if setting.kind == "int" else "number"}
        if setting.above is not None:
            value["exclusiveMinimum"] = setting.above
        if setting.low is not None:
            value["minimum"] = setting.low
        if setting.high is not None:
            value["maximum"] = setting.high
    schema = {"description": _description(setting), **_nullable(value)}
    default = setting.default
    if isinstance(default, float) and default.is_integer():
        schema["default"] = int(default)
    elif default is not None:
        schema["default"] = default
    return schema


def _settings() -> Schema:
    properties: Schema = {}
    for setting in FILE_SETTINGS:
        canonical, *others = setting.spellings
        properties[canonical] = _setting(setting)
        for other in others:
            properties[other] = _ref(f"settings/properties/{canonical}")
    return {
        "type": "object",
        "description": "Optional settings; command-line flags win over these.",
        "additionalProperties": False,
        "properties": properties,
    }


def watchlist_schema() -> Schema:
    """The JSON Schema (2020-12) of a watchlist, as a JSON-ready dict."""
    media = _spellings(ACCOUNT_KEYS, "mediaType")
    account: Schema = {
        "type": "object",
        "additionalProperties": False,
        "required": _spellings(ACCOUNT_KEYS, "posts"),
        "properties": {
            media[0]: {
                **_ref("mediaType"),
                "description": "Default mediaType for this account's posts.",
            },
            **{key: _ref("mediaType") for key in media[1:]},
            "posts": _nullable({"type": "array", "items": _ref("groupedPost")}),
        },
        "not": {"required": media},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:wahdx-tui:watchlist",
        "title": "wahdx-tui watchlist",
        "description": (
            "The posts a wahdx-tui board watches: entries under posts: and/or grouped by"
            " account under accounts:, plus optional settings. snake_case spellings"
            " (account_id, publish_id, media_type) are accepted too."
        ),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "settings": _nullable(_ref("settings")),
            "posts": {
                **_nullable({"type": "array", "maxItems": MAX_POSTS, "items": _ref("post")}),
                "description": (
                    "One entry per post: accountId and publishId, optional mediaType and label."
                ),
            },
            "accounts": {
                **_nullable(
                    {
                        "type": "object",
                        "propertyNames": {"minLength": 1, "maxLength": MAX_ID_LENGTH},
                        "additionalProperties": _ref("account"),
                    }
                ),
                "description": "Posts grouped by account id.",
            },
        },
        "anyOf": [{"required": ["posts"]}, {"required": ["accounts"]}],
        "$defs": {
            "id": {
                "description": (
                    f"An id: text (or a number, read as text), 1 to {MAX_ID_LENGTH} characters."
                ),
                "anyOf": [
                    {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_ID_LENGTH,
                        "pattern": "\\S",
                    },
                    {"type": "number"},
                ],
            },
            "mediaType": {
                "description": "The post's media type, case-insensitive: video or photo.",
                "anyOf": [
                    {
                        "type": "string",
                        "pattern": "^\\s*([Vv][Ii][Dd][Ee][Oo]|[Pp][Hh][Oo][Tt][Oo])\\s*$",
                    },
                    {"type": "null"},
                ],
            },
            "label": {
                "description": "A label shown on the board; optional.",
                "anyOf": [
                    {"type": "string", "maxLength": MAX_LABEL_LENGTH},
                    {"type": "number"},
                    {"type": "null"},
                ],
            },
            "settings": _settings(),
            "post": _entry(POST_KEYS, ["accountId", "publishId"]),
            "account": account,
            "groupedPost": {
                "anyOf": [_ref("id"), _entry(GROUPED_POST_KEYS, ["publishId"])],
            },
        },
    }


def schema_text() -> str:
    """The schema as the shipped file holds it: JSON indented by two, ending in a newline."""
    return json.dumps(watchlist_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the shipped schema (or with ``--check``, compare it); return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m wahdx_tui.core.watchlist.jsonschema", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    parser.add_argument("--output", type=Path, default=SCHEMA_PATH, help="file to write")
    args = parser.parse_args(argv)
    text = schema_text()
    path: Path = args.output
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.check:
        if current != text:
            print(
                f"error: {path} is not what the settings table gives:"
                " run python -m wahdx_tui.core.watchlist.jsonschema",
                file=sys.stderr,
            )
            return 1
        return 0
    if current != text:
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"error: cannot write {path}: {exc.strerror}", file=sys.stderr)
            return 2
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
