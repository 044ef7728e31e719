"""Exercise scenarios: one YAML file says who takes part, what they sense, what flies
and what happens when.

Example (``scenarios/lost-transponder-crossing.yaml`` is a complete one)::

    scenario: lost-transponder-crossing
    title: Lost transponder, airliner crossing two partners
    duration_s: 300                    # exercise time, run in real time
    seed: 7
    regions: regions.geojson           # who answers where (GeoJSON, "partner" property)
    volumes: [restricted.openair]      # optional airspace (OpenAir or GeoJSON)
    traffic:                           # background: flights between real airports
      aircraft: 120
      region: [46.0, 2.0, 53.0, 16.0]  # south, west, north, east
    sensors:
      - name: central-adsb
        partner: central
        type: adsb                     # adsb (format beast or avr) | radar (ASTERIX)
        format: beast
        position: [49.8, 8.8, 150]     # lat, lon, antenna height (m)
      - name: central-radar
        partner: central
        type: radar
        position: [49.8, 8.8, 150]
        radar: {range_m: 222000, mode_s: true}   # any simulator setting (RadarSpec)
    aircraft:                          # scripted aircraft
      - name: LOST
        callsign: DLH9LT
        squawk: 2301
        route: [[49.9, 6.0], [49.9, 12.5]]   # [lat, lon] waypoints, flown in order
        altitude_ft: 35000
        speed_kt: 450
    events:
      - {at_s: 60, aircraft: LOST, transponder: "off"}
      - {at_s: 30, aircraft: HIJACK, squawk: 7500}
      - {at_s: 60, aircraft: HIJACK, deviate: {heading_deg: 200}}   # or {to: [lat, lon]}
      - {at_s: 90, aircraft: HIJACK, deviate: {volume: ED-R1}}      # into a volume
      - {at_s: 90, aircraft: FALL, descend: {rate_fpm: 8000, to_ft: 4000}}
      - {at_s: 120, sensor: central-adsb, fail: {duration_s: 90}}
      - {at_s: 120, sensor: west-adsb, degrade: {duration_s: 90, loss: 0.7, garbage: 0.2}}

Times are seconds from the start of the exercise.  Paths are relative to the scenario
file.  Loading checks everything (names, references, ranges) and says what to fix;
nothing is started before the whole file is known to be good.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import yaml

from skyshare.airspace import Regions, Volume, load_region_files, load_volumes
from skyshare.errors import ConfigError
from skyshare.radar.sim_spec import RadarSpec

SensorType = Literal["adsb", "radar"]
EMERGENCY: Final = (7500, 7600, 7700)
MAX_DURATION_S: Final = 6 * 3600.0


@dataclass(frozen=True)
class ScenarioSensor:
    """A simulated sensor of one partner, injected into that partner's node."""

    name: str
    partner: str
    type: SensorType
    format: str  # beast | avr (adsb), asterix (radar)
    lat: float
    lon: float
    alt_m: float = 0.0
    loss: float = 0.0  # adsb: fraction of frames lost at random
    radar: RadarSpec | None = None  # the simulator's settings (radar)


@dataclass(frozen=True)
class ScriptedAircraft:
    """An aircraft whose flight the scenario writes: waypoints flown at one level and
    speed from ``start_s`` (before the first waypoint, it is not there yet)."""

    name: str
    icao24: int
    callsign: str
    squawk: int
    route: tuple[tuple[float, float], ...]
    altitude_ft: float
    speed_kt: float
    start_s: float = 0.0
    category: int = 0xA3  # large aircraft


@dataclass(frozen=True)
class AircraftEvent:
    """Something a scripted aircraft does at ``at_s``.

    ``kind``: ``transponder`` (``value`` 0 off, 1 on), ``squawk`` (``value`` the code),
    ``deviate`` (``heading_deg`` or ``to`` a point; a volume is resolved to its centre
    on loading), ``descend`` (``value`` ft/min down, ``to_ft`` the level it stops at).
    """

    at_s: float
    aircraft: str
    kind: Literal["transponder", "squawk", "deviate", "descend"]
    value: float = math.nan
    heading_deg: float | None = None
    to: tuple[float, float] | None = None
    to_ft: float = 0.0
    volume: str | None = None  # the volume a deviation heads into, by id
    deadline_s: float | None = None


