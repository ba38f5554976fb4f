"""The settings table: defaults written once, flags and schema derived from it, resolution,
what a reload changes, quiet hours, and the shipped schema matching its generator."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from wahdx_tui import cli
from wahdx_tui.core.alerts import AlertSettings
from wahdx_tui.core.api.client import ClientOptions
from wahdx_tui.core.domain.errors import ConfigError, WahdxError
from wahdx_tui.core.domain.model import State
from wahdx_tui.core.settings.table import (
    DEFAULTS,
    FILE_KEYS,
    FILE_SETTINGS,
    QUIET_PATTERN,
    SETTING,
    SETTINGS,
    QuietHours,
    SettingChange,
    Settings,
    WatchlistSettings,
    add_setting_flags,
    changed_settings,
    flag_values,
    format_duration,
    parse_duration,
    parse_quiet,
    resolve_settings,
)
from wahdx_tui.core.team.watchlist import Retirement
from wahdx_tui.core.watchlist import jsonschema as schema
from wahdx_tui.core.watchlist import yamlsafe
from wahdx_tui.core.watchlist.jsonschema import watchlist_schema
from wahdx_tui.core.watchlist.reader import WatchlistError, parse_watchlist, stuck_thresholds

ROOT = Path(__file__).resolve().parents[2]
POSTS = "posts: [{accountId: a, publishId: b}]\n"


def settings_of(block: str) -> WatchlistSettings:
    return parse_watchlist(f"settings:\n{block}{POSTS}", "w.yaml").settings


def file_error(block: str) -> WatchlistError:
    with pytest.raises(WatchlistError) as info:
        parse_watchlist(f"settings:\n{block}{POSTS}", "w.yaml")
    return info.value


# --- the table ---------------------------------------------------------------------------


def test_defaults_are_the_documented_ones() -> None:
    expected = Settings(
        interval=15.0,
        batch_size=50,
        concurrency=4,
        final_every=10,
        stuck_queued_minutes=30.0,
        stuck_processing_minutes=15.0,
        timeout=10.0,
        max_retry_after=300.0,
        notify_window=60.0,
        notify_down_after=300.0,
        notify_remind_every=3600.0,
        notify_max_per_hour=12,
        notify_quiet=None,
        retire_published_after=86400.0,
        retire_failed_after=604800.0,
        forget_after=7776000.0,
    )
    assert expected == DEFAULTS


def test_every_default_elsewhere_is_read_from_the_table() -> None:
    options = ClientOptions()
    assert (options.batch_size, options.concurrency, options.timeout) == (50, 4, 10.0)
    assert options.max_retry_after == 300.0
    from wahdx_tui.core.engine.poller import DEFAULT_FINAL_EVERY

    assert DEFAULTS.final_every == DEFAULT_FINAL_EVERY
    no_settings = parse_watchlist(POSTS)
    assert stuck_thresholds(no_settings) == {State.QUEUED: 1800.0, State.PROCESSING: 900.0}


def test_the_classes_follow_the_table() -> None:
    assert [f.name for f in dataclasses.fields(Settings)] == [s.name for s in SETTINGS]
    assert [f.name for f in dataclasses.fields(WatchlistSettings)] == [
        s.name for s in FILE_SETTINGS
    ]
    assert "timeout" in SETTING and "timeout" not in FILE_KEYS  # a flag only
    assert WatchlistSettings() == WatchlistSettings(*[None] * len(FILE_SETTINGS))


def test_live_and_restart() -> None:
    restart = {s.name for s in SETTINGS if s.applies == "restart"}
    assert restart == {"batch_size", "concurrency", "timeout", "max_retry_after"}
    assert SETTING["interval"].applies == "live"
    assert SETTING["notify_quiet"].applies == "live"


def test_spellings() -> None:
    assert SETTING["interval"].spellings == ("interval",)
    assert SETTING["batch_size"].spellings == ("batch_size", "batchSize")
    assert SETTING["notify_max_per_hour"].spellings == ("notify_max_per_hour", "notifyMaxPerHour")
    assert FILE_KEYS["stuckQueuedMinutes"] == "stuck_queued_minutes"


# --- the watchlist reads the alert settings ----------------------------------------------


def test_alert_settings_in_the_watchlist() -> None:
    settings = settings_of(
        "  notifyWindow: 30\n"
        "  notify_down_after: 0\n"
        "  notify_remind_every: 0\n"
        "  notifyMaxPerHour: 1000\n"
        "  notify_quiet: 22:00-07:00\n"
    )
    assert settings.notify_window == 30.0 and isinstance(settings.notify_window, float)
    assert settings.notify_down_after == 0.0
    assert settings.notify_remind_every == 0.0  # off
    assert settings.notify_max_per_hour == 1000
    assert settings.notify_quiet == QuietHours(22 * 60, 7 * 60)
    assert str(settings.notify_quiet) == "22:00-07:00"


@pytest.mark.parametrize(
    ("block", "column", "message"),
    [
        (
            "  notify_window: 0\n",
            18,
            "notify_window must be a number from 1 to 3600 seconds, got 0",
        ),
        ("  notify_window: 3601\n", 18, "got 3601"),
        ("  notifyDownAfter: -1\n", 20, "notifyDownAfter must be a number from 0 to 86400 seconds"),
        (
            "  notify_remind_every: 604801\n",
            24,
            "a number from 0 to 604800 seconds (0 turns reminders off), got 604801",
        ),
        ("  notify_max_per_hour: 2.5\n", 24, "must be a whole number from 1 to 1000, got a number"),
        ("  notify_max_per_hour: 0\n", 24, "must be a whole number from 1 to 1000, got 0"),
        (
            "  notify_quiet: 22-7\n",
            17,
            "notify_quiet must be a time range HH:MM-HH:MM in local time, like '22:00-07:00',"
            " got '22-7'",
        ),
        ("  notify_quiet: '25:00-07:00'\n", 17, "got '25:00-07:00': hours are 00 to 23"),
        (
            "  notify_quiet: '22:5-07:00'\n",
            17,
            "got '22:5-07:00': minutes are two digits, 00 to 59",
        ),
        ("  notify_quiet: 07:00-07:00\n", 17, "it starts and ends at 07:00"),
        ("  notify_quiet: 22:00\n", 17, "got a number (22:00)"),  # YAML 1.1 reads 22:00 as 1320
        ("  notify_quiet: [22:00, 07:00]\n", 17, "got a list"),
        ("  notify_quite: 22:00-07:00\n", 3, "did you mean 'notify_quiet'?"),
    ],
)
def test_alert_setting_errors(block: str, column: int, message: str) -> None:
    error = file_error(block)
    assert (error.line, error.column) == (2, column)
    assert message in error.message, error.message


def test_a_huge_whole_number_is_out_of_range_not_a_crash() -> None:
    huge = "9" * 400
    error = file_error(f"  stuck_queued_minutes: {huge}\n")
    assert error.message.startswith("stuck_queued_minutes must be a number greater than 0 minutes")
    assert len(error.message) < 200


# --- quiet hours -------------------------------------------------------------------------


def test_quiet_hours_cover_across_midnight() -> None:
    night = parse_quiet("22:00-07:00")
    assert night.covers(22 * 60) and night.covers(23 * 60 + 59) and night.covers(0)
    assert night.covers(6 * 60 + 59) and not night.covers(7 * 60) and not night.covers(12 * 60)
    lunch = parse_quiet(" 12:30 - 13:30 ")
    assert lunch == QuietHours(750, 810) and str(lunch) == "12:30-13:30"
    assert lunch.covers(750) and not lunch.covers(810) and not lunch.covers(0)
    assert parse_quiet("7:05-9:00") == QuietHours(425, 540)


@pytest.mark.parametrize(
    "text",
    [
        "22:00-07:00",
        "7:05-9:00",
        " 00:00 - 23:59 ",
        "22-07",
        "24:00-07:00",
        "22:60-07:00",
        "22:0-07:00",
        "22:00 07:00",
        "22:00-07:00-08:00",
        "",
        "١٢:٠٠-١٣:٠٠",  # Arabic-Indic digits: not the ASCII ones the schema means
    ],
)
def test_the_schema_pattern_is_the_reader_s(text: str) -> None:
    try:
        parse_quiet(text)
        parsed = True
    except ValueError:
        parsed = False
    assert parsed == (re.search(QUIET_PATTERN, text) is not None)


# --- resolution and reload ---------------------------------------------------------------


def test_flags_win_over_the_file_and_the_file_over_defaults() -> None:
    file = WatchlistSettings(interval=30, batch_size=7, stuck_queued_minutes=45.0)
    resolved = resolve_settings(file, {"batch_size": 10, "timeout": 2.5, "concurrency": None})
    assert resolved.batch_size == 10  # flag
    assert resolved.interval == 30.0 and isinstance(resolved.interval, float)  # file
    assert resolved.stuck_queued_minutes == 45.0
    assert resolved.timeout == 2.5
    assert resolved.concurrency == 4  # None: not given, and not in the file
    assert resolved.notify_quiet is None
    assert resolve_settings(WatchlistSettings(), {}) == DEFAULTS


def test_the_values_built_from_settings_take_every_setting_they_name() -> None:
    """The client's options, the alert settings and the retirement take each setting whose
    name they bear (after their prefix); their other fields keep their own defaults."""
    client: dict[str, Any] = {"batch_size": 7, "concurrency": 3, "timeout": 2.5}
    client.update(max_retry_after=60.0)
    alerts: dict[str, Any] = {"window": 30.0, "down_after": 0.0, "remind_every": 0.0}
    alerts.update(max_per_hour=5, quiet=QuietHours(22 * 60, 7 * 60))
    retire: dict[str, Any] = {"published_after": 3600.0, "failed_after": 0.0}
    resolved = dataclasses.replace(
        DEFAULTS,
        **client,
        **{f"notify_{name}": value for name, value in alerts.items()},
        **{f"retire_{name}": value for name, value in retire.items()},
    )
    assert cli.client_options(resolved) == ClientOptions(**client)
    assert resolved.into(AlertSettings, prefix="notify_") == AlertSettings(**alerts)
    assert Retirement.of(resolved) == Retirement(**retire)


def test_resolving_an_unknown_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a setting: 'batchsize'"):
        resolve_settings(WatchlistSettings(), {"batchsize": 10})


def test_changed_settings_say_live_or_at_the_next_start() -> None:
    flags = {"interval": 20.0}
    before = resolve_settings(
        parse_watchlist(f"settings: {{interval: 5, batch_size: 50}}\n{POSTS}").settings, flags
    )
    edited = parse_watchlist(
        "settings: {interval: 60, batch_size: 100, final_every: 3, notify_quiet: '23:00-06:00'}\n"
        + POSTS
    ).settings
    after = resolve_settings(edited, flags)
    changes = changed_settings(before, after)
    # interval was given as a flag: the file's new value does not change it
    assert [c.name for c in changes] == ["batch_size", "final_every", "notify_quiet"]
    batch, final, quiet = changes
    assert batch == SettingChange("batch_size", 50, 100, "restart") and not batch.live
    assert batch.describe() == "batch_size 100 (was 50): takes effect at the next start"
    assert final.live and final.describe() == "final_every 3 (was 10)"
    assert quiet.describe() == "notify_quiet 23:00-06:00 (was none)"
    assert changed_settings(after, after) == []
    interval = changed_settings(DEFAULTS, dataclasses.replace(DEFAULTS, interval=30.0))
    assert interval[0].describe() == "interval 30 seconds (was 15 seconds)"


def test_a_watchlist_error_is_a_wahdx_error() -> None:
    assert issubclass(WatchlistError, WahdxError)


# --- durations ---------------------------------------------------------------------------


def test_durations_read_in_seconds_minutes_hours_and_days() -> None:
    assert [parse_duration(t) for t in ("90s", "30m", " 24h ", "7d", "45", "1.5h", "2D")] == [
        90.0,
        1800.0,
        86400.0,
        604800.0,
        45.0,
        5400.0,
        172800.0,
    ]
    for bad in ("", "h", "24 hours", "-1h", "1w", "1h30m"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert [format_duration(x) for x in (90.0, 1800.0, 86400.0, 604800.0, 7776000.0)] == [
        "90s",
        "30m",
        "24h",
        "7d",
        "90d",
    ]


def test_retirement_durations_in_the_file_and_as_flags() -> None:
    settings = settings_of(
        "  retire_published_after: 30m\n  retireFailedAfter: 2d\n  forget_after: 3600\n"
    )
    assert settings.retire_published_after == 1800.0
    assert settings.retire_failed_after == 172800.0
    assert settings.forget_after == 3600.0
    error = file_error("  retire_published_after: soon\n")
    assert error.line == 2
    assert "retire_published_after must be a duration like 90s, 30m, 24h or 7d" in str(error)
    assert "got 'soon'" in str(error)
    args = parser_for("serve").parse_args(["--retire-published-after", "5s"])
    assert flag_values(args) == {"retire_published_after": 5.0}
    with pytest.raises(SystemExit):
        parser_for("serve").parse_args(["--forget-after", "forever"])
    assert SETTING["retire_failed_after"].show(DEFAULTS.retire_failed_after) == "7d"
    schema = watchlist_schema()["$defs"]["settings"]["properties"]
    assert schema["retire_published_after"]["default"] == "24h"


# --- flags -------------------------------------------------------------------------------


def parser_for(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="t")
    add_setting_flags(parser, command)
    return parser


def test_flags_are_derived_from_the_table() -> None:
    for command in ("check", "watch", "demo"):
        parser = parser_for(command)
        flags = {a.dest for a in parser._actions if a.option_strings and a.dest != "help"}
        assert flags == {s.name for s in SETTINGS if command in s.commands}
    assert {s.name for s in SETTINGS if "watch" in s.commands} == {
        "interval",
        "batch_size",
        "concurrency",
        "timeout",
        "max_retry_after",
        "retire_published_after",
        "retire_failed_after",
        "forget_after",
    }
    args = parser_for("watch").parse_args(["--batch-size", "1000", "--timeout", "0.1"])
    assert flag_values(args) == {"batch_size": 1000, "timeout": 0.1}
    assert flag_values(parser_for("watch").parse_args([])) == {}


def help_of(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_flag_help_shows_bounds_and_the_table_default(capsys: pytest.CaptureFixture[str]) -> None:
    watch = help_of("watch", capsys)
    assert (
        "--batch-size N posts asked for per API request, 1 to 1000"
        " (default: the watchlist's batch_size, else 50)"
    ) in watch
    assert "--timeout SECONDS seconds to wait for an answer, 0.1 to 300 (default: 10)" in watch
    assert "--interval SECONDS seconds between refreshes, 1 to 86400 (default: 5)" in help_of(
        "demo", capsys
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "w.yaml", "--batch-size", "0"], "must be a whole number from 1 to 1000, got 0"),
        (
            ["check", "w.yaml", "--batch-size", "ten"],
            "must be a whole number from 1 to 1000, got 'ten'",
        ),
        (["watch", "w.yaml", "--concurrency", "33"], "must be a whole number from 1 to 32, got 33"),
        (["watch", "w.yaml", "--interval", "0"], "must be a number from 1 to 86400 seconds, got 0"),
        (
            ["check", "w.yaml", "--timeout", "nan"],
            "must be a number from 0.1 to 300 seconds, got nan",
        ),
        (["demo", "--interval", "1e9"], "must be a number from 1 to 86400 seconds, got 1e9"),
        (
            ["serve", "w.yaml", "--max-retry-after", "inf"],
            "must be a number from 1 to 86400 seconds, got inf",
        ),
        (["demo", "--speed", "0"], "must be a number from 0.01 to 1000, got 0"),
    ],
)
def test_a_bad_flag_is_one_error_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    errors = [line for line in captured.err.splitlines() if "error:" in line]
    flag = argv[2] if argv[0] != "demo" else argv[1]
    assert errors == [f"wahdx-tui {argv[0]}: error: argument {flag}: {message}"]
    assert "Traceback" not in captured.err


def test_resolve_reads_file_and_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAHDX_API_KEY", "sk_test_settings_0123456789")
    monkeypatch.delenv("WAHDX_BASE_URL", raising=False)
    path = tmp_path / "w.yaml"
    path.write_text(
        f"settings: {{interval: 30, batchSize: 7, concurrency: 2, final_every: 5}}\n{POSTS}",
        encoding="utf-8",
    )
    args = cli.build_parser().parse_args(["watch", str(path), "--concurrency", "8"])
    setup = cli.resolve(args)
    assert setup.flags == {"concurrency": 8}
    assert setup.options == ClientOptions(batch_size=7, concurrency=8, timeout=10.0)
    args = cli.build_parser().parse_args(["serve", str(path), "--max-retry-after", "60"])
    assert cli.resolve(args).options.max_retry_after == 60.0
    assert (setup.settings.interval, setup.settings.final_every) == (30.0, 5)
    assert setup.settings.stuck_processing_minutes == 15.0


# --- the shipped schema ------------------------------------------------------------------


def test_the_shipped_schema_is_what_the_generator_writes() -> None:
    shipped = schema.SCHEMA_PATH.read_text(encoding="utf-8")
    assert shipped == schema.schema_text(), "run: python -m wahdx_tui.core.watchlist.jsonschema"
    assert (ROOT / "watchlist.schema.json").resolve() == schema.SCHEMA_PATH


def test_the_schema_gives_every_file_setting_its_bounds_and_default() -> None:
    properties = json.loads(schema.schema_text())["$defs"]["settings"]["properties"]
    assert set(properties) == set(FILE_KEYS)
    interval = properties["interval"]
    assert interval["default"] == 15
    assert interval["anyOf"][0] == {"type": "number", "minimum": 1, "maximum": 86400}
    assert "takes effect at the next start" in properties["batch_size"]["description"]
    assert properties["notifyQuiet"] == {"$ref": "#/$defs/settings/properties/notify_quiet"}
    assert properties["notify_quiet"]["anyOf"][0]["pattern"] == QUIET_PATTERN
    assert "default" not in properties["notify_quiet"]


def test_the_generator_command(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    run = [sys.executable, "-m", "wahdx_tui.core.watchlist.jsonschema", "--output", str(out)]
    stale = subprocess.run([*run, "--check"], capture_output=True, text=True, check=False)
    assert stale.returncode == 1
    assert (
        stale.stderr.startswith("error: ")
        and "python -m wahdx_tui.core.watchlist.jsonschema" in stale.stderr
    )
    wrote = subprocess.run(run, capture_output=True, text=True, check=False)
    assert wrote.returncode == 0 and out.read_text(encoding="utf-8") == schema.schema_text()
    fresh = subprocess.run([*run, "--check"], capture_output=True, text=True, check=False)
    assert (fresh.returncode, fresh.stdout, fresh.stderr) == (0, "", "")
    shipped = subprocess.run(
        [sys.executable, "-m", "wahdx_tui.core.watchlist.jsonschema", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert shipped.returncode == 0, shipped.stderr


# --- the composer on its own -------------------------------------------------------------


def test_the_composer_takes_its_limits_from_the_caller() -> None:
    text = b"a: [[[1]]]\n"
    root = yamlsafe.compose(text, "x.yaml", max_depth=4, max_nodes=100)
    assert isinstance(root, yamlsafe.Map)
    with pytest.raises(WatchlistError, match=r"more than 3 levels"):
        yamlsafe.compose(text, "x.yaml", max_depth=3, max_nodes=100)
    with pytest.raises(WatchlistError, match="more than 4 YAML nodes"):
        yamlsafe.compose(text, "x.yaml", max_depth=10, max_nodes=4)


def test_the_readme_explains_every_setting_with_its_default() -> None:
    """Each setting is a row of the README's settings table, with the table's default: none is
    said only in the schema. (A new setting: add its row under "### Settings".)"""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Settings", 1)[1].split("\n\n|", 1)[1].split("\n\n", 1)[0]
    rows = {
        cells[1].strip("` "): cells[2].strip()
        for cells in (line.split("|") for line in ("|" + table).splitlines()[2:])
    }
    assert list(rows) == [s.name for s in SETTINGS]
    for setting in SETTINGS:
        assert rows[setting.name] == setting.show(setting.default).split(" ")[0], setting.name
