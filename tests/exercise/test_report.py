"""The exercise report: what it shows, what it escapes, what it refuses, and the files.

Summaries are built here by small functions (inputs); expectations come from the
inputs (how many events, which partners), never from a stored copy of the output.
The HTML is read back with :mod:`html.parser`, so the assertions look at elements and
text as a browser would, not at substrings of markup.
"""

from __future__ import annotations

import copy
import json
import math
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyshare.exercise import report
from skyshare.exercise.report import SummaryError, check_summary, render_html, write_report

T0 = 1_800_000_000.0
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
HOSTILE = '<script>alert("x")</script>&<b>'


# ---------------------------------------------------------------------------- inputs

def event(eid: str = "e1", at_s: float | None = 40.0, outcome: str = "detected", **changes: Any
          ) -> dict[str, Any]:
    """A detected transponder loss in west, reached by both partners, handed over."""
    base: dict[str, Any] = {
        "id": eid, "at_s": at_s, "kind": "transponder_off", "subject": "DLH4LT (3c4b21)",
        "description": "transponder silent", "expected_rule": "transponder_lost",
        "responsible": ["west", "east"], "position": [49.6, 6.9], "outcome": outcome,
        "alert_id": f"a-{eid}", "detected_by": "west", "detection_s": 12.5,
        "reached": {"west": 12.5, "east": 14.0}, "acknowledged_s": 33.0,
        "acknowledged_by": "responder",
        "handover": {"from": "west", "to": "east", "offered_s": 60.0, "accepted_s": 81.0}}
    if outcome == "missed":
        base.update(alert_id=None, detected_by=None, detection_s=None, acknowledged_s=None,
                    acknowledged_by=None, reached={"west": None, "east": None}, handover=None)
    base.update(changes)
    return base


def sensor(name: str = "west-adsb", partner: str = "west", kind: str = "adsb",
           points: int = 30, outages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"name": name, "partner": partner, "kind": kind,
            "format": "asterix" if kind == "radar" else "beast", "position": [49.3, 5.2],
            "frames": 1234, "series": [[i * 10.0, 100.0 + (i % 7)] for i in range(points)],
            "outages": outages or []}


def aircraft(label: str = "LOST", points: int = 50) -> dict[str, Any]:
    return {"label": label, "icao24": "3c4b21", "callsign": "DLH4LT",
            "path": [[i * 6.0, 49.6, 6.35 + i * 0.05, 35000] for i in range(points)]}


def summary(**changes: Any) -> dict[str, Any]:
    """A two-partner exercise: three events (detected, late, missed), three sensors
    (one failing), one aircraft, one false alert."""
    base: dict[str, Any] = {
        "schema": "skyshare-exercise/1", "exercise": True, "scenario": "lost-transponder",
        "title": "Lost transponder", "description": "An airliner goes silent.", "seed": 11,
        "started_at": T0, "ended_at": T0 + 320.0, "duration_s": 300.0,
        "partners": {
            "west": {"expected": 3, "reached": 2, "missed": 1, "false_alerts": 1,
                     "acknowledged": 2, "median_time_to_alert_s": 12.5},
            "east": {"expected": 3, "reached": 2, "missed": 1, "false_alerts": 0,
                     "acknowledged": 2, "median_time_to_alert_s": None}},
        "regions": {"west": [[[48, 4], [51, 4], [51, 7], [48, 7], [48, 4]]],
                    "east": [[[48, 7], [51, 7], [51, 10], [48, 10], [48, 7]]]},
        "volumes": [{"id": "ED-R1", "name": "Restricted 1",
                     "polygon": [[49.0, 7.5], [49.3, 7.5], [49.3, 8.0], [49.0, 8.0]]}],
        "sensors": [sensor(), sensor("east-adsb", "east"),
                    sensor("east-radar", "east", "radar",
                           outages=[{"from_s": 100.0, "to_s": 160.0, "kind": "failure"}])],
        "aircraft": [aircraft()],
        "events": [event("e1"), event("e2", 90.0, "late", kind="squawk", detection_s=70.0),
                   event("e3", 100.0, "missed", kind="sensor_failure",
                         subject="east-radar", position=None)],
        "false_alerts": [{"alert_id": "f1", "node": "west", "rule": "squawk_7700",
                          "subject": "BAW1 (400001)", "at_s": 200.0, "partner": "west"}],
        "totals": {"events": 3, "detected": 1, "late": 1, "missed": 1, "false_alerts": 1,
                   "score": 48.0, "median_detection_s": 41.2},
        "notes": ["Acknowledgements were made by the scripted responder."],
    }
    base.update(changes)
    return base


