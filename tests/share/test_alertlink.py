"""Cross-border alerts between nodes through a real NATS server with JetStream: mirrors,
forwarded actions and their answers, hand-over, refusals, catching up after a restart,
gating by agreement, and hostile messages on the alerts stream.

Each "site" is what a federated node runs for alerts: an audit log, an AlertService
(real rules, engine and workflow over responsibility regions), a Federation (keys,
agreements, a NatsBus with the partner's own credentials) and the AlertLink, run as the
node runs it (``AlertLink.run`` on an event loop thread)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from shapely.geometry import box
from web.nodes import PASSWORD, node_in_thread  # tests/, on sys.path (tests.share's root)

from skyshare.airspace import Region, Regions
from skyshare.alerts.engine import EngineConfig
from skyshare.alerts.service import AlertsConfig, AlertService
from skyshare.alerts.workflow import Case, State, WorkflowConfig, WorkflowError
from skyshare.auth import USERS_FILE, Actor, Role, UserStore
from skyshare.config import NodeConfig
from skyshare.model import NO_SQUAWK, SourceKind, TrackFlag, empty_tracks
from skyshare.node import Node
from skyshare.share.alertlink import AlertLink, note_of
from skyshare.share.federation import Federation
from skyshare.share.keys import NodeKey
from skyshare.share.natsconf import AUDIT_STREAM, alerts_stream_name
from skyshare.share.setup import Layout
from skyshare.share.wire import Envelope, encode_alerts
from skyshare.store.audit import AuditEntry, AuditLog
from skyshare.web.alerts_api import case_json

from .fedkit import Loop, bus, config, write_federation

BOX = ("      - name: all\n"
       "        polygon: [[30.0, -10.0], [60.0, -10.0], [60.0, 50.0], [30.0, 50.0]]\n")


def agreement(giver: str, receiver: str, *, fields: str = "[position]", alerts: bool = False,
              handover: bool = False, extra: str = "") -> str:
    return (f"  - id: {giver}-to-{receiver}\n    from: {giver}\n    to: {receiver}\n"
            f"    regions:\n{BOX}    fields: {fields}\n"
            f"    alerts: {str(alerts).lower()}\n    handover: {str(handover).lower()}\n{extra}")


# central tells west of alerts (address but no squawk; never of one state aircraft) and
# west may answer; central only hands over to east (no alerts), east may answer; north
# gets tracks but never alerts
STATE_AIRCRAFT = 0x3C6444 + 99  # emergency(track_id=99)'s address
AGREEMENTS = "agreements:\n" + "".join([
    agreement("central", "west", fields="[position, identity]", alerts=True, handover=True,
              extra=f"    exclude: {{addresses: ['{STATE_AIRCRAFT:06x}']}}\n"),
    agreement("west", "central", alerts=True),
    agreement("central", "east", fields="[position, identity, squawk]", handover=True),
    agreement("east", "central", alerts=True),
    agreement("central", "north"),
    agreement("north", "central"),
])
# responsibility regions: west lon 0..10, central 10..20, east 20..30, north lat 50..60
REGIONS = Regions([Region("west", "West", box(0, 40, 10, 50)),
                   Region("central", "Central", box(10, 40, 20, 50)),
                   Region("east", "East", box(20, 40, 30, 50)),
                   Region("north", "North", box(0, 50, 30, 60))])
WEST_DUTY = Actor("wanda", "west", Role.DUTY_OFFICER)
WEST_RO = Actor("wes", "west", Role.READ_ONLY)
EAST_DUTY = Actor("erin", "east", Role.DUTY_OFFICER)


# --------------------------------------------------------------------------- sites
@dataclass
class Site:
    """One partner's node, as far as alerts go."""

    me: str
    audit: AuditLog
    service: AlertService
    fed: Federation
    link: AlertLink
    stop: asyncio.Event
    running: Future[None] | None = None

    def entries(self, alert_id: str) -> list[AuditEntry]:
        return [e for e in self.audit.entries() if e.subject == alert_id]

    def kinds(self, alert_id: str) -> list[str]:
        return [e.kind for e in self.entries(alert_id)]


