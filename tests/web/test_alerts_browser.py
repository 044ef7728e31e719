"""The alerts panel in a real browser: duty officers of two partners log in and work
alerts through the map page's own controls (Debian's chromium driven by Playwright,
against a real node fed by synthetic Beast over loopback).

Three cruising aircraft in the west partner's region squawk 7700, 7600 and 7500; the
7500 stops again, so its alert stays open with its condition ended.  Every result is
checked in the page and against ``GET /api/alerts``.  As in ``test_map_browser``,
requests off the node are aborted and fail the test, and so does any HTTP error the
page meets, except the ones a test provokes on purpose inside :func:`deliberate`.
Screenshots are left in ``test-artifacts/alerts*.png``.  The browser set-up comes from
``test_map_browser`` (and with it that module's skips where chromium or the map
libraries are missing), the regions and passwords from ``test_alerts_api``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from chromium import ARTIFACTS, open_on_loopback, require_chromium
from nodes import PASSWORD, alerts_node, node_in_thread, wait_until  # tests/web, on sys.path
from test_alerts_api import BORDER_LON, regions_file
from test_map_browser import pixels_near_centre

from skyshare.alerts.engine import EngineConfig
from skyshare.alerts.service import AlertsConfig
from skyshare.alerts.workflow import WorkflowConfig
from skyshare.model import format_icao24
from skyshare.node import free_port
from skyshare.synth.feed import SyntheticFeed, serve_beast
from skyshare.synth.traffic import Traffic

require_chromium()

USERS = {"wanda": ("west", "duty_officer"), "wes": ("west", "read_only"),
         "erin": ("east", "duty_officer")}
SQUAWKS = {"worked": 7700, "handed": 7600, "ended": 7500}  # what each test aircraft does
ESCALATE_AFTER_S = 12.0
RED = np.array([0xFF, 0x17, 0x44])  # settings.emergencyColour


@dataclass
class Served:
    base: str
    alerts: dict[str, dict[str, Any]]  # SQUAWKS key -> its case as first listed
    external: list[str] = field(default_factory=list)  # requests the page tried elsewhere
    errors: list[str] = field(default_factory=list)  # script errors, unexpected HTTP errors
    allowed: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status)
    provoked: list[tuple[str, str, int]] = field(default_factory=list)  # allowed ones seen


def cruising_in_the_west(base: str, traffic: Traffic, n: int) -> list[int]:
    """Addresses of ``n`` aircraft cruising well inside the west region whose position
    the node knows already (an alert is routed by where its aircraft is)."""
    def positioned() -> set[int] | None:
        tracks = httpx.get(f"{base}/api/picture").json()["tracks"]
        known = {int(t["icao24"], 16) for t in tracks if t["icao24"] and t["lat"] is not None}
        return known if len(known) >= 150 else None

    known = wait_until("the node to place most aircraft", positioned, 40)
    s = traffic.state(time.time())
    inside = (s.lon > -35) & (s.lon < BORDER_LON - 4) & (s.lat > 25) & (s.lat < 70)
    rows = [r for r in np.flatnonzero(inside & ~s.on_ground & (s.alt_baro > 15000))
            if int(s.icao24[r]) in known]
    assert len(rows) >= n, "too few cruising aircraft in the west"
    return [int(s.icao24[r]) for r in rows[:n]]


def listed(base: str, client: httpx.Client | None = None) -> list[dict[str, Any]]:
    """GET /api/alerts anonymously (every partner's), or as ``client``'s user."""
    response = client.get("/api/alerts") if client else httpx.get(f"{base}/api/alerts")
    alerts: list[dict[str, Any]] = response.json()["alerts"]
    return alerts


def case(base: str, alert_id: str) -> dict[str, Any]:
    return next(a for a in listed(base) if a["id"] == alert_id)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("alerts-browser")
    traffic = Traffic(200, seed=11, start_time=time.time())
    port = free_port()
    node = alerts_node(
        "alerts-map", data_dir, port, USERS, regions_file(data_dir / "regions.geojson"),
        AlertsConfig(engine=EngineConfig(confirm_updates=2, clear_after_s=3),
                     workflow=WorkflowConfig(escalate_after_s=(ESCALATE_AFTER_S,)),
                     interval_s=0.5), picture_interval_s=0.5)
    feed = SyntheticFeed(traffic)
    with node_in_thread(node, lambda stop: serve_beast(feed, "127.0.0.1", port, stop=stop)
                        ) as base:
        addresses = dict(zip(SQUAWKS, cruising_in_the_west(base, traffic, len(SQUAWKS)),
                             strict=True))
        for name, address in addresses.items():
            traffic.set_squawk(address, SQUAWKS[name])
        hexes = {name: str(format_icao24(np.array([a], np.uint32))[0])
                 for name, a in addresses.items()}

        def raised_with_callsigns() -> dict[str, dict[str, Any]] | None:
            by_icao = {a["icao24"]: a for a in listed(base) if a["rule"].startswith("squawk")}
            if not all(h in by_icao and by_icao[h]["callsign"] for h in hexes.values()):
                return None
            return {name: by_icao[h] for name, h in hexes.items()}

        alerts = wait_until("three alerts with callsigns", raised_with_callsigns, 40)
        assert {a["partner"] for a in alerts.values()} == {"west"}, alerts
        traffic.set_squawk(addresses["ended"], None)  # its alert's condition ends
        yield Served(base, alerts)


@pytest.fixture(scope="module")
def page(browser: Any, served: Served) -> Iterator[Any]:
    def provoked(response: Any) -> bool:
        key = (response.request.method, urlsplit(response.url).path, response.status)
        if key not in served.allowed:
            return False
        served.allowed.remove(key)
        served.provoked.append(key)
        return True

    page = open_on_loopback(browser, served.base + "/", served.external, served.errors,
                            expected=provoked)
    page.wait_for_selector("body[data-map=ready]", timeout=20_000)
    yield page
    page.context.close()


@contextmanager
def deliberate(page: Any, served: Served, method: str, path: str, status: int) -> Iterator[None]:
    """Allow one ``status`` answer to ``method path`` inside the block, and require it."""
    key = (method, path, status)
    served.allowed.append(key)
    seen = served.provoked.count(key)
    yield
    page.wait_for_timeout(100)  # let the response event arrive
    assert served.provoked.count(key) == seen + 1, f"{key} was not provoked"


def item(page: Any, served: Served, name: str) -> Any:
    return page.locator(f"#alert-list .alert[data-alert-id='{served.alerts[name]['id']}']")


def log_in(page: Any, user: str, password: str = PASSWORD) -> None:
    page.fill("#login input[name=user]", user)
    page.fill("#login input[name=password]", password)
    page.click("#login button[type=submit]")


def log_out(page: Any) -> None:
    page.click("#login [data-role=logout]")
    page.locator("#login form[data-role=login]").wait_for(state="visible", timeout=5_000)


@contextmanager
def api_as(served: Served, user: str) -> Iterator[httpx.Client]:
    """An API client logged in as ``user`` (its own session, not the page's)."""
    with httpx.Client(base_url=served.base) as client:
        assert client.post("/api/login", json={"user": user, "password": PASSWORD}).is_success
        yield client


def test_anonymous_readers_see_alerts_and_a_wrong_password_is_told(
        page: Any, served: Served) -> None:
    worked = item(page, served, "worked")
    worked.wait_for(timeout=10_000)
    assert "Squawk 7700" in worked.inner_text()
    assert page.locator("#alert-list .alert-action").count() == 0  # anonymous: no actions
    with deliberate(page, served, "POST", "/api/login", 401):
        log_in(page, "wanda", "not her password")
        error = page.locator("#login [data-role=login-error]")
        error.wait_for(state="visible", timeout=5_000)
    assert error.inner_text() == "wrong user name or password"
    assert page.locator("#login [data-role=who]").is_hidden()


def test_password_guessing_is_slowed_and_told(page: Any, served: Served) -> None:
    error = page.locator("#login [data-role=login-error]")
    for attempt in range(5):  # the node's throttle: 5 failures per name in 5 minutes
        with deliberate(page, served, "POST", "/api/login", 401):
            log_in(page, "mallory", f"guess {attempt}")
            page.wait_for_function(  # the button is enabled again once answered
                "!document.querySelector('#login button[type=submit]').disabled")
    with deliberate(page, served, "POST", "/api/login", 429):
        log_in(page, "mallory", "one more guess")
        page.wait_for_function("document.querySelector('#login [data-role=login-error]')"
                               ".textContent.startsWith('too many failed logins')",
                               timeout=5_000)
    assert "try again" in error.inner_text()


def test_the_duty_officer_sees_her_alerts_badges_and_count(page: Any, served: Served) -> None:
    log_in(page, "wanda")
    page.wait_for_function("document.querySelector('#login [data-role=who]').textContent"
                           " === 'wanda (west, duty officer)'", timeout=5_000)
    assert page.locator("#login [data-role=login-error]").is_hidden()
    worked = item(page, served, "worked")
    worked.locator("[data-action=acknowledge] button").wait_for(timeout=5_000)
    assert worked.locator(".badge.unverified").inner_text() == "UNVERIFIED"  # one receiver
    assert worked.locator("[data-role=partner]").inner_text() == "west"
    assert worked.locator("[data-role=state]").inner_text() == "new"
    assert served.alerts["worked"]["callsign"] in worked.inner_text()
    with api_as(served, "wanda") as wanda:
        def count_matches() -> bool:
            mine = [a for a in listed(served.base, wanda) if a["state"] != "resolved"]
            return bool(page.inner_text("#alert-count") == str(len(mine)))

        wait_until("the header counts her open alerts", count_matches, 5)
    assert int(page.inner_text("#alert-count")) >= 3
    page.click("#alerts > summary")  # collapsed: the count stays in sight
    assert worked.is_hidden() and page.locator("#alert-count").is_visible()
    page.click("#alerts > summary")
    worked.wait_for(state="visible")
    page.reload()  # the session is the node's cookie: a new page load finds it again
    page.wait_for_selector("body[data-map=ready]", timeout=20_000)
    page.wait_for_function("document.querySelector('#login [data-role=who]').textContent"
                           " === 'wanda (west, duty officer)'", timeout=5_000)
    worked.locator("[data-action=acknowledge] button").wait_for(timeout=5_000)


def test_clicking_an_alert_selects_its_aircraft(page: Any, served: Served) -> None:
    alert = served.alerts["worked"]
    item(page, served, "worked").locator("[data-role=select]").click()
    panel = page.locator("#panel")
    panel.wait_for(state="visible", timeout=5_000)
    assert panel.locator("[data-role=title]").inner_text() == alert["callsign"]
    assert panel.get_attribute("data-track-id") == str(alert["track_id"])
    assert f"sel={alert['track_id']}" in page.url
    assert "selected" in (item(page, served, "worked").get_attribute("class") or "")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "alerts-selected.png"))