@dataclass(frozen=True)
class SensorEvent:
    """A sensor failing (nothing at all) or degraded (frames lost, garbage among the
    rest) from ``at_s`` for ``duration_s``."""

    at_s: float
    sensor: str
    kind: Literal["fail", "degrade"]
    duration_s: float
    loss: float = 1.0
    garbage: float = 0.0  # degrade: bytes of noise per good byte sent
    deadline_s: float | None = None

    @property
    def end_s(self) -> float:
        return self.at_s + self.duration_s


@dataclass(frozen=True)
class Background:
    aircraft: int = 0
    region: tuple[float, float, float, float] | None = None  # south, west, north, east


@dataclass(frozen=True)
class Scenario:
    """A whole scenario, checked (see the module docstring for the file)."""

    name: str
    title: str
    description: str
    duration_s: float
    seed: int
    regions: Regions
    region_files: tuple[Path, ...]
    volumes: tuple[Volume, ...]
    volume_files: tuple[Path, ...]
    background: Background
    sensors: tuple[ScenarioSensor, ...]
    aircraft: tuple[ScriptedAircraft, ...]
    aircraft_events: tuple[AircraftEvent, ...] = field(default=())
    sensor_events: tuple[SensorEvent, ...] = field(default=())
    source: str = ""

    @property
    def partners(self) -> tuple[str, ...]:
        return self.regions.partners

    def sensor(self, name: str) -> ScenarioSensor:
        return next(s for s in self.sensors if s.name == name)


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; ConfigError saying where and what otherwise."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the scenario ({exc.strerror})", where=str(path)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", where=str(path)) from exc
    return parse_scenario(doc, path.parent, str(path))


def parse_scenario(doc: object, base: Path, source: str = "<scenario>") -> Scenario:
    """A scenario from its YAML document; ``base`` is the folder paths are relative to."""
    top = _mapping(doc, source)
    _known(top, {"scenario", "title", "description", "duration_s", "seed", "regions",
                 "volumes", "traffic", "sensors", "aircraft", "events"}, source)
    name = _text(top, "scenario", source)
    duration = _number(top, "duration_s", source, 10.0, MAX_DURATION_S)
    region_files = _paths(top.get("regions"), base, f"{source}: regions")
    if not region_files:
        raise ConfigError("regions: names the GeoJSON file of the partners' regions "
                          "(features with a 'partner' property)", where=source)
    regions = load_region_files(region_files)
    volume_files = _paths(top.get("volumes", []), base, f"{source}: volumes")
    volumes = tuple(load_volumes(volume_files))
    sensors = _sensors(top.get("sensors"), regions.partners, f"{source}: sensors")
    aircraft = _aircraft_list(top.get("aircraft", []), f"{source}: aircraft")
    a_events, s_events = _events(top.get("events", []), aircraft, sensors, volumes, duration,
                                 f"{source}: events")
    return Scenario(
        name=name, title=str(top.get("title", name)),
        description=str(top.get("description", "")).strip(), duration_s=duration,
        seed=_integer(top, "seed", source, 0), regions=regions, region_files=region_files,
        volumes=volumes, volume_files=volume_files,
        background=_background(top.get("traffic", {}), f"{source}: traffic"),
        sensors=sensors, aircraft=aircraft, aircraft_events=a_events, sensor_events=s_events,
        source=source)


# -- sections
def _background(raw: object, where: str) -> Background:
    top = _mapping(raw or {}, where)
    _known(top, {"aircraft", "region"}, where)
    region = None
    if top.get("region") is not None:
        box = _floats(top["region"], 4, f"{where}.region")
        if not (-90 <= box[0] < box[2] <= 90 and -180 <= box[1] < box[3] <= 180):
            raise ConfigError(f"region {list(box)} is not [south, west, north, east]",
                              where=f"{where}.region")
        region = (box[0], box[1], box[2], box[3])
    return Background(aircraft=_integer(top, "aircraft", where, 0, 0, 20_000), region=region)


