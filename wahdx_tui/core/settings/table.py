"""Every setting in one table: its watchlist keys, flag, bounds, default, and how it resolves.

:data:`SETTINGS` is the one place a setting is described. The watchlist reader
(:mod:`wahdx_tui.core.watchlist.reader`), the command-line flags (:func:`add_setting_flags`) and the
JSON Schema (:mod:`wahdx_tui.core.watchlist.jsonschema`) are derived from it, and every default is read
from it (:data:`DEFAULTS`). A value resolves as: a flag given on the command line, else the
watchlist's ``settings:``, else the default (:func:`resolve_settings`). After a watchlist
reload, :func:`changed_settings` says what changed and whether it applies now or at the next
start.

To add a setting: add a row to :data:`SETTINGS`, and a field of the same name, in the same
order, to :class:`Settings` (and to :class:`WatchlistSettings` when it may be set in the
file); an import-time check refuses a table and classes that disagree. Then regenerate the
schema: ``python -m wahdx_tui.core.watchlist.jsonschema``. A value made of settings (the
client's options, the alert settings) takes them by name with :meth:`Settings.into`.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from wahdx_tui.core.domain.errors import ConfigError

__all__ = [
    "DEFAULTS",
    "DURATION_PATTERN",
    "FILE_KEYS",
    "FILE_SETTINGS",
    "QUIET_PATTERN",
    "SETTING",
    "SETTINGS",
    "Applies",
    "Kind",
    "QuietHours",
    "Setting",
    "SettingChange",
    "Settings",
    "WatchlistSettings",
    "add_setting_flags",
    "changed_settings",
    "flag_values",
    "format_duration",
    "parse_duration",
    "parse_quiet",
    "resolve_settings",
]

Applies = Literal["live", "restart"]
"""When a changed value takes effect: ``live`` on a watchlist reload, ``restart`` at the next start."""
Kind = Literal["int", "float", "quiet", "duration"]
"""A whole number, a number, a daily quiet span (``HH:MM-HH:MM``, :class:`QuietHours`), or a
duration (``90s``, ``30m``, ``24h``, ``7d``; a plain number is seconds), held in seconds."""
# --- quiet hours -------------------------------------------------------------------------

_CLOCK = "([01]?[0-9]|2[0-3]):([0-5][0-9])"
_QUIET_BODY = f" *{_CLOCK} *- *{_CLOCK} *"
QUIET_PATTERN = f"^{_QUIET_BODY}$"
"""The quiet-hours format as a regular expression (the schema's, and the reader's)."""
_QUIET = re.compile(_QUIET_BODY, re.ASCII)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily span of local time, from ``start`` up to ``end``, which may pass midnight.

    Both are minutes after local midnight (0 to 1439); ``str()`` is ``'HH:MM-HH:MM'``.
    """

    start: int
    end: int

    def covers(self, minute: int) -> bool:
        """True when ``minute`` after local midnight (0 to 1439) is inside the span."""
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


_LOOSE_QUIET = re.compile(r" *([0-9]+):([0-9]+) *- *([0-9]+):([0-9]+) *", re.ASCII)


def parse_quiet(text: str) -> QuietHours:
    """Read ``'HH:MM-HH:MM'`` (local time; ``22:00-07:00`` passes midnight).

    Raises ValueError, its text saying what is wrong beyond the format (empty if nothing
    more can be said), to follow ``'NAME must be ..., got ...'``.
    """
    match = _QUIET.fullmatch(text)
    if match is None:
        loose = _LOOSE_QUIET.fullmatch(text)
        if loose is not None:
            for hour, minute in (loose.group(1, 2), loose.group(3, 4)):
                if len(hour) > 2 or int(hour) > 23:
                    raise ValueError("hours are 00 to 23")
                if len(minute) != 2 or int(minute) > 59:
                    raise ValueError("minutes are two digits, 00 to 59")
        raise ValueError("")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    quiet = QuietHours(h1 * 60 + m1, h2 * 60 + m2)
    if quiet.start == quiet.end:
        raise ValueError(
            f"it starts and ends at {_clock(quiet.start)}: give two different times,"
            " or leave it out for no quiet hours"
        )
    return quiet


