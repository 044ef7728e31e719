from __future__ import annotations

import re
from pathlib import Path

import pytest

from skyshare.config import load_config, parse_hostport
from skyshare.errors import AddressError, ConfigError


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:30005", ("127.0.0.1", 30005)),
    ("30005", ("127.0.0.1", 30005)),
    (":30003", ("127.0.0.1", 30003)),
    ("rx.example:30002", ("rx.example", 30002)),
    ("[::1]:30005", ("::1", 30005)),
])
def test_parse_hostport(text: str, expected: tuple[str, int]) -> None:
    assert parse_hostport(text) == expected


@pytest.mark.parametrize("text", ["host:", "host:abc", "host:0", "host:70000", ""])
def test_parse_hostport_errors_say_what_is_expected(text: str) -> None:
    with pytest.raises(AddressError, match="expected HOST:PORT"):
        parse_hostport(text)


def test_load_config_reads_sensors_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "node.yaml"
    path.write_text("""
node: {name: toulouse, http: 0.0.0.0:9000, data_dir: var/t, reference: [43.6, 1.4]}
sensors:
  - {name: roof, format: beast, connect: 10.0.0.2:30005, position: [43.6, 1.44, 150]}
  - {name: push, format: beast, listen: 31005}
  - {name: base, format: sbs, connect: 30003}
tracker: {confirm_messages: 3, coast_after_s: 20}
map: {tile_url: "https://tiles.example.org/{z}/{x}/{y}.png", attribution: "© Example"}
""")
    cfg = load_config(path)
    assert cfg.name == "toulouse"
    assert (cfg.http_host, cfg.http_port) == ("0.0.0.0", 9000)
    assert cfg.reference == (43.6, 1.4)
    roof, push, base = cfg.sensors
    assert (roof.mode, roof.host, roof.port, roof.lat, roof.alt_m) == (
        "connect", "10.0.0.2", 30005, 43.6, 150.0)
    assert (push.mode, push.host, push.port, push.index) == ("listen", "0.0.0.0", 31005, 1)
    assert (base.format, base.port) == ("sbs", 30003)
    assert cfg.tracker.confirm_messages == 3
    assert cfg.tracker.coast_after_s == 20.0
    assert cfg.map.tile_url == "https://tiles.example.org/{z}/{x}/{y}.png"
    assert cfg.map.attribution == "© Example"
    assert load_config(_write(tmp_path, "other.yaml", "node: {name: x}")).map.tile_url is None


def _write(folder: Path, name: str, text: str) -> Path:
    (folder / name).write_text(text)
    return folder / name


@pytest.mark.parametrize(("text", "message"), [
    ("sensors: [{format: beest, connect: 1}]", "format 'beest' is not one of"),
    ("sensors: [{format: beast}]", "exactly one of connect"),
    ("sensors: [{connect: 'h:x'}]", "port 'x' is not a number"),
    ("sensors: [{connect: 1, position: [95, 0]}]", "outside lat"),
    ("sensors: [{connect: 1, colour: red}]", "unknown keys"),
    ("sensors: [{name: a, connect: 1}, {name: a, connect: 2}]", "used twice"),
    ("tracker: {confirm_mesages: 3}", "unknown keys"),
    ("tracker: {confirm_messages: 1}", "confirm_messages"),
    ("nodes: {}", "unknown sections"),
    ("map: {tile_url: 'tiles/{z}/{x}/{y}.png'}", "must start with http"),
    ("map: {tile_url: 'https://t.example/{z}/{x}.png'}", "lacks {y}"),
    ("map: {tiles: x}", "unknown keys"),
    ("node: [1, 2", "not valid YAML"),
])
def test_config_errors_name_the_file_and_the_problem(tmp_path: Path, text: str,
                                                     message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


def test_alerts_airspace_and_auth_sections(tmp_path: Path) -> None:
    (tmp_path / "zones").mkdir()
    path = tmp_path / "node.yaml"
    path.write_text("""
node: {name: toulouse, partner: south}
airspace:
  volumes: [zones/a.openair, zones/b.geojson]
  regions: regions.geojson
alerts:
  lookahead_s: 90
  unexpected_squawks: [7000, 2000]
  restricted_kinds: [restricted]
  confirm_updates: 3
  escalate_after_s: [60, 240]
  handover_on_crossing: false
  coverage_nm: 150
auth: {users: users.sqlite, anonymous_read: false}
""")
    cfg = load_config(path)
    assert cfg.partner == "south"
    # paths are relative to the configuration file, not to where the node starts
    assert cfg.airspace.volumes == (tmp_path / "zones/a.openair", tmp_path / "zones/b.geojson")
    assert cfg.airspace.regions == (tmp_path / "regions.geojson",)
    a = cfg.alerts
    assert a.rules.lookahead_s == 90.0 and a.rules.unexpected_squawks == frozenset({7000, 2000})
    assert a.rules.restricted_kinds == frozenset({"restricted"})
    assert a.engine.confirm_updates == 3 and a.coverage_nm == 150.0
    assert a.workflow.escalate_after_s == (60.0, 240.0) and not a.workflow.handover_on_crossing
    assert cfg.auth.users == tmp_path / "users.sqlite" and cfg.auth.anonymous_read is False


@pytest.mark.parametrize(("text", "message"), [
    ("alerts: {lookahed_s: 90}", "unknown key 'lookahed_s'"),
    ("alerts: {partner: x}", "unknown key 'partner'"),  # set by node.partner only
    ("alerts: {confirm_updates: many}", "alerts.confirm_updates"),
    ("alerts: {handover_on_crossing: 1}", "is not true or false"),
    ("alerts: {escalate_after_s: [60, soon]}", "alerts.escalate_after_s"),
    ("airspace: {zones: a.txt}", "unknown keys ['zones']"),
    ("auth: {anonymous: true}", "unknown keys ['anonymous']"),
])
def test_alerts_config_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "node.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)


def test_readiness_section(tmp_path: Path) -> None:
    path = tmp_path / "node.yaml"
    path.write_text("readiness:\n  silent_after_s: 120\n  coverage_bands_ft: [5000, 20000]\n"
                    "  alerts: false\n", encoding="utf-8")
    cfg = load_config(path).readiness
    assert cfg.silent_after_s == 120 and cfg.coverage_bands_ft == (5000.0, 20000.0)
    assert cfg.alerts is False and cfg.window_s == 60  # the rest keeps its default


@pytest.mark.parametrize(("text", "message"), [
    ("readiness: {silent_after_s: 0}", "readiness.silent_after_s: must be a positive"),
    ("readiness: {max_error_ratio: 2}", "readiness.max_error_ratio: must be a share"),
    ("readiness: {coverage_bearing_deg: 7}", "readiness.coverage_bearing_deg: must divide"),
    ("readiness: {coverage_bands_ft: [9000, 3000]}", "coverage_bands_ft: must be increasing"),
    ("readiness: {silence: 3}", "unknown keys ['silence']"),
])
def test_readiness_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "node.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)