def _sensors(raw: object, partners: tuple[str, ...], where: str) -> tuple[ScenarioSensor, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("sensors: lists the simulated sensors (at least one)", where=where)
    out: list[ScenarioSensor] = []
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        s = _mapping(item, here)
        _known(s, {"name", "partner", "type", "format", "position", "loss", "radar"}, here)
        name = _text(s, "name", here)
        if any(o.name == name for o in out):
            raise ConfigError(f"sensor name {name!r} is used twice", where=here)
        partner = _text(s, "partner", here)
        if partner not in partners:
            raise ConfigError(f"partner {partner!r} has no region; the regions name "
                              f"{', '.join(partners)}", where=here)
        kind = s.get("type", "adsb")
        if kind not in ("adsb", "radar"):
            raise ConfigError(f"type {kind!r} is not adsb or radar", where=here)
        pos = _floats(s.get("position"), None, f"{here}.position")
        if len(pos) not in (2, 3) or not (-90 <= pos[0] <= 90 and -180 <= pos[1] <= 180):
            raise ConfigError("position must be [lat, lon] or [lat, lon, height m]",
                              where=f"{here}.position")
        alt = pos[2] if len(pos) == 3 else 0.0
        fmt = s.get("format", "beast" if kind == "adsb" else "asterix")
        if (kind == "adsb") != (fmt in ("beast", "avr")) or fmt not in ("beast", "avr",
                                                                         "asterix"):
            raise ConfigError(f"format {fmt!r} does not suit a {kind} sensor (adsb: beast or "
                              "avr; radar: asterix)", where=here)
        radar = None
        if kind == "radar":
            settings = _mapping(s.get("radar") or {}, f"{here}.radar")
            try:
                radar = RadarSpec(**{"sac": 0, "sic": i + 1, **settings, "name": name,
                                     "lat": pos[0], "lon": pos[1], "alt_m": alt})
            except TypeError as exc:
                raise ConfigError(f"unknown radar setting ({exc})", where=f"{here}.radar") \
                    from exc
        elif "radar" in s:
            raise ConfigError("radar: belongs to type: radar sensors", where=here)
        loss = _number(s, "loss", here, 0.0, 1.0, default=0.0)
        out.append(ScenarioSensor(name=name, partner=partner, type=kind, format=str(fmt),
                                  lat=pos[0], lon=pos[1], alt_m=alt, loss=loss, radar=radar))
    return tuple(out)


def _aircraft_list(raw: object, where: str) -> tuple[ScriptedAircraft, ...]:
    if not isinstance(raw, list):
        raise ConfigError("aircraft: is a list of scripted aircraft", where=where)
    out: list[ScriptedAircraft] = []
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        a = _mapping(item, here)
        _known(a, {"name", "callsign", "icao24", "squawk", "route", "altitude_ft",
                   "speed_kt", "start_s", "category"}, here)
        name = _text(a, "name", here)
        if any(o.name == name for o in out):
            raise ConfigError(f"aircraft name {name!r} is used twice", where=here)
        route = tuple(_point(p, f"{here}.route[{k}]")
                      for k, p in enumerate(_list(a.get("route"), f"{here}.route")))
        if len(route) < 2:
            raise ConfigError("route: needs at least two [lat, lon] waypoints", where=here)
        callsign = str(a.get("callsign", name)).upper()
        if not (1 <= len(callsign) <= 8 and callsign.isalnum()):
            raise ConfigError(f"callsign {callsign!r} must be 1-8 letters and digits",
                              where=here)
        out.append(ScriptedAircraft(
            name=name, icao24=_address(a.get("icao24"), 0xE00000 + i + 1, f"{here}.icao24"),
            callsign=callsign, squawk=_squawk(a.get("squawk", 1000), f"{here}.squawk"),
            route=route, altitude_ft=_number(a, "altitude_ft", here, 500.0, 60_000.0),
            speed_kt=_number(a, "speed_kt", here, 60.0, 700.0),
            start_s=_number(a, "start_s", here, -3600.0, MAX_DURATION_S, default=0.0),
            category=_category(a.get("category", "A3"), f"{here}.category")))
    addresses = [a.icao24 for a in out]
    if len(set(addresses)) != len(addresses):
        raise ConfigError("two scripted aircraft share an icao24 address", where=where)
    return tuple(out)


def _events(raw: object, aircraft: tuple[ScriptedAircraft, ...],
            sensors: tuple[ScenarioSensor, ...], volumes: tuple[Volume, ...], duration: float,
            where: str) -> tuple[tuple[AircraftEvent, ...], tuple[SensorEvent, ...]]:
    if not isinstance(raw, list):
        raise ConfigError("events: is a list", where=where)
    a_names = {a.name for a in aircraft}
    s_names = {s.name for s in sensors}
    a_out: list[AircraftEvent] = []
    s_out: list[SensorEvent] = []
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        e = _mapping(item, here)
        at = _number(e, "at_s", here, 0.0, duration)
        deadline = (_number(e, "deadline_s", here, 1.0, MAX_DURATION_S)
                    if "deadline_s" in e else None)
        if "sensor" in e:
            _known(e, {"at_s", "sensor", "fail", "degrade", "deadline_s"}, here)
            name = str(e["sensor"])
            if name not in s_names:
                raise ConfigError(f"no sensor {name!r}; sensors: {', '.join(sorted(s_names))}",
                                  where=here)
            s_out.append(_sensor_event(e, at, name, deadline, here))
            continue
        _known(e, {"at_s", "aircraft", "transponder", "squawk", "deviate", "descend",
                   "deadline_s"}, here)
        name = str(e.get("aircraft", ""))
        if name not in a_names:
            raise ConfigError(f"an event names a sensor: or an aircraft: of the scenario "
                              f"({', '.join(sorted(a_names | s_names))}), not {name!r}",
                              where=here)
        a_out.append(_aircraft_event(e, at, name, deadline, volumes, here))
    return (tuple(sorted(a_out, key=lambda x: x.at_s)),
            tuple(sorted(s_out, key=lambda x: x.at_s)))


def _aircraft_event(e: Mapping[str, Any], at: float, name: str, deadline: float | None,
                    volumes: tuple[Volume, ...], where: str) -> AircraftEvent:
    actions = [k for k in ("transponder", "squawk", "deviate", "descend") if k in e]
    if len(actions) != 1:
        raise ConfigError("an aircraft event does one of transponder:, squawk:, deviate:, "
                          "descend:", where=where)
    kind = actions[0]
    value = e[kind]
    if kind == "transponder":
        state = {"off": 0.0, "on": 1.0, False: 0.0, True: 1.0}.get(value)
        if state is None:
            raise ConfigError(f"transponder: is off or on, not {value!r}", where=where)
        return AircraftEvent(at, name, "transponder", state, deadline_s=deadline)
    if kind == "squawk":
        return AircraftEvent(at, name, "squawk", float(_squawk(value, f"{where}.squawk")),
                             deadline_s=deadline)
    if kind == "descend":
        d = _mapping(value, f"{where}.descend")
        _known(d, {"rate_fpm", "to_ft"}, f"{where}.descend")
        return AircraftEvent(at, name, "descend",
                             _number(d, "rate_fpm", f"{where}.descend", 100.0, 30_000.0),
                             to_ft=_number(d, "to_ft", f"{where}.descend", 0.0, 60_000.0,
                                           default=0.0), deadline_s=deadline)
    d = _mapping(value, f"{where}.deviate")
    _known(d, {"heading_deg", "to", "volume"}, f"{where}.deviate")
    if len(d) != 1:
        raise ConfigError("deviate: takes one of heading_deg:, to: [lat, lon], volume: ID",
                          where=f"{where}.deviate")
    if "heading_deg" in d:
        heading = _number(d, "heading_deg", f"{where}.deviate", 0.0, 360.0)
        return AircraftEvent(at, name, "deviate", heading_deg=heading % 360.0,
                             deadline_s=deadline)
    if "to" in d:
        return AircraftEvent(at, name, "deviate", to=_point(d["to"], f"{where}.deviate.to"),
                             deadline_s=deadline)
    ident = str(d["volume"])
    volume = next((v for v in volumes if v.id == ident), None)
    if volume is None:
        raise ConfigError(f"no volume {ident!r} in the scenario's volumes: files",
                          where=f"{where}.deviate")
    centre = volume.geometry.representative_point()
    return AircraftEvent(at, name, "deviate", to=(float(centre.y), float(centre.x)),
                         volume=ident, deadline_s=deadline)


def _sensor_event(e: Mapping[str, Any], at: float, name: str, deadline: float | None,
                  where: str) -> SensorEvent:
    actions = [k for k in ("fail", "degrade") if k in e]
    if len(actions) != 1:
        raise ConfigError("a sensor event is one of fail: or degrade:", where=where)
    kind = actions[0]
    d = _mapping(e[kind] or {}, f"{where}.{kind}")
    _known(d, {"duration_s"} | ({"loss", "garbage"} if kind == "degrade" else set()),
           f"{where}.{kind}")
    duration = _number(d, "duration_s", f"{where}.{kind}", 1.0, MAX_DURATION_S)
    if kind == "fail":
        return SensorEvent(at, name, "fail", duration, deadline_s=deadline)
    return SensorEvent(at, name, "degrade", duration,
                       loss=_number(d, "loss", f"{where}.degrade", 0.0, 1.0, default=0.5),
                       garbage=_number(d, "garbage", f"{where}.degrade", 0.0, 10.0,
                                       default=0.0),
                       deadline_s=deadline)


# -- values
def _mapping(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"expected a mapping, not {type(raw).__name__}", where=where)
    return raw


def _list(raw: object, where: str) -> list[Any]:
    if not isinstance(raw, list):
        raise ConfigError("expected a list", where=where)
    return raw


def _known(raw: Mapping[str, Any], keys: set[str], where: str) -> None:
    unknown = set(map(str, raw)) - keys
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}; expected some of {sorted(keys)}",
                          where=where)


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}: must be a non-empty text", where=where)
    return value.strip()