# ---------------------------------------------------------------------------- reading

class Page(HTMLParser):
    """Elements and text of a rendered report, with a check that tags balance."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self.in_title: list[str] = []
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {self.stack}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self.stack and self.stack[-1] == "title":
            self.in_title.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)

    def count(self, tag: str, cls: str | None = None) -> int:
        return sum(t == tag and (cls is None or cls in (a.get("class") or "").split())
                   for t, a in self.tags)


def svg_section(text: str, cls: str) -> str:
    """The markup of the chart ``<svg class="chart cls">``."""
    start = text.index(f'<svg class="chart {cls}"')
    return text[start:text.index("</svg>", start) + len("</svg>")]


# ---------------------------------------------------------------------------- tests

def test_the_public_api() -> None:
    assert report.__all__ == ["SummaryError", "check_summary", "render_html", "write_report"]


def test_report_says_exercise_and_shows_the_header() -> None:
    page = Page(render_html(summary()))
    assert not page.errors
    assert "EXERCISE" in "".join(page.in_title)
    assert "EXERCISE" in page.text and "NOT REAL TRAFFIC" in page.text
    for shown in ("Lost transponder", "An airliner goes silent.", "11", "48 / 100",
                  "2027-01-15 08:00:00 UTC", "5:00"):
        assert shown in page.text.replace("\u00a0", " "), shown


def test_every_partner_event_and_sensor_appears() -> None:
    s = summary()
    text = render_html(s)
    page = Page(text)
    for name in (*s["partners"], *(x["name"] for x in s["sensors"])):
        assert name in page.text
    for e in s["events"]:
        assert e["alert_id"] is None or e["alert_id"] in page.text
    assert page.count("tr") == 1 + len(s["partners"]) + 1 + len(s["events"]) + 1 + len(
        s["sensors"]) + 1 + len(s["false_alerts"])
    assert page.count("caption") == 4
    assert Page(svg_section(text, "traffic")).count("g", "tr-row") == len(s["sensors"])


def test_timeline_has_one_row_per_event_and_a_marker_per_happening() -> None:
    s = summary()
    timeline = Page(svg_section(render_html(s), "timeline"))
    assert timeline.count("g", "tl-row") == len(s["events"])
    # e1 and e2: scripted, detected, 2 partners, acknowledged, offered, accepted = 7;
    # e3 missed: the scripted moment only, plus its band
    assert timeline.count("path", "marker") == 7 + 7 + 1
    assert timeline.count("path", "marker-reached") == 4
    assert timeline.count("rect", "missed-band") == 1
    assert timeline.count("g", "outage") == 1  # east-radar's failure across the chart


def test_a_partner_not_reached_has_no_marker() -> None:
    s = summary(events=[event(reached={"west": 3.0, "east": None}, handover=None,
                              acknowledged_s=None)])
    timeline = Page(svg_section(render_html(s), "timeline"))
    assert timeline.count("path", "marker") == 3  # scripted, detected, west


def test_hostile_names_are_text_never_tags() -> None:
    s = summary(title=HOSTILE, description=HOSTILE, scenario=HOSTILE, notes=[HOSTILE],
                partners={HOSTILE: {"expected": 1}},
                regions={HOSTILE: [[[48, 4], [51, 4], [51, 7]]]},
                sensors=[sensor(HOSTILE, HOSTILE)], aircraft=[aircraft(HOSTILE)],
                volumes=[{"id": HOSTILE, "name": HOSTILE,
                          "polygon": [[49, 7], [49.2, 7], [49.2, 7.3]]}],
                events=[event(HOSTILE, subject=HOSTILE, kind=HOSTILE, description=HOSTILE,
                              alert_id=HOSTILE, reached={HOSTILE: 1.0})],
                false_alerts=[{"alert_id": HOSTILE, "node": HOSTILE, "rule": HOSTILE,
                               "subject": HOSTILE, "at_s": 1.0}])
    text = render_html(s)
    page = Page(text)
    assert not page.errors
    assert page.count("script") == 0 and page.count("b") == 0
    assert HOSTILE in page.text  # shown, as text
    assert '"x"' not in text.replace("&quot;x&quot;", "")  # quotes escaped in attributes


def test_missing_and_null_values_show_a_dash() -> None:
    s = summary(title=None, description=None, seed=None, ended_at=float("nan"),
                partners={"west": {"expected": 1, "median_time_to_alert_s": float("nan")}},
                totals={"score": None}, events=[event(
                    "e1", outcome="missed", expected_rule=None, subject="X",
                    reached={"west": None}, handover={"from": "west", "to": "east"})],
                false_alerts=[{"alert_id": None, "at_s": None}])
    del s["duration_s"]
    page = Page(render_html(s))
    assert not page.errors
    words = page.text.split()
    for bad in ("None", "nan", "NaN", "null", "undefined", "inf"):
        assert bad not in words and f"{bad}\u00a0s" not in page.text, bad
    assert page.text.count("\u2014") >= 15


@pytest.mark.parametrize(("change", "field"), [
    ({"schema": "other/2"}, "schema"),
    ({"exercise": False}, "exercise"),
    ({"started_at": "yesterday"}, "started_at"),
    ({"events": {"e1": {}}}, "events"),
    ({"events": [event(outcome="sort of")]}, "events[0].outcome"),
    ({"events": [event(), event(at_s=None)]}, "events[1].at_s"),
    ({"events": [event(detection_s="fast")]}, "events[0].detection_s"),
    ({"events": [event(reached={"west": "soon"})]}, "events[0].reached.west"),
    ({"events": [event(position=[91, 0])]}, "events[0].position"),
    ({"events": [event(handover=[1])]}, "events[0].handover"),
    ({"sensors": [sensor(outages=[{"from_s": 1}])]}, "sensors[0].outages[0].to_s"),
    ({"sensors": [{"name": "s", "series": [[0, "x"]]}]}, "sensors[0].series[0]"),
    ({"aircraft": [{"label": "A", "path": [[0, 1]]}]}, "aircraft[0].path[0]"),
    ({"regions": {"west": [[["a", 1]]]}}, "regions.west[0][0]"),
    ({"partners": {"west": {"expected": 1.5}}}, "partners.west.expected"),
    ({"totals": {"score": True}}, "totals.score"),
    ({"notes": [3]}, "notes[0]"),
])
def test_a_malformed_summary_names_its_field(change: dict[str, Any], field: str) -> None:
    s = summary(**change)
    with pytest.raises(ValueError, match=r"^malformed exercise summary: ") as caught:
        render_html(s)
    assert isinstance(caught.value, SummaryError)
    assert caught.value.field == field
    assert any(p.startswith(f"{field}:") for p in check_summary(s))


def test_a_missing_required_key_is_named() -> None:
    s = summary()
    del s["events"][0]["subject"]
    del s["scenario"]
    assert check_summary(s) == ["scenario: is required", "events[0].subject: is required"]
    assert check_summary([]) == ["summary: expected an object, got []"]


def test_unknown_keys_are_ignored() -> None:
    s = summary(future={"x": 1})
    s["events"][0]["confidence"] = object()
    assert check_summary(s) == []
    render_html(s)


def test_write_report_round_trips_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    s = summary()
    s["partners"]["east"]["median_time_to_alert_s"] = float("nan")
    report, js = write_report(s, tmp_path / "run" / "1")
    assert (report.name, js.name) == ("report.html", "summary.json")
    text = js.read_text(encoding="utf-8")
    assert "NaN" not in text and text.startswith("{\n")
    expected = copy.deepcopy(s)
    expected["partners"]["east"]["median_time_to_alert_s"] = None
    assert json.loads(text) == expected
    assert list(json.loads(text)) == sorted(expected)
    assert report.read_text(encoding="utf-8") == render_html(s)
    assert sorted(p.name for p in report.parent.iterdir()) == ["report.html", "summary.json"]


def test_write_report_writes_nothing_for_a_malformed_summary(tmp_path: Path) -> None:
    with pytest.raises(SummaryError):
        write_report(summary(events=None), tmp_path)
    assert list(tmp_path.iterdir()) == []


def big_summary() -> dict[str, Any]:
    """50 events, 20 sensors of 600 points, 30 aircraft of 1,000 points."""
    return summary(
        duration_s=3600.0,
        events=[event(f"e{i}", i * 70.0, ("detected", "late", "missed")[i % 3])
                for i in range(50)],
        sensors=[sensor(f"s{i}", ("west", "east")[i % 2], ("adsb", "radar")[i % 2], 600,
                        [{"from_s": 600.0 + i * 30, "to_s": 700.0 + i * 30,
                          "kind": "degraded"}]) for i in range(20)],
        aircraft=[{"label": f"A{j}", "icao24": f"{j:06x}", "callsign": f"TST{j}",
                   "path": [[i * 3.6, 48.5 + j * 0.05 + 0.3 * math.sin(i / 50),
                             4.5 + i * 0.005, 30000] for i in range(1000)]}
                  for j in range(30)])


def test_a_large_exercise_renders_fast_and_small() -> None:
    s = big_summary()
    render_html(s)  # warm-up (imports, numpy)
    began = time.perf_counter()
    text = render_html(s)
    elapsed = time.perf_counter() - began
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    raw = len(json.dumps(s))
    assert len(text) < 1_500_000 and len(text) < raw, (len(text), raw)
    page = Page(text)
    assert not page.errors
    assert Page(svg_section(text, "timeline")).count("g", "tl-row") == 50


# ---------------------------------------------------------------------------- properties

names = st.text(min_size=1, max_size=12)
maybe_s = st.none() | st.floats(0, 600, allow_nan=False)
latlon = st.tuples(st.floats(-60, 60), st.floats(-170, 170)).map(list)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    partners = draw(st.lists(names, max_size=3, unique=True))
    return {"id": draw(names), "at_s": draw(st.floats(-10, 4000, allow_nan=False)),
            "kind": draw(st.sampled_from(["squawk", "deviation", "sensor_failure"]) | names),
            "subject": draw(st.text(max_size=20)), "description": draw(st.none() | names),
            "expected_rule": draw(st.none() | names), "responsible": partners,
            "position": draw(st.none() | latlon),
            "outcome": draw(st.sampled_from(["detected", "late", "missed"])),
            "alert_id": draw(st.none() | names), "detected_by": draw(st.none() | names),
            "detection_s": draw(maybe_s), "reached": {p: draw(maybe_s) for p in partners},
            "acknowledged_s": draw(maybe_s), "acknowledged_by": draw(st.none() | names),
            "handover": draw(st.none() | st.fixed_dictionaries(
                {"from": names, "to": names, "offered_s": maybe_s, "accepted_s": maybe_s}))}


@st.composite
def summaries(draw: st.DrawFn) -> dict[str, Any]:
    ring = st.lists(latlon, min_size=0, max_size=6)
    series = st.lists(st.tuples(st.floats(0, 4000), st.floats(0, 1e5)).map(list), max_size=20)
    outage = st.fixed_dictionaries({"from_s": st.floats(-5, 4000), "to_s": st.floats(0, 4000),
                                    "kind": st.sampled_from(["failure", "degraded"])})
    return summary(
        title=draw(st.none() | st.text(max_size=30)), seed=draw(st.none() | st.integers()),
        duration_s=draw(st.floats(0, 4000)),
        regions=draw(st.dictionaries(names, st.lists(ring, max_size=2), max_size=3)),
        volumes=draw(st.lists(st.fixed_dictionaries(
            {"id": names, "name": st.none() | names, "polygon": ring}), max_size=2)),
        sensors=draw(st.lists(st.fixed_dictionaries(
            {"name": names, "partner": st.none() | names,
             "kind": st.sampled_from(["adsb", "radar"]), "position": st.none() | latlon,
             "series": series, "outages": st.lists(outage, max_size=2)}), max_size=3)),
        aircraft=draw(st.lists(st.fixed_dictionaries(
            {"label": names, "callsign": st.none() | names, "path": st.lists(
                st.tuples(st.floats(0, 4000), st.floats(-60, 60), st.floats(-170, 170),
                          st.none() | st.floats(0, 4e4)).map(list), max_size=30)}),
            max_size=2)),
        events=draw(st.lists(events(), max_size=5)),
        notes=draw(st.lists(st.text(max_size=30), max_size=3)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(summaries())
def test_any_valid_summary_renders_as_balanced_html(s: dict[str, Any]) -> None:
    text = render_html(s)
    page = Page(text)
    assert not page.errors
    assert Page(svg_section(text, "timeline")).count("g", "tl-row") == len(s["events"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_corrupted_summary_is_a_value_error_naming_a_field(data: st.DataObject) -> None:
    """One value anywhere replaced by anything: it renders, or raises ValueError whose
    message names a field; no other exception."""
    s = summary()
    path = data.draw(st.sampled_from(_paths(s)))
    target = s
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(json_values)
    try:
        render_html(s)
    except ValueError as exc:
        assert isinstance(exc, SummaryError)
        assert exc.field and exc.field in str(exc)
        assert str(path[0]) in exc.field or exc.field == "summary"


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_garbage_is_a_value_error(value: Any) -> None:
    with pytest.raises(ValueError, match="malformed exercise summary"):
        render_html(value)