def test_acknowledge_then_resolve_with_a_comment(page: Any, served: Served) -> None:
    worked, alert_id = item(page, served, "worked"), served.alerts["worked"]["id"]
    worked.locator("[data-action=acknowledge] button").click()
    page.wait_for_selector(f".alert[data-alert-id='{alert_id}'][data-state=acknowledged]",
                           timeout=5_000)
    acknowledged = case(served.base, alert_id)
    assert (acknowledged["state"], acknowledged["acknowledged_by"]) == ("acknowledged", "wanda")
    resolve = worked.locator("[data-action=resolve]")
    assert resolve.locator("button").is_disabled()  # no comment yet
    resolve.locator("input").type("   ")
    assert resolve.locator("button").is_disabled()  # blanks are no comment
    resolve.locator("input").fill("")
    resolve.locator("input").type("crew: pressurisation, <b>diverting</b>")
    assert resolve.locator("button").is_enabled()
    resolve.locator("button").click()
    page.wait_for_selector(f".alert[data-alert-id='{alert_id}'][data-state=resolved]",
                           timeout=5_000)
    resolved = case(served.base, alert_id)
    assert resolved["resolved_by"] == "wanda"
    assert resolved["comment"] == "crew: pressurisation, <b>diverting</b>"
    assert worked.locator(".alert-action").count() == 0  # nothing left for a duty officer
    assert worked.locator("b").count() == 0  # the comment went in as text