def open_site(layout: Layout, loop: Loop, root: Path, me: str, *,
              service: AlertService | None = None, audit: AuditLog | None = None) -> Site:
    """A site for ``me``, connected and running its link (``service`` and ``audit`` given:
    the same alerts state with a new bus, as after a restart of the federation side)."""
    if audit is None:
        audit = AuditLog(root / f"{me}-audit.sqlite", f"{me}-node")
    if service is None:
        alerts = AlertsConfig(engine=EngineConfig(confirm_updates=1),
                              workflow=WorkflowConfig(partner=me, escalate_after_s=(3600.0,)))
        service = AlertService(f"{me}-node", alerts, audit, owners=REGIONS)
    fed = Federation(me, f"{me}-node", config(layout, me), root / me)
    link = AlertLink(service, fed)
    service.forward, service.notify = link.forward, link.wake
    site = Site(me, audit, service, fed, link, asyncio.Event())
    loop.run(fed.bus.connect())
    site.running = asyncio.run_coroutine_threadsafe(link.run(site.stop, interval_s=0.1),
                                                    loop.loop)
    return site


def close_site(site: Site, loop: Loop, *, audit: bool = True) -> None:
    """Stop the link and close the bus (messages not yet handled stay unacknowledged)."""
    loop.loop.call_soon_threadsafe(site.stop.set)
    if site.running is not None:
        site.running.result(10)
    loop.run(site.fed.bus.close())
    if audit:
        site.audit.close()


def wait_until(what: str, check: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def mirror(site: Site, alert_id: str) -> Case | None:
    try:
        return site.service.workflow.get(alert_id)
    except WorkflowError:
        return None


def stored_in(layout: Layout, loop: Loop, partner: str) -> int:
    """Messages in ``partner``'s alerts stream, as the operator sees them."""
    admin = bus(layout, "_admin")
    loop.run(admin.connect())
    try:
        return loop.run(admin.stream_status(alerts_stream_name(partner))).messages
    finally:
        loop.run(admin.close())


def shows(site: Site, alert_id: str, version: int) -> bool:
    """Whether ``site`` mirrors version ``version`` of ``alert_id``."""
    case = mirror(site, alert_id)
    return case is not None and case.version == version


def emergency(lon: float, lat: float = 45.0, *, track_id: int = 1,
              exercise: bool = False) -> np.ndarray:
    t = empty_tracks(1)
    t["track_id"], t["icao24"], t["callsign"] = track_id, 0x3C6444 + track_id, b"DLH4AB"
    t["squawk"], t["lat"], t["lon"], t["alt"], t["vertical_rate"] = 7700, lat, lon, 35000, 0
    t["last_pos"] = t["last_seen"] = t["first_seen"] = time.time()
    t["sensors"], t["sources"] = np.uint64(1), 1 << SourceKind.ADSB
    t["flags"] = TrackFlag.CONFIRMED | TrackFlag.HAS_POSITION
    if exercise:
        t["flags"] |= np.uint16(TrackFlag.EXERCISE)
    return t


def raise_alert(site: Site, tracks: np.ndarray) -> str:
    """Evaluate ``tracks`` at ``site``; the id of the one alert raised."""
    before = {c.id for c in site.service.workflow.cases()}
    site.service.update(tracks)
    site.link.wake()  # as the node's alerts loop does after each evaluation
    (new,) = {c.id for c in site.service.workflow.cases()} - before
    return new


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Layout]:
    out = write_federation(tmp_path_factory.mktemp("alertlink"), AGREEMENTS)
    with out.cluster():
        assert set(out.ensure_streams()) == {alerts_stream_name(p) for p in (
            "central", "east", "north", "west")} | {AUDIT_STREAM}
        yield out