# --- durations ---------------------------------------------------------------------------

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
DURATION_PATTERN = "^ *[0-9]+([.][0-9]+)? *[smhdSMHD]? *$"
"""A duration as written: a number of seconds, or with a unit (the schema's, and the reader's)."""
_DURATION = re.compile(DURATION_PATTERN, re.ASCII)


def parse_duration(text: str) -> float:
    """Seconds in ``'90s'``, ``'30m'``, ``'24h'``, ``'7d'`` or ``'45'`` (seconds); ValueError
    (with an empty text: the format says it all) for anything else."""
    if _DURATION.fullmatch(text) is None:
        raise ValueError("")
    body = text.strip()
    unit = body[-1].lower() if body[-1].isalpha() else "s"
    number = body.rstrip("smhdSMHD").strip()
    return float(number) * _UNITS[unit]


def format_duration(seconds: float) -> str:
    """``24h`` for 86400, ``90s`` for 90: the largest unit the value is a whole number of."""
    for unit, size in sorted(_UNITS.items(), key=lambda item: -item[1]):
        count = seconds / size
        if count.is_integer() and (count >= 2 or unit != "d") and seconds:
            return f"{int(count)}{unit}"  # a day reads as 24h, as it is said
    return f"{seconds:g}s"


# --- the table ---------------------------------------------------------------------------

Value = int | float | QuietHours | None
"""A setting's value: what :class:`Settings` holds."""
_Record = TypeVar("_Record", bound="DataclassInstance")