def test_hand_over_to_the_other_partner(page: Any, served: Served) -> None:
    handed, alert_id = item(page, served, "handed"), served.alerts["handed"]["id"]
    form = handed.locator("[data-action=hand_over]")
    assert form.locator("button").is_disabled()  # no partner chosen yet
    options = form.locator("option").all_inner_texts()
    assert "east" in options and "west" not in options  # not back to the owner
    form.locator("select").select_option("east")
    form.locator("button").click()
    handed.locator(".badge.offered").wait_for(timeout=5_000)
    assert handed.locator(".badge.offered").inner_text() == "offered to east"
    offered = case(served.base, alert_id)
    assert (offered["partner"], offered["offered_to"]) == ("west", "east")
    page.screenshot(path=str(ARTIFACTS / "alerts-panel.png"))


def test_an_ended_session_asks_to_log_in_again(page: Any, served: Served) -> None:
    ended, alert_id = item(page, served, "ended"), served.alerts["ended"]["id"]
    acknowledge = ended.locator("[data-action=acknowledge] button")
    acknowledge.wait_for(timeout=5_000)
    # until the page acts, its list refreshes are answered with the list as it is now,
    # so that the button stays while the session goes
    frozen: list[bytes] = []
    acted: list[str] = []
    polls = re.compile(r"/api/alerts(\?all=1)?$")
    action = f"/api/alerts/{alert_id}/acknowledge"

    def freeze(route: Any) -> None:
        if acted:
            route.fallback()
            return
        if not frozen:
            frozen.append(route.fetch().body())
        route.fulfill(status=200, content_type="application/json", body=frozen[0])

    def note_action(route: Any) -> None:
        acted.append(route.request.url)
        route.fallback()

    page.route(polls, freeze)
    page.route(f"**{action}", note_action)
    for _ in range(50):
        if frozen:
            break
        page.wait_for_timeout(50)
    assert frozen, "the panel stopped polling"
    page.context.clear_cookies()  # as when the node restarted: the session is gone
    with deliberate(page, served, "POST", action, 401):
        acknowledge.click()
        error = ended.locator("[data-role=error]")
        error.wait_for(state="visible", timeout=5_000)
    assert error.inner_text() == "log in to act on alerts: log in above"
    ended.locator(".alert-action").first.wait_for(state="detached", timeout=5_000)
    assert page.locator("#login form[data-role=login]").is_visible()  # re-read: anonymous
    assert page.evaluate("document.activeElement.name") == "user"
    page.unroute(polls)
    page.unroute(f"**{action}")
    assert case(served.base, alert_id)["state"] == "new"  # nothing was done
    log_in(page, "wanda")
    acknowledge.wait_for(timeout=5_000)


