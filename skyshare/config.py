"""Node configuration: one YAML file, or the same things from command-line flags.

Every setting has a default that just works (``skyshare run`` with no file starts a
node with no sensors, serving on 127.0.0.1:8080); the YAML file overrides only what it
names.  Loading is explicit (:func:`load_config`); nothing is read at import time.

Example (``skyshare run node.yaml``)::

    node:
      name: toulouse
      partner: south                  # answers for alerts outside every region
      http: 127.0.0.1:8080
      data_dir: var/toulouse
      reference: [43.63, 1.37]        # lat, lon: CPR reference when a sensor has none
    sensors:
      - name: roof
        format: beast                 # beast | avr | sbs | jsonl
        connect: 127.0.0.1:30005      # or listen: 30005, or file: recording.beast
        position: [43.60, 1.44, 150]  # lat, lon, altitude in metres
      - name: radar-north             # an ASTERIX radar (CAT048 plots, CAT034 service)
        format: asterix
        udp: 8600                     # datagrams to this port
        position: [43.70, 1.40, 180]  # antenna: lat, lon, height above WGS-84 (m)
        radar: {sigma_range_m: 40, sigma_azimuth_deg: 0.07, rotation_s: 4}
      - name: exercise-north          # an exercise injector's feed: all of it EXERCISE
        format: beast
        listen: 31005
        exercise: true
    map:                              # optional online basemap (default: offline only)
      tile_url: https://tile.openstreetmap.org/{z}/{x}/{y}.png
      attribution: © OpenStreetMap contributors
    tracker:
      confirm_messages: 2
      coast_after_s: 15
      delete_after_s: 60
    outputs:                          # the picture as ASTERIX CAT062 system tracks
      - cat062: 10.0.0.5:8600         # UDP HOST:PORT
        sac: 25
        sic: 1
        interval_s: 1
    radar_tracker:                    # aircraft no address identifies (primary radar)
      confirm_hits: 3                 # M plots within N turns (confirm_scans) or clutter
      confirm_scans: 4
    airspace:                         # paths relative to this file
      volumes: [restricted.openair]
      regions: regions.geojson        # which partner answers where
    alerts:                           # rules, engine and workflow settings, flat
      lookahead_s: 120
      escalate_after_s: [120, 300]
    auth: {anonymous_read: true}      # users: <data_dir>/users.sqlite by default
    readiness:                        # sensor health thresholds (skyshare.readiness.settings)
      silent_after_s: 30              # nothing received this long: "Sensor silent"
      max_error_ratio: 0.1            # more erroneous input than this: "Sensor degraded"
    federation:                       # see skyshare.share.settings (paths relative to this file)
      agreements: [agreements/]
      nats: [tls://127.0.0.1:4222]
      credentials: creds/toulouse.json
      public_keys: keys/
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml

from skyshare.alerts.engine import EngineConfig
from skyshare.alerts.rules import RulesConfig
from skyshare.alerts.service import AlertsConfig
from skyshare.alerts.workflow import WorkflowConfig
from skyshare.config_fields import PATH, PATHS, coordinates
from skyshare.errors import AddressError, ConfigError
from skyshare.fusion.radar_tracker import RadarTrackerConfig
from skyshare.fusion.tracker import TrackerConfig
from skyshare.outputs import Cat062Output, output_from_mapping
from skyshare.radar.plots import RadarSite
from skyshare.readiness.settings import ReadinessConfig
from skyshare.share.settings import FederationConfig
from skyshare.sources.base import SensorSpec
from skyshare.sources.detect import FORMATS, Format

T = TypeVar("T")

DEFAULT_PORTS: dict[str, int] = {"avr": 30002, "sbs": 30003, "beast": 30005}


@dataclass(frozen=True)
class SyntheticConfig:
    """A built-in synthetic receiver: generated traffic served as Beast on loopback."""

    aircraft: int = 300
    seed: int = 1
    region: tuple[float, float, float, float] | None = field(
        default=None, metadata={"convert": coordinates(4)})  # lat_min, lon_min, lat_max, lon_max
    receiver: tuple[float, float] | None = field(
        default=None, metadata={"convert": coordinates(2)})
    """[lat, lon] of the simulated antenna: only aircraft above its radio horizon are
    heard (None: every airborne aircraft)."""
    start_time: float | None = field(default=None, metadata={"convert": lambda v, _: float(v)})
    """UNIX time the traffic starts from (None: when the node starts).  Nodes with the same
    seed, aircraft, region and start time simulate the same aircraft at the same places."""
    incident_every_s: float = 0.0  # an emergency squawk this often (0: never)
    incident_duration_s: float = 180.0  # how long each lasts
    transponder_incidents: tuple[float, float, float] | None = field(
        default=None, metadata={"convert": coordinates(3)})
    """[lat, lon, radius NM]: every other incident, an aircraft within this circle
    switches its transponder off (put it where a radar sees; None: never)."""
    radar: tuple[float, float, float] | None = field(
        default=None, metadata={"convert": coordinates(3)})
    """[lat, lon, antenna height m] of a simulated Mode S + primary radar watching the same
    traffic, sending CAT048/CAT034 over UDP to the node (None: no radar)."""


@dataclass(frozen=True)
class MapConfig:
    """The live map's optional online basemap (the offline one needs nothing)."""

    tile_url: str | None = None  # XYZ raster template: https://…/{z}/{x}/{y}.png
    attribution: str = ""  # shown on the map when tiles are used (their licence asks it)