def _number(value: float) -> str:
    """``15`` for 15.0, ``0.1`` for 0.1: how bounds and values are written in messages."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: how it is spelled, checked, defaulted, explained and applied."""

    name: str
    """The canonical snake_case name: the attribute of :class:`Settings`."""
    kind: Kind
    default: Value
    help: str
    """What it is, as a lower-case phrase: the flag's help and the schema's description."""
    low: float | None = None
    """The smallest value allowed (inclusive)."""
    high: float | None = None
    """The largest value allowed (inclusive); None for no upper bound."""
    above: float | None = None
    """An exclusive lower bound, instead of ``low``: the value must be greater."""
    unit: str = ""
    """``seconds``, ``minutes`` or empty; shown after bounds and values."""
    off: str = ""
    """What a special value means, e.g. ``0 turns reminders off``."""
    applies: Applies = "live"
    in_file: bool = True
    """Whether the watchlist's ``settings:`` may set it."""
    commands: tuple[str, ...] = ()
    """The subcommands that take it as a flag (``--batch-size``); empty for none."""

    @property
    def spellings(self) -> tuple[str, ...]:
        """The watchlist keys for it: snake_case, then camelCase when that differs."""
        head, *rest = self.name.split("_")
        camel = head + "".join(word.capitalize() for word in rest)
        return (self.name,) if camel == self.name else (self.name, camel)

    @property
    def flag(self) -> str:
        """The command-line spelling: ``--batch-size``."""
        return "--" + self.name.replace("_", "-")

    @property
    def bounds(self) -> str:
        """``1 to 1000``, ``greater than 0``: the allowed range, in words."""
        if self.kind == "quiet":
            return "HH:MM-HH:MM in local time"
        if self.kind == "duration":
            return "like 90s, 30m, 24h or 7d"
        high = None if self.high is None else _number(self.high)
        if self.above is not None:
            text = f"greater than {_number(self.above)}"
            return text if high is None else f"{text} and at most {high}"
        if self.low is None:
            return "of any size" if high is None else f"at most {high}"
        low = _number(self.low)
        return f"at least {low}" if high is None else f"from {low} to {high}"

    @property
    def wanted(self) -> str:
        """What a valid value is, to follow 'NAME must be': ``a whole number from 1 to 1000``."""
        if self.kind == "quiet":
            return "a time range HH:MM-HH:MM in local time, like '22:00-07:00'"
        if self.kind == "duration":
            return f"a duration {self.bounds}" + (f" ({self.off})" if self.off else "")
        text = f"{'a whole number' if self.kind == 'int' else 'a number'} {self.bounds}"
        if self.unit:
            text += f" {self.unit}"
        if self.off:
            text += f" ({self.off})"
        return text

    def accepts(self, number: float) -> bool:
        """Whether ``number`` is within the bounds (and finite)."""
        if isinstance(number, float) and not math.isfinite(number):
            return False
        if self.above is not None and number <= self.above:
            return False
        if self.low is not None and number < self.low:
            return False
        return self.high is None or number <= self.high

    def show(self, value: object) -> str:
        """A value as the operator reads it: ``15 seconds``, ``50``, ``22:00-07:00``, ``none``."""
        if value is None:
            return "none"
        if self.kind == "duration" and isinstance(value, int | float):
            return format_duration(float(value))
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = _number(value)
            return f"{text} {self.unit}" if self.unit else text
        return str(value)

    def parse(self, text: str) -> int | float | QuietHours:
        """The value written as ``text`` (a flag's argument); ValueError saying what is wanted."""
        try:
            if self.kind == "quiet":
                return parse_quiet(text)
            if self.kind == "duration":
                value: int | float = parse_duration(text)
            else:
                value = int(text) if self.kind == "int" else float(text)
        except ValueError as exc:
            reason = f": {exc}" if self.kind == "quiet" and str(exc) else ""
            raise ValueError(f"must be {self.wanted}, got {text!r}{reason}") from None
        if not self.accepts(value):
            raise ValueError(f"must be {self.wanted}, got {text.strip()}")
        return value

    def from_flag(self, text: str) -> int | float | QuietHours:
        """The argparse ``type=`` of the flag: its errors become one ``error:`` line."""
        try:
            return self.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    def flag_help(self, default: object = None) -> str:
        """The flag's help text, with its bounds and default; ``default`` replaces the table's
        (and the watchlist's) in the text, for a command with a default of its own.
        """
        bounds = self.bounds.removeprefix("from ")
        if default is not None:
            shown = _number(default) if isinstance(default, int | float) else str(default)
            if self.kind == "duration":
                shown = self.show(default)
        else:
            shown = f"the watchlist's {self.name}, else " if self.in_file else ""
            shown += self.show(self.default).removesuffix(f" {self.unit}")
        off = f", {self.off}" if self.off else ""
        return f"{self.help}, {bounds}{off} (default: {shown})"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "interval",
        "float",
        15.0,
        "seconds between refreshes",
        low=1,
        high=86400,
        unit="seconds",
        commands=("watch", "serve", "demo"),
    ),
    Setting(
        "batch_size",
        "int",
        50,
        "posts asked for per API request",
        low=1,
        high=1000,
        applies="restart",
        commands=("check", "watch", "serve"),
    ),
    Setting(
        "concurrency",
        "int",
        4,
        "API requests in flight at once",
        low=1,
        high=32,
        applies="restart",
        commands=("check", "watch", "serve"),
    ),
    Setting(
        "final_every",
        "int",
        10,
        "re-check posts in a final state (published, failed) every Nth refresh",
        low=1,
        high=1000,
    ),
    Setting(
        "stuck_queued_minutes",
        "float",
        30.0,
        "minutes after which a queued post is flagged as stuck",
        above=0,
        unit="minutes",
    ),
    Setting(
        "stuck_processing_minutes",
        "float",
        15.0,
        "minutes after which a processing post is flagged as stuck",
        above=0,
        unit="minutes",
    ),
    Setting(
        "timeout",
        "float",
        10.0,
        "seconds to wait for an answer",
        low=0.1,
        high=300,
        unit="seconds",
        applies="restart",
        in_file=False,
        commands=("check", "watch", "serve"),
    ),
    Setting(
        "max_retry_after",
        "float",
        300.0,
        "longest wait a rate limit's Retry-After is honoured for; a longer ask is capped to it",
        low=1,
        high=86400,
        unit="seconds",
        applies="restart",
        commands=("check", "watch", "serve"),
    ),
    Setting(
        "notify_window",
        "float",
        60.0,
        "seconds over which alerts are gathered into one notification",
        low=1,
        high=3600,
        unit="seconds",
    ),
    Setting(
        "notify_down_after",
        "float",
        300.0,
        "seconds the API must stay unreachable before a notification says it is down",
        low=0,
        high=86400,
        unit="seconds",
    ),
    Setting(
        "notify_remind_every",
        "float",
        3600.0,
        "seconds between reminders of a problem still unresolved",
        low=0,
        high=604800,
        unit="seconds",
        off="0 turns reminders off",
    ),
    Setting(
        "notify_max_per_hour",
        "int",
        12,
        "most notifications sent in any hour",
        low=1,
        high=1000,
    ),
    Setting(
        "notify_quiet",
        "quiet",
        None,
        "local time span in which no notification is sent",
    ),
    Setting(
        "retire_published_after",
        "duration",
        86400.0,
        "time after which a published post retires: no longer asked for, off the boards",
        low=0,
        off="0 never retires them",
        commands=("watch", "serve"),
    ),
    Setting(
        "retire_failed_after",
        "duration",
        604800.0,
        "time after its acknowledgement at which a failed post retires (an unacknowledged"
        " failure never does)",
        low=0,
        off="0 never retires them",
        commands=("watch", "serve"),
    ),
    Setting(
        "forget_after",
        "duration",
        7776000.0,
        "age at which history is forgotten, besides keeping only the newest 100,000 changes",
        low=0,
        off="0 keeps it whatever its age",
        commands=("watch", "serve"),
    ),
)
"""Every setting, in the order shown in messages, help and the schema."""