def test_an_ended_alert_stays_open_and_its_aircraft_is_drawn_red(
        page: Any, served: Served) -> None:
    ended, alert = item(page, served, "ended"), served.alerts["ended"]
    ended.locator(".badge.ended").wait_for(timeout=15_000)
    assert ended.get_attribute("data-state") == "new"
    assert case(served.base, alert["id"])["condition_active"] is False
    track = next(t for t in httpx.get(f"{served.base}/api/picture").json()["tracks"]
                 if t["id"] == alert["track_id"])
    assert track["squawk"] != "7500"  # red from now on only because of its open alert
    ended.locator("[data-role=select]").click()
    page.locator("#panel").wait_for(state="visible", timeout=5_000)
    assert page.get_attribute("#panel", "data-track-id") == str(alert["track_id"])
    page.wait_for_timeout(1200)  # a redraw at the new centre
    red = np.abs(pixels_near_centre(page, 16) - RED).sum(axis=1) < 60
    assert red.sum() >= 15, "the alerted aircraft is not drawn as an emergency"
    ended.locator(".badge.escalated").wait_for(timeout=(ESCALATE_AFTER_S + 5) * 1000)
    assert ended.locator(".badge.escalated").inner_text() == "ESCALATED 1"
    page.click("#panel [data-role=close]")


def test_the_other_partner_accepts_the_hand_over(page: Any, served: Served) -> None:
    log_out(page)
    assert page.locator("#alerts-all-row").is_hidden()
    log_in(page, "erin")
    page.wait_for_function("document.querySelector('#login [data-role=who]').textContent"
                           " === 'erin (east, duty officer)'", timeout=5_000)
    handed, alert_id = item(page, served, "handed"), served.alerts["handed"]["id"]
    handed.locator("[data-action=accept] button").wait_for(timeout=5_000)
    assert handed.locator("[data-action=decline] button").is_disabled()  # asks a reason
    assert item(page, served, "ended").count() == 0  # west's: not listed for the east
    handed.locator("[data-action=accept] button").click()
    page.wait_for_function(
        f"document.querySelector(\".alert[data-alert-id='{alert_id}'] [data-role=partner]\")"
        "?.textContent === 'east'", timeout=5_000)
    accepted = case(served.base, alert_id)
    assert (accepted["partner"], accepted["state"], accepted["acknowledged_by"],
            accepted["offered_to"]) == ("east", "acknowledged", "erin", None)
    assert handed.locator("[data-action=resolve]").count() == 1  # hers to resolve now


def test_a_read_only_user_sees_alerts_but_no_actions(page: Any, served: Served) -> None:
    log_out(page)
    log_in(page, "wes")
    page.wait_for_function("document.querySelector('#login [data-role=who]').textContent"
                           " === 'wes (west, read only)'", timeout=5_000)
    ended = item(page, served, "ended")
    ended.wait_for(timeout=5_000)
    page.check("#alerts-all")  # every partner's, the east's under their own heading
    page.wait_for_function("[...document.querySelectorAll('#alert-list h3')]"
                           ".some((h) => h.textContent === 'other partners')", timeout=5_000)
    assert page.locator("#alert-list h3").all_text_contents() == [
        "west (yours)", "other partners"]
    assert item(page, served, "handed").count() == 1
    assert page.locator("#alert-list .alert").count() >= 3
    assert page.locator("#alert-list .alert-action").count() == 0
    with api_as(served, "wes") as wes:
        every = wes.get("/api/alerts", params={"all": "1"}).json()["alerts"]
    assert every and all(a["can"] == [] for a in every)
    page.uncheck("#alerts-all")
    page.screenshot(path=str(ARTIFACTS / "alerts.png"))


def test_nothing_failed_that_was_not_provoked(page: Any, served: Served) -> None:
    assert served.allowed == [], "a deliberate failure did not happen"
    assert served.external == []
    assert served.errors == []
    assert Path(ARTIFACTS / "alerts.png").stat().st_size > 10_000