@pytest.fixture(scope="module")
def sites(layout: Layout, loop: Loop, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[dict[str, Site]]:
    root = tmp_path_factory.mktemp("sites")
    out = {me: open_site(layout, loop, root, me) for me in ("central", "west", "east", "north")}
    yield out
    for site in out.values():
        close_site(site, loop)


# --------------------------------------------------------------------------- tests
def test_an_alert_reaches_the_partner_it_is_routed_to_and_is_acknowledged_there(
        sites: dict[str, Site]) -> None:
    central, west = sites["central"], sites["west"]
    alert_id = raise_alert(central, emergency(5.0))  # over west's region
    assert central.service.workflow.get(alert_id).partner == "west"
    wait_until("the mirror at west", lambda: mirror(west, alert_id) is not None)
    seen = west.service.workflow.get(alert_id)
    assert (seen.origin, seen.partner, seen.state, seen.pending) == ("central", "west",
                                                                     State.NEW, None)
    # central -> west grants identity, not squawk: the mirror has the address only
    latest = seen.alert.latest
    assert int(latest["icao24"]) == 0x3C6445 and int(latest["squawk"]) == NO_SQUAWK
    shown = case_json(seen, WEST_DUTY, west.service)
    assert (shown["origin"], shown["pending"], shown["can"]) == ("central", None,
                                                                 ["acknowledge", "hand_over"])

    sent = west.service.act("acknowledge", alert_id, WEST_DUTY)
    assert sent.pending is not None and sent.state == State.NEW  # the origin decides
    request = sent.pending.request
    assert case_json(sent, WEST_DUTY, west.service)["pending"] == "acknowledge"
    assert case_json(sent, WEST_DUTY, west.service)["can"] == []  # one action at a time
    wait_until("the acknowledgement at central",
               lambda: central.service.workflow.get(alert_id).state == State.ACKNOWLEDGED)
    assert central.service.workflow.get(alert_id).acknowledged_by == "wanda@west"
    wait_until("the answer at west", lambda: west.service.workflow.get(alert_id).pending is None)
    answered = west.service.workflow.get(alert_id)
    assert (answered.state, answered.acknowledged_by, answered.refused) == (
        State.ACKNOWLEDGED, "wanda@west", "")

    # both audit logs hold both sides
    (ack,) = [e for e in central.entries(alert_id) if e.kind == "alert.acknowledged"]
    assert ack.actor == "wanda@west"
    assert (ack.data["via"], ack.data["request"]) == ("west", request)
    kinds = west.kinds(alert_id)
    assert kinds[:2] == ["alert.received", "alert.forwarded"]
    assert kinds.count("alert.received") >= 2
    received = [e.data for e in west.entries(alert_id) if e.kind == "alert.received"]
    assert received[0]["from"] == "central" and received[0]["state"] == "new"
    (answer,) = [d for d in received if d["answers"] == request]
    assert (answer["state"], answer["refused"]) == ("acknowledged", "")
    (forwarded,) = [e for e in west.entries(alert_id) if e.kind == "alert.forwarded"]
    assert (forwarded.actor, forwarded.data["request"], forwarded.data["origin"]) == (
        "wanda", request, "central")
    versions = [d["version"] for d in received]
    assert versions == sorted(set(versions))  # each version recorded once, in order


def test_a_case_handed_over_from_a_partner_node_is_accepted_at_a_third(
        sites: dict[str, Site]) -> None:
    """West's officer hands the case over to east from west's node; central offers it to
    east (handover-only agreement); east accepts at its node; the case is east's."""
    central, west, east = sites["central"], sites["west"], sites["east"]
    alert_id = raise_alert(central, emergency(9.5, track_id=2))
    wait_until("the mirror at west", lambda: mirror(west, alert_id) is not None)
    west.service.act("hand_over", alert_id, WEST_DUTY, text="east")
    wait_until("the offer at central",
               lambda: central.service.workflow.get(alert_id).offered_to == "east")
    wait_until("the offer at east", lambda: mirror(east, alert_id) is not None
               and east.service.workflow.get(alert_id).offered_to == "east")
    offered = east.service.workflow.get(alert_id)
    assert case_json(offered, EAST_DUTY, east.service)["can"] == ["accept", "decline"]
    assert int(offered.alert.latest["squawk"]) == 7700  # central -> east grants squawk
    east.service.act("accept", alert_id, EAST_DUTY)
    wait_until("east owning the case at central",
               lambda: central.service.workflow.get(alert_id).partner == "east")
    case = central.service.workflow.get(alert_id)
    assert (case.state, case.acknowledged_by, case.offered_to) == (
        State.ACKNOWLEDGED, "erin@east", None)
    accepted = [e for e in central.entries(alert_id) if e.kind == "alert.handover_accepted"]
    assert accepted[0].actor == "erin@east" and accepted[0].data["via"] == "east"
    offer = [e for e in central.entries(alert_id) if e.kind == "alert.handover_offered"]
    assert offer[0].actor == "wanda@west" and offer[0].data["via"] == "west"
    wait_until("the new owner at east and west", lambda: all(
        s.service.workflow.get(alert_id).partner == "east" and
        s.service.workflow.get(alert_id).pending is None for s in (east, west)))
    assert east.service.workflow.get(alert_id).state == State.ACKNOWLEDGED
    assert case_json(west.service.workflow.get(alert_id), WEST_DUTY, west.service)["can"] == []


def test_an_action_the_origin_refuses_is_audited_on_both_sides_and_shown(
        sites: dict[str, Site]) -> None:
    central, west = sites["central"], sites["west"]
    alert_id = raise_alert(central, emergency(4.0, track_id=3))
    wait_until("the mirror at west", lambda: mirror(west, alert_id) is not None)
    with pytest.raises(WorkflowError, match="read-only") as info:  # checked at west
        west.service.act("acknowledge", alert_id, WEST_RO)
    assert info.value.problem == "forbidden"
    west.service.act("acknowledge", alert_id, WEST_DUTY)
    wait_until("the acknowledgement at west", lambda: (
        west.service.workflow.get(alert_id).state == State.ACKNOWLEDGED))
    sent = west.service.act("resolve", alert_id, WEST_DUTY, text="   ")  # no comment
    request = sent.pending.request if sent.pending else ""
    wait_until("the refusal at west", lambda: west.service.workflow.get(alert_id).refused != "")
    shown = west.service.workflow.get(alert_id)
    assert shown.pending is None and shown.state == State.ACKNOWLEDGED
    assert "comment" in shown.refused
    assert case_json(shown, WEST_DUTY, west.service)["refused"] == shown.refused
    (refused,) = [e for e in central.entries(alert_id) if e.kind == "alert.refused"]
    assert refused.actor == "wanda@west"
    assert (refused.data["request"], refused.data["via"], refused.data["action"]) == (
        request, "west", "resolve")
    assert central.service.workflow.get(alert_id).state == State.ACKNOWLEDGED
    answers = [e.data for e in west.entries(alert_id)
               if e.kind == "alert.received" and e.data["answers"] == request]
    assert len(answers) == 1 and "comment" in str(answers[0]["refused"])
    assert [e.actor for e in west.entries(alert_id) if e.kind == "alert.forwarded"] == [
        "wanda", "wanda"]  # the read-only user's attempt was never forwarded


def test_nothing_goes_where_no_agreement_lets_alerts_go(
        sites: dict[str, Site], layout: Layout, loop: Loop) -> None:
    central, north = sites["central"], sites["north"]
    before = central.link.stats.not_agreed["north"]
    alert_id = raise_alert(central, emergency(5.0, lat=55.0, track_id=4))  # north's region
    assert central.service.workflow.get(alert_id).partner == "north"
    wait_until("the refusal to send", lambda: central.link.stats.not_agreed["north"] > before)
    time.sleep(0.5)
    assert mirror(north, alert_id) is None
    assert stored_in(layout, loop, "north") == 0
    # an action on a case of a node it may not answer cannot be forwarded: said at once
    case = note_of(central.service.workflow.get(alert_id), "central", None, ("position",))
    north.service.apply_note(replace(case, id="central-node-x"))  # as if it had arrived
    officer = Actor("nora", "north", Role.DUTY_OFFICER)
    with pytest.raises(WorkflowError, match="no agreement"):
        north.service.act("acknowledge", "central-node-x", officer)
    stuck = north.service.workflow.get("central-node-x")
    assert stuck.pending is None and "no agreement" in stuck.refused
    assert north.kinds("central-node-x") == ["alert.received", "alert.forwarded",
                                             "alert.forward_failed"]


def test_an_aircraft_the_agreement_excludes_is_never_told_of(sites: dict[str, Site]) -> None:
    central, west = sites["central"], sites["west"]
    before = central.link.stats.excluded["west"]
    alert_id = raise_alert(central, emergency(5.0, track_id=99))  # west's region
    assert central.service.workflow.get(alert_id).partner == "west"
    wait_until("the note withheld", lambda: central.link.stats.excluded["west"] > before)
    time.sleep(0.5)
    assert mirror(west, alert_id) is None


def test_exercise_cases_travel_marked_and_stay_exercise_on_the_mirror(
        sites: dict[str, Site]) -> None:
    central, west = sites["central"], sites["west"]
    alert_id = raise_alert(central, emergency(6.0, track_id=5, exercise=True))
    wait_until("the mirror at west", lambda: mirror(west, alert_id) is not None)
    seen = west.service.workflow.get(alert_id)
    assert seen.alert.exercise and int(seen.alert.latest["flags"]) & TrackFlag.EXERCISE
    assert case_json(seen, WEST_DUTY, west.service)["exercise"] is True
    assert all(e.exercise for e in west.entries(alert_id))


def test_forged_and_malformed_alert_messages_are_counted_and_skipped(
        sites: dict[str, Site], loop: Loop, layout: Layout) -> None:
    """West's credentials publish garbage and a note about a case that is not west's;
    central counts both under west, acknowledges them, and goes on with the stream."""
    central, west = sites["central"], sites["west"]
    real = raise_alert(central, emergency(3.0, track_id=6))
    dropped = Counter(central.fed.status["west"].dropped)
    subject = "sky.alerts.west.central"
    key = NodeKey.load_or_create(layout.root / "keys" / "west.key")
    fake = note_of(central.service.workflow.get(real), "central", None, ("position",))
    env = Envelope("alerts", "west", "central", 1, 1.0, time.time(), "west-to-central")
    forged = encode_alerts(env, [replace(fake, id="west-node-999")], [], key)
    stranger = encode_alerts(env, [], [], NodeKey.generate())
    for payload, msg_id in ((b"garbage " * 10, "g1"), (forged, "f1"), (stranger, "s1")):
        loop.run(west.link.bus.publish_durable(subject, payload, msg_id))
    wait_until("the drops", lambda: sum(central.fed.status["west"].dropped.values())
               - sum(dropped.values()) >= 3)
    now = central.fed.status["west"].dropped
    assert now["bad-magic"] - dropped["bad-magic"] == 1
    assert now["origin-mismatch"] - dropped["origin-mismatch"] == 1
    assert now["bad-signature"] - dropped["bad-signature"] == 1
    assert mirror(central, "west-node-999") is None
    # the stream went on: a real request after them is applied
    wait_until("the mirror at west", lambda: mirror(west, real) is not None)
    west.service.act("acknowledge", real, WEST_DUTY)
    wait_until("the acknowledgement at central",
               lambda: central.service.workflow.get(real).state == State.ACKNOWLEDGED)


def test_a_partner_node_down_catches_up_from_jetstream_once(tmp_path: Path, loop: Loop) -> None:
    """West's link stops (bus closed) while central's cases change several times; with
    a new bus west catches up: every version applied once, nothing lost.  A note
    delivered twice (a redelivery) is recorded once."""
    layout = write_federation(tmp_path / "restart", AGREEMENTS)
    with layout.cluster():
        layout.ensure_streams()
        central = open_site(layout, loop, tmp_path, "central")
        west = open_site(layout, loop, tmp_path, "west")
        try:
            first = raise_alert(central, emergency(5.0, track_id=1))
            wait_until("the first mirror", lambda: mirror(west, first) is not None)
            close_site(west, loop, audit=False)  # west goes down

            ids = [first] + [raise_alert(central, emergency(2.0 + i, track_id=10 + i))
                             for i in range(3)]
            other = Actor("walt", "west", Role.SUPERVISOR)  # a west user at central's node
            central.service.act("acknowledge", ids[1], other)
            central.service.act("acknowledge", first, other)
            central.service.act("resolve", first, other, text="crew confirmed")
            time.sleep(0.5)  # a few rounds of central's link
            wait_until("central's notes stored", lambda: central.link.unsent == 0)
            # the first note, one per case raised, and one at least for the first's later
            # steps (a round of the link sends a case's latest version: changes that fall
            # in one round travel as one note, as a raise and its acknowledgement may)
            assert stored_in(layout, loop, "west") >= 1 + 3 + 1
            assert all(mirror(west, a) is None for a in ids[1:])

            west = open_site(layout, loop, tmp_path, "west", service=west.service,
                             audit=west.audit)  # back, with a new bus
            for alert_id in ids:
                want = central.service.workflow.get(alert_id)
                wait_until(f"{alert_id} caught up",
                           lambda a=alert_id, v=want.version: shows(west, a, v))
                got = west.service.workflow.get(alert_id)
                assert (got.state, got.acknowledged_by, got.resolved_by) == (
                    want.state, want.acknowledged_by, want.resolved_by)
            received = Counter((e.subject, e.data["version"]) for e in west.audit.entries()
                               if e.kind == "alert.received")
            assert max(received.values()) == 1, received

            # a redelivery (same note twice) changes nothing and is not recorded again
            case = central.service.workflow.get(ids[2])
            note = note_of(case, "central", None, ("position",))
            env = Envelope("alerts", "central", "west", 99, 2.0, time.time(),
                           "central-to-west")
            key = NodeKey.load_or_create(layout.root / "keys" / "central.key")
            data = encode_alerts(env, [note], [], key)
            count = len(list(west.audit.entries()))
            west.link.on_message(env.subject, data)
            west.link.on_message(env.subject, data)
            assert len(list(west.audit.entries())) == count  # that version was already shown
        finally:
            close_site(west, loop)
            close_site(central, loop)


def test_a_running_node_shows_a_partner_case_and_forwards_its_officers_action(
        tmp_path: Path, loop: Loop) -> None:
    """West as a real node (API, alerts loop, federation loop and link wired by Node):
    its officer sees central's case over HTTP and acknowledges it there (202, pending);
    central applies it and west's API then shows the answer."""
    layout = write_federation(tmp_path / "node", AGREEMENTS)
    with layout.cluster():
        layout.ensure_streams()
        central = open_site(layout, loop, tmp_path, "central")
        data_dir = tmp_path / "west-data"
        data_dir.mkdir()
        UserStore(data_dir / USERS_FILE, scrypt_n=2**10).add("wanda", "west", "duty_officer",
                                                             PASSWORD)
        node = Node(NodeConfig(name="west-node", partner="west", http_port=0,
                               data_dir=data_dir, federation=config(layout, "west")))
        try:
            with node_in_thread(node) as url, httpx.Client(base_url=url, timeout=10) as web:
                token = web.post("/api/login", json={"user": "wanda", "password": PASSWORD})
                web.headers["authorization"] = f"Bearer {token.json()['token']}"
                alert_id = raise_alert(central, emergency(5.0))

                def listed() -> dict[str, Any]:
                    found = [a for a in web.get("/api/alerts").json()["alerts"]
                             if a["id"] == alert_id]
                    return found[0] if found else {}
                wait_until("the case in west's list", lambda: bool(listed()))
                assert (listed()["origin"], listed()["can"]) == ("central",
                                                                 ["acknowledge", "hand_over"])
                sent = web.post(f"/api/alerts/{alert_id}/acknowledge", json={})
                assert sent.status_code == 202, sent.text
                assert (sent.json()["pending"], sent.json()["state"]) == ("acknowledge", "new")
                wait_until("the answer in west's list",
                           lambda: listed()["state"] == "acknowledged" and not listed()["pending"])
                assert listed()["acknowledged_by"] == "wanda@west"
                assert central.service.workflow.get(alert_id).acknowledged_by == "wanda@west"
        finally:
            close_site(central, loop)
