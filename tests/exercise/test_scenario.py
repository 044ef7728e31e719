"""Scenario files: the shipped ones load; every mistake is a ConfigError that says
where; no input whatsoever makes the loader fail any other way."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exercise.scenes import SHIPPED, doc, scene
from skyshare.errors import ConfigError
from skyshare.exercise.scenario import load_scenario, parse_scenario


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_shipped_scenarios_load(path: Any) -> None:
    sc = load_scenario(path)
    assert sc.partners == ("west", "east")
    assert sc.sensors and (sc.aircraft_events or sc.sensor_events)


def test_a_scenario_reads_its_parts() -> None:
    sc = scene(events=[{"at_s": 30, "aircraft": "A", "squawk": 7500},
                       {"at_s": 10, "aircraft": "A", "transponder": False},
                       {"at_s": 20, "sensor": "w", "degrade": {"duration_s": 60,
                                                               "loss": 0.3}}])
    assert [e.at_s for e in sc.aircraft_events] == [10.0, 30.0]  # sorted by time
    assert sc.aircraft[0].icao24 == 0xABC123 and sc.aircraft[0].callsign == "TST1"
    assert sc.sensor("r").radar is not None and sc.sensor("r").radar.range_m == 222000
    assert sc.sensor("e").format == "avr"
    assert sc.sensor_events[0].end_s == 80.0 and sc.sensor_events[0].loss == 0.3


def test_off_unquoted_in_yaml_switches_the_transponder_off() -> None:
    events = yaml.safe_load("- {at_s: 5, aircraft: A, transponder: off}")
    assert scene(events=events).aircraft_events[0].value == 0.0


@pytest.mark.parametrize(("change", "message"), [
    ({"scenario": ""}, "scenario: must be a non-empty text"),
    ({"duration_s": 5}, "duration_s: must be a number from 10"),
    ({"regions": None}, "regions: names the GeoJSON file"),
    ({"regions": "missing.geojson"}, "no such file"),
    ({"colour": "red"}, "unknown keys ['colour']"),
    ({"sensors": []}, "sensors: lists the simulated sensors"),
    ({"sensors": [{"name": "x", "partner": "north", "position": [1, 2]}]},
     "partner 'north' has no region"),
    ({"sensors": [{"name": "x", "partner": "west", "position": [1, 2], "format": "asterix"}]},
     "does not suit a adsb sensor"),
    ({"sensors": [{"name": "x", "partner": "west", "type": "radar", "position": [1, 2],
                   "radar": {"rotation_s": 100}}]}, "rotation_s"),
    ({"sensors": [{"name": "x", "partner": "west", "type": "radar", "position": [1, 2],
                   "radar": {"colour": 1}}]}, "unknown radar setting"),
    ({"events": [{"at_s": 5, "aircraft": "B", "squawk": 7500}]}, "not 'B'"),
    ({"events": [{"at_s": 5, "aircraft": "A", "squawk": 7800}]}, "not four octal digits"),
    ({"events": [{"at_s": 500, "aircraft": "A", "squawk": 7500}]}, "at_s: must be a number"),
    ({"events": [{"at_s": 5, "aircraft": "A", "deviate": {"volume": "NOPE"}}]},
     "no volume 'NOPE'"),
    ({"events": [{"at_s": 5, "aircraft": "A", "squawk": 7500, "descend": {}}]},
     "does one of"),
    ({"events": [{"at_s": 5, "sensor": "w", "fail": {}}]}, "duration_s: is required"),
    ({"aircraft": [{"name": "A", "route": [[49, 6]], "altitude_ft": 1000,
                    "speed_kt": 200}]}, "at least two"),
    ({"aircraft": [{"name": "A", "route": [[49, 6], [49, 7]], "altitude_ft": 1000,
                    "speed_kt": 200, "icao24": "xyz"}]}, "six hex digits"),
])
def test_mistakes_say_what_to_fix(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(")):
        scene(**change)


values = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6)
                      | st.floats(allow_nan=True) | st.text(max_size=8),
                      lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["scenario", "duration_s", "seed", "traffic", "sensors", "aircraft",
                        "events", "volumes"]), values)
def test_any_value_anywhere_is_loaded_or_refused_with_a_config_error(key: str,
                                                                     value: object) -> None:
    try:
        parse_scenario(doc(**{key: value}), SHIPPED, "fuzz.yaml")
    except ConfigError as exc:
        assert str(exc)


@settings(max_examples=100, deadline=None)
@given(values)
def test_any_document_is_loaded_or_refused_with_a_config_error(value: object) -> None:
    with pytest.raises(ConfigError):
        parse_scenario(value, SHIPPED, "fuzz.yaml")
