"""The wall page in a real browser: Debian's chromium, headless, driven by Selenium through
Debian's chromedriver (never a downloaded browser), on `serve --http` over the simulator.

Without chromium and chromedriver these tests skip saying how to get them (`make browser`),
or fail when CI is set.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fixtures import FakeClock
from tests.support.teamprocs import KEY, wait_for
from tests.support.webprocs import http_serve
from wahdx_tui.core.domain.model import WatchedPost
from wahdx_tui.core.watchlist.reader import Watchlist, load_watchlist, sample_watchlist_path
from wahdx_tui.sim import SimConfig, SimServer

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
HOSTILE = '<img src=x onerror="window.pwned=1"><b>Bold</b> & <script>window.pwned=2</script>'
INSTALL_HINT = (
    "chromium and chromium-driver are not installed, so the wall's browser tests cannot run:"
    " apt-get install chromium chromium-driver (make test does it when run as root)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium for the module, through Debian's chromedriver."""
    if not (shutil.which(CHROMIUM) and Path(CHROMEDRIVER).exists()):
        if os.environ.get("CI"):
            pytest.fail(f"{INSTALL_HINT}; CI requires them")
        pytest.skip(INSTALL_HINT)
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1920,1080"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def watchlist_with(tmp_path: Path, *extra: WatchedPost) -> Path:
    """The sample watchlist and `extra` posts, as a file."""
    text = sample_watchlist_path().read_text()
    lines = [
        f"  - {{accountId: {p.account_id}, publishId: {p.publish_id}, "
        f"mediaType: video, label: {json.dumps(p.label)}}}"
        for p in extra
    ]
    path = tmp_path / "watchlist.yaml"
    path.write_text(text.replace("posts:\n", "posts:\n" + "".join(f"{x}\n" for x in lines), 1))
    return path


def sim_for(watchlist: Watchlist, advance: float) -> SimServer:
    config = SimConfig(posts=watchlist.posts, seed=7, api_key=KEY, clock=FakeClock())
    server = SimServer(config).start()
    server.advance(advance)
    return server


@pytest.fixture
def sim() -> Iterator[SimServer]:
    # Sample, seed 7: at 50 s "Doorbuster unboxing" has failed; at 70 s "Gift guide" too.
    server = sim_for(load_watchlist(sample_watchlist_path()), 50)
    yield server
    server.stop()


def rows_text(driver: Any) -> str:
    return str(driver.find_element("id", "rows").text)


def tile(driver: Any, name: str) -> str:
    return str(driver.find_element("css selector", f"#c-{name} .n").text)


def test_the_wall_shows_failures_first_with_reason_and_account(
    browser: Any, tmp_path: Path, sim: SimServer
) -> None:
    with http_serve(tmp_path, sim, "--store", str(tmp_path / "t.sqlite3")) as (_, url):
        browser.get(url + "/")
        wait_for(lambda: "Doorbuster unboxing" in rows_text(browser), "the failure listed")
        first = browser.find_element("css selector", "#rows tr")
        assert "failed" in first.get_attribute("class").split()
        text = first.text
        assert "✗ FAILED" in text and "acc_tiktok_main" in text and "access token expired" in text
        assert tile(browser, "failed") == "1"
        assert "alarm" in browser.find_element("id", "c-failed").get_attribute("class")
        assert "acc_tiktok_main" in browser.find_element("id", "accounts").text.split("\n")[0]


def test_a_state_change_reaches_the_page_without_a_reload(
    browser: Any, tmp_path: Path, sim: SimServer
) -> None:
    with http_serve(tmp_path, sim, "--store", str(tmp_path / "t.sqlite3")) as (_, url):
        browser.get(url + "/")
        wait_for(lambda: tile(browser, "failed") == "1", "one failure shown")
        browser.execute_script("window.wallMark = 'still this page';")
        navigations = browser.execute_script(
            "return performance.getEntriesByType('navigation').length"
        )
        sim.advance(20)  # "Gift guide under $25" fails at 70 s
        wait_for(lambda: "Gift guide under $25" in rows_text(browser), "the new failure", 60)
        assert tile(browser, "failed") == "2"
        assert browser.execute_script("return window.wallMark") == "still this page"
        assert (
            browser.execute_script("return performance.getEntriesByType('navigation').length")
            == navigations
        )


def test_a_hostile_label_is_shown_as_text(browser: Any, tmp_path: Path) -> None:
    post = WatchedPost("acc_tiktok_main", "v_pub_hostile", "video", HOSTILE)
    path = watchlist_with(tmp_path, post)
    server = sim_for(load_watchlist(path), 50)
    try:
        with http_serve(
            tmp_path, server, "--store", str(tmp_path / "t.sqlite3"), watchlist=path
        ) as (
            _,
            url,
        ):
            browser.get(url + "/?state=all")
            wait_for(lambda: "v_pub_hostile" in rows_text(browser), "the hostile post listed")
            label = browser.execute_script(
                "return [...document.querySelectorAll('#rows .label')]"
                ".map(e => e.textContent).find(t => t.includes('onerror'))"
            )
            assert label == HOSTILE  # every character shown, none of it taken as markup
            assert (
                browser.execute_script(
                    "return document.querySelectorAll('#rows img, #rows b, #rows script').length"
                )
                == 0
            )
            assert browser.execute_script("return window.pwned === undefined")
    finally:
        server.stop()


