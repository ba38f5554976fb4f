"""`wahdx-tui notify-test` and where targets come from: WAHDX_NOTIFY or an Apprise config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.alerts_receiver import Receiver
from wahdx_tui.cli import main
from wahdx_tui.core.alerts import load_targets
from wahdx_tui.core.domain.errors import ConfigError

PASSWORD = "pw_s3cret_77aa"
TOKEN = "tok_9f8e7d6c5b4a3921"


def run(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env: str
) -> tuple[int, str, str]:
    if env:
        monkeypatch.setenv("WAHDX_NOTIFY", env)
    else:
        monkeypatch.delenv("WAHDX_NOTIFY", raising=False)
    code = main(["notify-test", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_target_gets_the_test_message_and_each_says_ok(
    receiver: Receiver, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = f"{receiver.url('/a', auth=f'user:{PASSWORD}@')}\n {receiver.url('/b', scheme='form')}"
    code, out, err = run([], capsys, monkeypatch, urls)
    assert code == 0, err
    assert out.splitlines() == [
        f"1. json://127.0.0.1:{receiver.port}/…: ok",
        f"2. form://127.0.0.1:{receiver.port}/…: ok",
    ]
    got = receiver.delivered()
    assert sorted(r.path for r in got) == ["/a", "/b"]
    assert all(r.title == "wahdx: test alert" for r in got)
    assert PASSWORD not in out + err


def test_a_target_that_fails_is_named_with_why_and_the_exit_is_2(
    receiver: Receiver, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.mode = "fail"
    code, out, err = run([], capsys, monkeypatch, receiver.url(f"/hook/{TOKEN}"))
    assert code == 2
    line = out.strip()
    assert line.startswith(f"1. json://127.0.0.1:{receiver.port}/…: not sent: ")
    assert "500" in line and TOKEN not in out + err


def test_a_refused_connection_is_reported_not_raised(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = Receiver()
    url = closed.url()
    closed.close()
    code, out, err = run([], capsys, monkeypatch, url)
    assert code == 2 and "not sent: " in out and "Traceback" not in err


def test_no_targets_is_one_error_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run([], capsys, monkeypatch, "")
    assert code == 2 and out == ""
    assert err == "error: no notification targets: set WAHDX_NOTIFY or pass --notify-config FILE\n"


def test_a_url_apprise_cannot_use_is_named_by_position_never_by_its_text(
    receiver: Receiver, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = f"{receiver.url()} slack://only_{TOKEN}"
    code, out, err = run([], capsys, monkeypatch, urls)
    assert code == 2 and out == ""
    assert err.startswith("error: WAHDX_NOTIFY entry 2 (slack://…) is not a notification URL")
    assert len(err.splitlines()) == 1 and TOKEN not in err
    code, _, err = run([], capsys, monkeypatch, f"nosuchservice://{TOKEN}/x")
    assert code == 2 and TOKEN not in err and "entry 1 (nosuchservice://…)" in err


def test_a_config_file_others_can_read_is_refused(
    receiver: Receiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "notify.txt"
    config.write_text(receiver.url() + "\n")
    config.chmod(0o644)
    code, out, err = run(["--notify-config", str(config)], capsys, monkeypatch, "")
    assert code == 2 and out == ""
    assert "readable by group or others (mode 0644)" in err and f"chmod 600 {config}" in err
    assert receiver.requests == []
    code, _, err = run(["--notify-config", str(tmp_path / "missing")], capsys, monkeypatch, "")
    assert code == 2 and err.startswith("error: cannot read notify config")
    code, _, err = run(["--notify-config", str(tmp_path)], capsys, monkeypatch, "")
    assert code == 2 and err == f"error: notify config {tmp_path} is not a regular file\n"


def test_a_yaml_config_file_with_tags_and_a_text_one(
    receiver: Receiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    yaml_config = tmp_path / "notify.yaml"
    yaml_config.write_text(
        "version: 1\nurls:\n"
        f"  - {receiver.url('/y1', auth=f'user:{PASSWORD}@')}:\n"
        "      tag: api, ops\n"
        f"  - {receiver.url('/y2', scheme='form')}\n"
    )
    yaml_config.chmod(0o600)
    text_config = tmp_path / "notify.txt"
    text_config.write_text(f"# ours\nfailures,stuck={receiver.url('/t1')}\n")
    text_config.chmod(0o600)
    # The flag wins over the environment.
    code, out, err = run(
        ["--notify-config", str(yaml_config)], capsys, monkeypatch, receiver.url("/env")
    )
    assert code == 0, err
    assert len(out.splitlines()) == 2 and PASSWORD not in out
    code, out, err = run(["--notify-config", str(text_config)], capsys, monkeypatch, "")
    assert code == 0, err
    assert sorted(r.path for r in receiver.delivered()) == ["/t1", "/y1", "/y2"]
    [t1] = load_targets(str(text_config))
    assert t1.routes == {"failures", "stuck"}
    y1, y2 = load_targets(str(yaml_config))
    assert y1.routes == {"api"} and y2.routes == frozenset()  # "ops" is no alert kind: ignored


def test_a_config_file_with_a_bad_entry_or_in_no_format_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "notify.yaml"
    config.write_text(f"urls:\n  - json://127.0.0.1:9/ok\n  - bogus://{TOKEN}\n")
    config.chmod(0o600)
    with pytest.raises(ConfigError) as bad:
        load_targets(str(config))
    assert "1 entry could not be used" in str(bad.value) and TOKEN not in str(bad.value)
    config.write_text("{{{ not a config")
    with pytest.raises(ConfigError, match="neither of Apprise's formats"):
        load_targets(str(config))
    config.write_text("# nothing here\n")
    with pytest.raises(ConfigError, match="holds no notification URL Apprise can use"):
        load_targets(str(config))


def test_targets_show_themselves_without_tokens() -> None:
    slack, ntfy, mail = load_targets(
        env={
            "WAHDX_NOTIFY": "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#alerts"
            " ntfys://ntfy.example.com/wahdx-topic-9x?token=tk_abcdef123456"
            f" mailto://ops:{PASSWORD}@mail.example.com"
        }
    )
    assert (slack.service, slack.display) == ("slack", "slack://…")
    assert (ntfy.service, ntfy.display) == ("ntfys", "ntfys://ntfy.example.com/…")
    assert mail.display.startswith("mailto://") and PASSWORD not in mail.display
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in repr(slack)
    secrets = {s.reveal() for s in slack.secrets}
    assert {"T1JJ3T3L2", "A1BRTD4JD", "TIiajkdnlazkcOXrIdevi7FQ"} <= secrets
    assert {"tk_abcdef123456", "wahdx-topic-9x"} <= {s.reveal() for s in ntfy.secrets}
    assert PASSWORD in {s.reveal() for s in mail.secrets}