SETTING: Mapping[str, Setting] = {setting.name: setting for setting in SETTINGS}
"""The settings by canonical name."""
FILE_SETTINGS: tuple[Setting, ...] = tuple(s for s in SETTINGS if s.in_file)
"""The settings a watchlist's ``settings:`` may hold."""
FILE_KEYS: Mapping[str, str] = {
    spelling: setting.name for setting in FILE_SETTINGS for spelling in setting.spellings
}
"""Every key ``settings:`` accepts, snake_case and camelCase, to its canonical name."""


# --- the values --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WatchlistSettings:
    """The watchlist's ``settings:`` block as read; ``None`` means not set in the file."""

    interval: float | None = None
    batch_size: int | None = None
    concurrency: int | None = None
    final_every: int | None = None
    stuck_queued_minutes: float | None = None
    stuck_processing_minutes: float | None = None
    max_retry_after: float | None = None
    notify_window: float | None = None
    notify_down_after: float | None = None
    notify_remind_every: float | None = None
    notify_max_per_hour: int | None = None
    notify_quiet: QuietHours | None = None
    retire_published_after: float | None = None
    retire_failed_after: float | None = None
    forget_after: float | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting resolved: flag, else watchlist, else default. See :data:`SETTINGS`."""

    interval: float
    batch_size: int
    concurrency: int
    final_every: int
    stuck_queued_minutes: float
    stuck_processing_minutes: float
    timeout: float
    max_retry_after: float
    notify_window: float
    notify_down_after: float
    notify_remind_every: float
    notify_max_per_hour: int
    notify_quiet: QuietHours | None
    retire_published_after: float
    retire_failed_after: float
    forget_after: float

    def into(self, cls: type[_Record], prefix: str = "") -> _Record:
        """A `cls` (a dataclass) whose fields are settings: each field takes the setting named
        `prefix` and the field's name; a field that names no setting keeps its default."""
        return cls(
            **{
                field.name: getattr(self, prefix + field.name)
                for field in fields(cls)
                if prefix + field.name in SETTING
            }
        )


