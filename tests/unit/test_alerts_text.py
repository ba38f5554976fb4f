"""Untrusted text in an alert is inert: no mention, markup, link, escape or control survives."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from wahdx_tui.core.alerts.safetext import safe_id, safe_text, safe_url
from wahdx_tui.core.alerts.targets import as_secrets, scrub, url_secrets

MARKUP = set("@<>&*_`~[]|\\")


@given(st.text(max_size=400), st.integers(min_value=1, max_value=200))
def test_any_text_comes_out_as_one_inert_line_within_its_limit(text: str, limit: int) -> None:
    out = safe_text(text, limit)
    assert len(out) <= limit
    assert not MARKUP & set(out)
    assert "://" not in out
    assert all(unicodedata.category(c) not in ("Cc", "Cf") for c in out)


def test_mentions_and_links_keep_their_words_but_lose_their_power() -> None:
    out = safe_text("<!here> @channel see [this](https://evil.example) <@U12|x>", 200)
    assert out == "‹!here› ＠channel see ⁅this⁆(https:⁄/evil.example) ‹＠U12¦x›"


def test_plain_ids_stay_copyable_and_odd_ones_are_made_inert() -> None:
    assert safe_id("pub_01HZX-9.a:b") == "pub_01HZX-9.a:b"
    assert safe_id("_it_") == "ˍitˍ"
    assert safe_id("<@U1>") == "‹＠U1›"


def test_public_urls_stay_links_with_every_dangerous_character_encoded() -> None:
    assert safe_url("https://ex.com/p/1?a=b&c=d") == "https://ex.com/p/1?a=b&c=d"
    assert safe_url("https://ex.com/<!channel>|*x*~@y") == (
        "https://ex.com/%3C!channel%3E%7C%2Ax%2A%7E%40y"
    )
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://ex.com/a b") is None
    assert safe_url(None) is None


def test_status_text_from_a_service_is_scrubbed_of_urls_and_tokens() -> None:
    url = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
    secrets = as_secrets(url_secrets(url))
    text = (
        f"An invalid Slack Token (TIiajkdnlazkcOXrIdevi7FQ) in {url}; posting to"
        " https://hooks.slack.com/services/T000/B000/XXXX failed (Zk9rQ2xPb3VkZXI) \x1b[31m"
    )
    out = scrub(text, secrets)
    assert "TIiajk" not in out and "T1JJ3T3L2" not in out and "\x1b" not in out
    assert out.startswith("An invalid Slack Token (***) in ***; posting to https://… failed (…)")