def _number(raw: Mapping[str, Any], key: str, where: str, low: float, high: float,
            default: float | None = None) -> float:
    value = raw.get(key, default)
    if value is None:
        raise ConfigError(f"{key}: is required (a number from {low:g} to {high:g})",
                          where=where)
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            math.isfinite(value) and low <= value <= high):
        raise ConfigError(f"{key}: must be a number from {low:g} to {high:g}, not {value!r}",
                          where=where)
    return float(value)


def _integer(raw: Mapping[str, Any], key: str, where: str, default: int, low: int = 0,
             high: int = 2**31) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{key}: must be an integer from {low} to {high}, not {value!r}",
                          where=where)
    return value


def _floats(raw: object, count: int | None, where: str) -> tuple[float, ...]:
    if not isinstance(raw, list | tuple) or (count is not None and len(raw) != count):
        size = f"{count} numbers" if count else "numbers"
        raise ConfigError(f"expected a list of {size}, not {raw!r}", where=where)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
               for v in raw):
        raise ConfigError(f"{raw!r} holds something that is not a finite number", where=where)
    return tuple(float(v) for v in raw)


def _point(raw: object, where: str) -> tuple[float, float]:
    lat, lon = _floats(raw, 2, where)
    if not (-85 <= lat <= 85 and -180 <= lon <= 180):
        raise ConfigError(f"[{lat}, {lon}] is not a [lat, lon] point", where=where)
    return lat, lon