def _check_classes() -> None:
    """Refuse, at import, a table and classes that disagree (a row added to one only)."""
    for cls, rows in ((Settings, SETTINGS), (WatchlistSettings, FILE_SETTINGS)):
        names = [field.name for field in fields(cls)]
        if names != [row.name for row in rows]:
            raise RuntimeError(
                f"{cls.__name__} fields {names} do not match the SETTINGS table rows"
                f" {[row.name for row in rows]}: keep them in the same order"
            )
    for row in SETTINGS:
        if row.kind in ("float", "duration") and isinstance(row.default, int):
            raise RuntimeError(f"the default of {row.name} must be written as a float")


_check_classes()


def _build(values: Mapping[str, Any]) -> Settings:
    return Settings(**values)


DEFAULTS: Settings = _build({setting.name: setting.default for setting in SETTINGS})
"""Every setting at its default: where the rest of the code reads a default from."""


def resolve_settings(file: WatchlistSettings, flags: Mapping[str, object]) -> Settings:
    """Each setting from ``flags`` (by canonical name; a None value means not given), else
    from the watchlist's ``file`` settings, else its default.

    Values are checked where they are read (the watchlist reader, the flag parser); here a
    whole number given for a number setting becomes a float. Raises ConfigError for a name
    that is not a setting.
    """
    unknown = [name for name in flags if name not in SETTING]
    if unknown:
        raise ConfigError(f"not a setting: {', '.join(map(repr, unknown))}")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        value = flags.get(setting.name)
        if value is None and setting.in_file:
            value = getattr(file, setting.name)
        if value is None:
            value = setting.default
        if setting.kind in ("float", "duration") and isinstance(value, int):
            value = float(value)
        values[setting.name] = value
    return _build(values)


@dataclass(frozen=True, slots=True)
class SettingChange:
    """One setting whose resolved value changed, and when the change takes effect."""

    name: str
    old: object
    new: object
    applies: Applies

    @property
    def live(self) -> bool:
        """True when it takes effect now (on the reload), False at the next start."""
        return self.applies == "live"

    def describe(self) -> str:
        """``interval 30 seconds (was 15 seconds)``, plus when it applies if not now."""
        setting = SETTING[self.name]
        text = f"{self.name} {setting.show(self.new)} (was {setting.show(self.old)})"
        return text if self.live else f"{text}: takes effect at the next start"


def changed_settings(old: Settings, new: Settings) -> list[SettingChange]:
    """The settings whose value differs from ``old`` to ``new``, in table order."""
    changes: list[SettingChange] = []
    for setting in SETTINGS:
        before = getattr(old, setting.name)
        after = getattr(new, setting.name)
        if before != after:
            changes.append(SettingChange(setting.name, before, after, setting.applies))
    return changes


# --- command-line flags ------------------------------------------------------------------


def add_setting_flags(
    parser: argparse.ArgumentParser, command: str, defaults: Mapping[str, object] | None = None
) -> None:
    """Add the flags of the settings ``command`` takes; ``defaults`` changes the default
    shown in help (the demo's faster interval). A flag not given parses to None.
    """
    own = defaults or {}
    for setting in SETTINGS:
        if command in setting.commands:
            parser.add_argument(
                setting.flag,
                dest=setting.name,
                type=setting.from_flag,
                default=None,
                metavar="DURATION" if setting.kind == "duration" else (setting.unit or "n").upper(),
                help=setting.flag_help(own.get(setting.name)),
            )


def flag_values(args: argparse.Namespace) -> dict[str, object]:
    """The setting flags given on the command line, by canonical name."""
    given: dict[str, object] = {}
    for setting in SETTINGS:
        value = getattr(args, setting.name, None) if setting.commands else None
        if value is not None:
            given[setting.name] = value
    return given