def test_a_post_the_api_does_not_know_is_listed_and_its_tile_alarms(
    browser: Any, tmp_path: Path, sim: SimServer
) -> None:
    # The sim serves the sample; the watchlist also names a post it has never heard of.
    typo = WatchedPost("acc_tiktok_main", "v_pub_typo", "video", "Typo in the publish ID")
    path = watchlist_with(tmp_path, typo)
    with http_serve(tmp_path, sim, "--store", str(tmp_path / "t.sqlite3"), watchlist=path) as (
        _,
        url,
    ):
        browser.get(url + "/")
        wait_for(lambda: "Typo in the publish ID" in rows_text(browser), "the unknown post listed")
        rows = browser.find_elements("css selector", "#rows tr")
        assert "failed" in rows[0].get_attribute("class").split()  # the failure stays first
        typo_row = next(r for r in rows if "v_pub_typo" in r.text)
        assert {"unknown", "not-known"} <= set(typo_row.get_attribute("class").split())
        assert "not known to the API" in typo_row.text and "post not found" in typo_row.text
        unknown = browser.find_element("id", "c-unknown")
        assert "alarm" in unknown.get_attribute("class").split()
        assert "1 not known to the API" in unknown.text


def test_a_post_not_checked_yet_is_not_drawn_as_one_the_api_does_not_know(
    browser: Any, tmp_path: Path, sim: SimServer
) -> None:
    """Review: every row in state unknown was drawn magenta, the posts not checked yet (here:
    all of them, the API refusing serve's key) as loud as the ones the API does not know."""
    with http_serve(
        tmp_path,
        sim,
        "--store",
        str(tmp_path / "t.sqlite3"),
        env={"WAHDX_API_KEY": "wrong-key-0000000000"},
        polls=False,
    ) as (_, url):
        browser.get(url + "/?state=unknown")
        wait_for(lambda: "not checked yet" in rows_text(browser), "the unchecked rows")
        # The colour the page gives a post the API does not know, read from the page itself.
        magenta = browser.execute_script(
            "const p = document.createElement('div');"
            "p.style.background = 'var(--not-known-bg)'; document.body.appendChild(p);"
            "const c = getComputedStyle(p).backgroundColor; p.remove(); return c;"
        )
        colours = browser.execute_script(
            "return [...document.querySelectorAll('#rows tr')]"
            ".map(r => getComputedStyle(r).backgroundColor)"
        )
        assert colours and magenta not in colours
        unknown = browser.find_element("id", "c-unknown")
        assert "alarm" not in unknown.get_attribute("class").split()


def test_the_page_loads_nothing_from_another_origin(
    browser: Any, tmp_path: Path, sim: SimServer
) -> None:
    with http_serve(tmp_path, sim, "--store", str(tmp_path / "t.sqlite3")) as (_, url):
        browser.get_log("performance")  # what came before this test
        browser.get(url + "/")
        wait_for(lambda: "Doorbuster unboxing" in rows_text(browser), "the page filled")
        asked = [
            msg["params"]["request"]["url"]
            for entry in browser.get_log("performance")
            if (msg := json.loads(entry["message"])["message"])["method"]
            == "Network.requestWillBeSent"
        ]
        assert asked and all(u.startswith(url + "/") for u in asked), asked
        assert {u[len(url) :].split("?")[0] for u in asked} >= {
            "/",
            "/static/wall.js",
            "/static/wall.css",
            "/events",
        }
        violations = [
            e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]
        ]
        assert not violations, violations
        html = browser.page_source
        assert KEY not in html  # the API key is never on the page


def test_a_banner_says_the_api_is_down_and_goes_when_it_is_back(
    browser: Any, tmp_path: Path, sim: SimServer
) -> None:
    with http_serve(tmp_path, sim, "--store", str(tmp_path / "t.sqlite3")) as (_, url):
        browser.get(url + "/")
        wait_for(lambda: tile(browser, "failed") == "1", "the page filled")
        assert browser.find_element("id", "banners").text == ""
        sim.faults.down = True  # every request answered 503
        banners = lambda: str(browser.find_element("id", "banners").text)  # noqa: E731
        wait_for(lambda: "API DOWN" in banners(), "the API-down banner", 90)
        assert "since" in banners()
        assert "Doorbuster unboxing" in rows_text(browser)  # the last known states stay
        sim.faults.down = False
        wait_for(lambda: banners() == "", "the banner gone", 90)