def _squawk(raw: object, where: str) -> int:
    text = f"{raw:04d}" if isinstance(raw, int) and not isinstance(raw, bool) else str(raw)
    if len(text) != 4 or any(c not in "01234567" for c in text):
        raise ConfigError(f"squawk {raw!r} is not four octal digits", where=where)
    return int(text)


def _address(raw: object, default: int, where: str) -> int:
    if raw is None:
        return default
    try:
        value = int(str(raw), 16)
    except ValueError:
        value = -1
    if not 0 < value < 0xFFFFFF or len(str(raw)) != 6:
        raise ConfigError(f"icao24 {raw!r} is not six hex digits", where=where)
    return value


def _category(raw: object, where: str) -> int:
    text = str(raw).upper()
    if len(text) != 2 or text[0] not in "ABCD" or text[1] not in "01234567":
        raise ConfigError(f"category {raw!r} is not an emitter category like A3", where=where)
    return int(text, 16)


def _paths(raw: object, base: Path, where: str) -> tuple[Path, ...]:
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(p, str) and p for p in items):
        raise ConfigError("expected a path or a list of paths", where=where)
    paths = tuple((base / str(p)).resolve() for p in items)
    for p in paths:
        if not p.is_file():
            raise ConfigError(f"no such file {p}", where=where)
    return paths