def check_tile_url(url: str, where: str) -> str:
    """``url`` if it is an http(s) XYZ template with {z}, {x} and {y}."""
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"tile URL {url!r} must start with http:// or https://", where=where)
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in url]
    if missing:
        raise ConfigError(f"tile URL {url!r} lacks {', '.join(missing)}; expected an XYZ "
                          "template such as https://tile.example.org/{z}/{x}/{y}.png",
                          where=where)
    return url


@dataclass(frozen=True)
class AirspaceConfig:
    """Where the node's airspace volumes and responsibility regions are read from."""

    volumes: tuple[Path, ...] = field(default=(), metadata=PATHS)  # OpenAir or GeoJSON files
    regions: tuple[Path, ...] = field(default=(), metadata=PATHS)  # GeoJSON: who answers where


@dataclass(frozen=True)
class AuthConfig:
    """Who may use the node's API and map."""

    users: Path | None = field(default=None, metadata=PATH)  # None: <data_dir>/users.sqlite
    anonymous_read: bool = True  # the picture and alerts readable without logging in


@dataclass(frozen=True)
class NodeConfig:
    name: str = "skyshare"
    partner: str | None = None  # the partner this node belongs to (None: its name)
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    data_dir: Path = Path("var/skyshare")
    reference: tuple[float, float] | None = None
    sensors: tuple[SensorSpec, ...] = ()
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    radar_tracker: RadarTrackerConfig = field(default_factory=RadarTrackerConfig)
    synthetic: SyntheticConfig | None = None
    map: MapConfig = field(default_factory=MapConfig)
    airspace: AirspaceConfig = field(default_factory=AirspaceConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    readiness: ReadinessConfig = field(default_factory=ReadinessConfig)
    federation: FederationConfig | None = None  # None: a node on its own
    outputs: tuple[Cat062Output, ...] = ()  # the picture as ASTERIX CAT062 over UDP
    pipeline_interval_s: float = 0.05  # how often queued frames are decoded and fused
    pipeline_max_interval_s: float = 0.25  # ... at the least, when the CPU is short
    picture_interval_s: float = 1.0  # how often the picture and its change stream refresh


def parse_hostport(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``PORT`` -> (host, port); IPv6 as ``[::1]:30005``."""
    text = text.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "", text
    host = host.strip("[]") or default_host
    try:
        port = int(port_text)
    except ValueError:
        raise AddressError(text, f"port {port_text!r} is not a number") from None
    if not 0 < port < 65536:
        raise AddressError(text, f"port {port} is out of range 1-65535")
    return host, port


def sensor_from_mapping(raw: dict[str, Any], index: int, where: str) -> SensorSpec:
    """One entry of the ``sensors:`` list -> :class:`SensorSpec`."""
    known = {"name", "format", "connect", "listen", "udp", "file", "position", "radar",
             "exercise"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}; expected {sorted(known)}", where=where)
    fmt = raw.get("format", "beast")
    if fmt not in FORMATS:
        raise ConfigError(f"format {fmt!r} is not one of {', '.join(FORMATS)}", where=where)
    modes = [m for m in ("connect", "listen", "udp", "file") if m in raw]
    if len(modes) != 1:
        raise ConfigError("give exactly one of connect: HOST:PORT, listen: PORT, "
                          "udp: PORT (ASTERIX), file: PATH", where=where)
    mode = modes[0]
    host, port, path = "127.0.0.1", 0, None
    if mode == "file":
        path = str(raw["file"])
    else:
        try:
            default_host = "127.0.0.1" if mode == "connect" else "0.0.0.0"
            host, port = parse_hostport(str(raw[mode]), default_host)
        except AddressError as exc:
            raise ConfigError(str(exc), where=where) from exc
    lat = lon = alt = None
    if "position" in raw:
        pos = raw["position"]
        if not isinstance(pos, list | tuple) or len(pos) not in (2, 3):
            raise ConfigError("position must be [lat, lon] or [lat, lon, alt_m]", where=where)
        try:
            lat, lon = float(pos[0]), float(pos[1])
            alt = float(pos[2]) if len(pos) == 3 else None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"position {pos!r} is not numeric", where=where) from exc
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ConfigError(f"position {pos!r} is outside lat -90..90, lon -180..180",
                              where=where)
    if mode == "udp" and fmt != "asterix":
        raise ConfigError(f"udp: is for ASTERIX sensors (format: asterix), not {fmt}",
                          where=where)
    radar = _radar_site(raw, fmt, lat, lon, alt, where)
    name = str(raw.get("name", f"{fmt}-{index}"))
    exercise = raw.get("exercise", False)
    if not isinstance(exercise, bool):
        raise ConfigError(f"exercise: must be true or false, not {exercise!r}", where=where)
    return SensorSpec(name=name, index=index, format=cast(Format, fmt), mode=mode,
                      host=host, port=port, path=path, lat=lat, lon=lon, alt_m=alt,
                      radar=radar, exercise=exercise)


def _radar_site(raw: dict[str, Any], fmt: str, lat: float | None, lon: float | None,
                alt: float | None, where: str) -> RadarSite | None:
    """An ASTERIX sensor's radar: ``position:`` plus the ``radar:`` noise settings
    (None without a position: CAT034 I034/120 may tell it)."""
    if "radar" in raw and fmt != "asterix":
        raise ConfigError("radar: belongs to ASTERIX sensors (format: asterix)", where=where)
    settings = raw.get("radar") or {}
    if not isinstance(settings, dict):
        raise ConfigError("radar: must be a mapping (sigma_range_m, sigma_azimuth_deg, "
                          "rotation_s)", where=where)
    if fmt != "asterix":
        return None
    if lat is None or lon is None:
        if settings:
            raise ConfigError("a radar needs its position: [lat, lon, antenna height m]",
                              where=where)
        return None
    site: RadarSite = dataclass_from_mapping(
        RadarSite, {"lat": lat, "lon": lon, "alt_m": alt or 0.0, **settings},
        f"{where}: radar")
    return site


def dataclass_from_mapping(cls: type[T], raw: object, where: str, base: Path = Path()) -> T:
    """A frozen settings dataclass from a YAML mapping.

    Each value is converted by the field's ``metadata["convert"](value, base)`` when it
    has one (paths relative to ``base``, the configuration file's folder: :data:`PATH`,
    :data:`PATHS`; fixed-length coordinates), else to the type of the field's default
    (numbers, booleans, strings, lists as tuples or frozensets).  Unknown keys and
    values that do not convert are a ConfigError naming the key."""
    if not isinstance(raw, dict):
        raise ConfigError("must be a mapping", where=where)
    defaults = cls()
    fields_ = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(raw) - set(fields_)
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}; expected {sorted(fields_)}",
                          where=where)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        convert = fields_[key].metadata.get("convert")
        if convert is None:
            values[key] = _convert(getattr(defaults, key), value, f"{where}.{key}")
        elif value is not None:
            try:
                values[key] = convert(value, base)
            except (TypeError, ValueError) as exc:
                raise ConfigError(str(exc), where=f"{where}.{key}") from exc
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc), where=where) from exc
    except ConfigError as exc:
        raise ConfigError(str(exc), where=where) from exc


def _convert(default: object, value: object, where: str) -> object:
    try:
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{value!r} is not true or false")
            return value
        if isinstance(default, tuple | frozenset):
            items = value if isinstance(value, list | tuple) else [value]
            kind: Any = type(next(iter(default))) if default else (
                int if all(type(v) is int for v in items) else
                float if all(isinstance(v, int | float) for v in items) else str)
            return type(default)(kind(v) for v in items)
        if isinstance(default, int | float | str):
            if isinstance(value, list | dict | bool) or value is None:
                raise ValueError(f"{value!r} is not a {type(default).__name__}")
            return type(default)(value)  # type: ignore[arg-type,call-overload]
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc), where=where) from exc
    raise ConfigError("cannot be set from the configuration file", where=where)


def config_from_mapping(raw: dict[str, Any], source: str = "<config>") -> NodeConfig:
    """Validate a parsed YAML document into a :class:`NodeConfig`."""
    known = {"node", "sensors", "tracker", "radar_tracker", "synthetic", "map", "airspace",
             "alerts", "auth", "federation", "outputs", "readiness"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"unknown sections {sorted(unknown)}; expected {sorted(known)}",
                          where=source)
    node = raw.get("node") or {}
    if not isinstance(node, dict):
        raise ConfigError("'node' must be a mapping", where=source)
    kwargs: dict[str, Any] = {}
    if "name" in node:
        kwargs["name"] = str(node["name"])
    if "http" in node:
        try:
            kwargs["http_host"], kwargs["http_port"] = parse_hostport(str(node["http"]))
        except AddressError as exc:
            raise ConfigError(str(exc), where=f"{source}: node.http") from exc
    if "partner" in node:
        kwargs["partner"] = str(node["partner"])
    if "data_dir" in node:
        kwargs["data_dir"] = Path(node["data_dir"])
    if "reference" in node:
        ref = node["reference"]
        if not isinstance(ref, list | tuple) or len(ref) != 2:
            raise ConfigError("reference must be [lat, lon]", where=f"{source}: node.reference")
        kwargs["reference"] = (float(ref[0]), float(ref[1]))
    sensors_raw = raw.get("sensors") or []
    if not isinstance(sensors_raw, list):
        raise ConfigError("'sensors' must be a list", where=source)
    sensors = []
    for i, entry in enumerate(sensors_raw):
        where = f"{source}: sensors[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError("each sensor must be a mapping", where=where)
        sensors.append(sensor_from_mapping(entry, i, where))
    check_unique_names(sensors, source)
    kwargs["sensors"] = tuple(sensors)
    outputs_raw = raw.get("outputs") or []
    if not isinstance(outputs_raw, list):
        raise ConfigError("'outputs' must be a list", where=source)
    kwargs["outputs"] = tuple(output_from_mapping(o, f"{source}: outputs[{i}]", parse_hostport)
                              for i, o in enumerate(outputs_raw))
    if raw.get("radar_tracker"):
        kwargs["radar_tracker"] = dataclass_from_mapping(
            RadarTrackerConfig, raw["radar_tracker"], f"{source}: radar_tracker")
    if raw.get("tracker"):
        kwargs["tracker"] = dataclass_from_mapping(TrackerConfig, raw["tracker"],
                                                   f"{source}: tracker")
    base = Path(source).parent if source != "<config>" else Path()
    if raw.get("synthetic") is not None:
        kwargs["synthetic"] = dataclass_from_mapping(SyntheticConfig, raw["synthetic"] or {},
                                                     f"{source}: synthetic")
    if raw.get("map") is not None:
        kwargs["map"] = _map_from_mapping(raw["map"], f"{source}: map")
    for key, cls in (("airspace", AirspaceConfig), ("auth", AuthConfig),
                     ("federation", FederationConfig), ("readiness", ReadinessConfig)):
        if raw.get(key) is not None:
            kwargs[key] = dataclass_from_mapping(cls, raw[key], f"{source}: {key}", base)
    if raw.get("alerts") is not None:
        kwargs["alerts"] = alerts_from_mapping(raw["alerts"], f"{source}: alerts")
    return NodeConfig(**kwargs)


_ALERT_PARTS: dict[str, type] = {"rules": RulesConfig, "engine": EngineConfig,
                                 "workflow": WorkflowConfig}


def alerts_from_mapping(raw: object, where: str) -> AlertsConfig:
    """The ``alerts:`` section: one flat mapping of rule, engine and workflow settings."""
    if not isinstance(raw, dict):
        raise ConfigError("'alerts' must be a mapping", where=where)
    own = {"coverage_nm", "interval_s"}
    split: dict[str, dict[str, Any]] = {part: {} for part in _ALERT_PARTS}
    hidden = {"volume_kinds", "partner"}  # set by the node: its airspace, node.partner
    for key, value in raw.items():
        if key in own:
            continue
        part = next((p for p, cls in _ALERT_PARTS.items() if key not in hidden
                     and key in {f.name for f in dataclasses.fields(cls)}), None)
        if part is None:
            names = sorted(own | {f.name for cls in _ALERT_PARTS.values()
                                  for f in dataclasses.fields(cls)} - hidden)
            raise ConfigError(f"unknown key {key!r}; expected one of {names}", where=where)
        split[part][key] = value
    parts: dict[str, Any] = {p: dataclass_from_mapping(cls, split[p], where)
                             for p, cls in _ALERT_PARTS.items()}
    top = dataclass_from_mapping(AlertsConfig, {k: raw[k] for k in own if k in raw}, where)
    return dataclasses.replace(top, rules=parts["rules"], engine=parts["engine"],
                               workflow=parts["workflow"])


def _map_from_mapping(raw: Any, where: str) -> MapConfig:
    if not isinstance(raw, dict):
        raise ConfigError("'map' must be a mapping", where=where)
    unknown = set(raw) - {"tile_url", "attribution"}
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}; expected ['attribution', "
                          "'tile_url']", where=where)
    url = raw.get("tile_url")
    return MapConfig(tile_url=check_tile_url(str(url), f"{where}.tile_url") if url else None,
                     attribution=str(raw.get("attribution") or ""))


def check_unique_names(sensors: list[SensorSpec], source: str) -> None:
    seen: set[str] = set()
    for s in sensors:
        if s.name in seen:
            raise ConfigError(f"sensor name {s.name!r} is used twice", where=source)
        seen.add(s.name)


def load_config(path: str | Path) -> NodeConfig:
    """Read and validate a YAML node configuration."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", where=str(path)) from exc
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", where=str(path)) from exc
    if not isinstance(raw, dict):
        raise ConfigError("the top level must be a mapping", where=str(path))
    return config_from_mapping(raw, str(path))
