"""Small scenarios for the exercise tests, built as YAML documents (inputs)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from skyshare.exercise.scenario import Scenario, parse_scenario

SHIPPED = Path(str(resources.files("skyshare") / "data" / "scenarios"))


def doc(**changes: Any) -> dict[str, Any]:
    """A two-partner scenario (the shipped regions), one scripted aircraft flying east
    along 49.6 N across the 7 E border, with ``changes`` applied at the top level."""
    base: dict[str, Any] = {
        "scenario": "test", "duration_s": 240, "seed": 5, "regions": "regions.geojson",
        "volumes": ["airspace.openair"],
        "sensors": [
            {"name": "w", "partner": "west", "type": "adsb", "position": [49.3, 5.2, 100]},
            {"name": "e", "partner": "east", "type": "adsb", "format": "avr",
             "position": [49.9, 9.0, 150]},
            {"name": "r", "partner": "east", "type": "radar", "position": [49.5, 7.6, 300],
             "radar": {"range_m": 222000, "clutter_per_scan": 0.0}}],
        "aircraft": [{"name": "A", "callsign": "TST1", "icao24": "abc123", "squawk": 2000,
                      "route": [[49.6, 6.5], [49.6, 9.0]], "altitude_ft": 35000,
                      "speed_kt": 450}],
        "events": []}
    base.update(changes)
    return base


def scene(**changes: Any) -> Scenario:
    return parse_scenario(doc(**changes), SHIPPED, "test.yaml")
