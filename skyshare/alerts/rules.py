"""Detection rules: the picture's tracks in, the conditions that warrant an alert out.

Every rule is one vectorised pass over a :data:`TRACK_DTYPE` batch (no Python loop per
track) and yields rows of a :class:`Conditions` batch: which rule, which track, which
airspace volume (or -1), a value (the evidence in one number: seconds to entry, the
descent rate, ...) and the row of the track in the batch it was evaluated on, so the
alert engine can keep the triggering track state as evidence.

A condition is not yet an alert: the engine (``skyshare.alerts.engine``) raises an alert
when a condition holds on consecutive evaluations and clears it when it has been gone
for a while, which is where hysteresis lives.  Rules know nothing of workflow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from skyshare.airspace import EARTH_RADIUS_M, NM_M
from skyshare.model import NO_ADDRESS, NO_SQUAWK, Emergency, SourceKind, TrackBatch, TrackFlag


class Rule(IntEnum):
    """What a condition (and the alert raised from it) is about."""

    SQUAWK_7500 = 1  # unlawful interference
    SQUAWK_7600 = 2  # radio failure
    SQUAWK_7700 = 3  # general emergency
    ADSB_EMERGENCY = 4  # emergency/priority status broadcast (not implied by a squawk)
    TRANSPONDER_LOSS = 5  # silent on primary radar only, or stopped well inside coverage
    RESTRICTED_ENTRY = 6  # inside an active restricted volume
    RESTRICTED_WARNING = 7  # will enter one within the look-ahead
    UNIDENTIFIED = 8  # no address and no squawk, or a squawk not expected
    ABNORMAL_DESCENT = 9
    SENSOR_SILENT = 10  # readiness: a sensor delivered nothing for too long
    SENSOR_DEGRADED = 11  # readiness: errors, a fallen rate or a drifting clock


RULE_LABELS: Final = {
    Rule.SQUAWK_7500: "Squawk 7500: unlawful interference",
    Rule.SQUAWK_7600: "Squawk 7600: radio failure",
    Rule.SQUAWK_7700: "Squawk 7700: emergency",
    Rule.ADSB_EMERGENCY: "ADS-B emergency status",
    Rule.TRANSPONDER_LOSS: "Transponder lost inside coverage",
    Rule.RESTRICTED_ENTRY: "Inside a restricted volume",
    Rule.RESTRICTED_WARNING: "Heading into a restricted volume",
    Rule.UNIDENTIFIED: "Unidentified",
    Rule.ABNORMAL_DESCENT: "Abnormal descent",
    Rule.SENSOR_SILENT: "Sensor silent",
    Rule.SENSOR_DEGRADED: "Sensor degraded",
}
SENSOR_RULES: Final = frozenset({Rule.SENSOR_SILENT, Rule.SENSOR_DEGRADED})
"""Rules about a sensor of the node (:mod:`skyshare.alerts.sensors`), not a track."""
SQUAWK_RULES: Final = {7500: Rule.SQUAWK_7500, 7600: Rule.SQUAWK_7600, 7700: Rule.SQUAWK_7700}
# the emergency status a squawk already implies (DO-260B sets them together)
_IMPLIED: Final = {Emergency.UNLAWFUL_INTERFERENCE: 7500, Emergency.NO_COMMUNICATIONS: 7600,
                   Emergency.GENERAL: 7700}

CONDITION_DTYPE: Final = np.dtype([
    ("rule", "u1"),  # Rule
    ("track_id", "u4"),
    ("volume", "i4"),  # index into the airspace's volumes, -1 when none
    ("value", "f8"),  # the rule's measure: s to entry, ft/min, s since last position, ...
    ("row", "i8"),  # row of the track in the evaluated batch (the evidence)
])
Conditions = npt.NDArray[np.void]


class Airspace(Protocol):
    """The part of ``skyshare.airspace.VolumeSet`` the rules use."""

    def inside(self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64],
               alt: npt.NDArray[np.float32], alt_geo: npt.NDArray[np.float32], t: float
               ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]: ...

    def entering(self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64],
                 alt: npt.NDArray[np.float32], alt_geo: npt.NDArray[np.float32],
                 groundspeed_kt: npt.NDArray[np.float32], track_deg: npt.NDArray[np.float32],
                 vertical_rate_fpm: npt.NDArray[np.float32], t: float, horizon_s: float
                 ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp],
                            npt.NDArray[np.float64]]: ...


class Coverage(Protocol):
    """Where the node's sensors can see: how far inside their coverage a point is."""

    def depth_nm(self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64],
                 alt_ft: npt.NDArray[np.float64],
                 sensors: npt.NDArray[np.uint64] | None = None) -> npt.NDArray[np.float64]:
        """Distance (NM) from each point at ``alt_ft`` (NaN: unknown) to the edge of
        coverage; negative outside.  ``sensors``: per point, the bit mask of the
        sensors whose coverage counts (those that heard the aircraft); None: all."""
        ...


ObservedReach = Callable[[int, npt.NDArray[np.float64], npt.NDArray[np.float64],
                          npt.NDArray[np.float64]], npt.NDArray[np.float32]]
"""(sensor index, lat, lon, alt ft) -> how far that sensor has been seen to reach at
each point's bearing and altitude band (NM; 0: nothing seen there; for an unknown
altitude the least reach of the bands there)."""


HORIZON_NM_PER_SQRT_FT: Final = 1.23
"""Radio horizon over a 4/3 earth: 1.23 (sqrt(h1) + sqrt(h2)) NM for heights in feet."""
M_TO_FT: Final = 3.28084


def radio_horizon_nm(alt_ft: npt.ArrayLike, antenna_ft: float = 0.0) -> npt.NDArray[np.float64]:
    """How far a sensor with its antenna at ``antenna_ft`` sees an aircraft at
    ``alt_ft`` over smooth ground (4/3-earth refraction)."""
    alt = np.maximum(np.asarray(alt_ft, np.float64), 0.0)
    return HORIZON_NM_PER_SQRT_FT * (np.sqrt(alt) + np.sqrt(max(antenna_ft, 0.0)))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SensorRangeCoverage:
    """Coverage as seen from each sensor position (lat, lon): out to ``range_nm``, and
    no further than the radio horizon at the aircraft's altitude (an aircraft that
    descends below a receiver's horizon falls silent for it without losing its
    transponder).  ``antennas_ft``: each sensor's antenna height (missing: 0); an
    unknown altitude is given the whole ``range_nm``.

    ``indices``: each position's sensor index, the bit of a track's ``sensors`` mask
    (default 0, 1, ...): with ``sensors`` given, a point is judged only by the sensors
    that heard its aircraft, so an aircraft a partner alone reported, or a radar alone
    saw, is not declared lost inside a receiver's circle it never was heard in.
    ``working`` (when given) says, at each evaluation, which sensors work, by sensor
    index: a sensor that failed (disconnected, or silent for readiness) covers
    nothing.  ``observed`` (readiness' coverage outlines) caps each sensor's reach at
    how far it has actually been seen to reach at that bearing and altitude: a sensor
    covers only where it has seen aircraft in the last hour.
    """

    positions: tuple[tuple[float, float], ...]
    range_nm: float = 200.0
    antennas_ft: tuple[float, ...] = ()
    working: Callable[[], Sequence[bool]] | None = None
    indices: tuple[int, ...] = ()
    observed: ObservedReach | None = None

    def depth_nm(self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64],
                 alt_ft: npt.NDArray[np.float64],
                 sensors: npt.NDArray[np.uint64] | None = None) -> npt.NDArray[np.float64]:
        depth = np.full(len(lat), -np.inf)
        known = np.isfinite(alt_ft)
        working = list(self.working()) if self.working is not None else []
        for i, (s_lat, s_lon) in enumerate(self.positions):
            index = self.indices[i] if i < len(self.indices) else i
            if index < len(working) and not working[index]:
                continue
            heard = (np.ones(len(lat), bool) if sensors is None
                     else ((sensors >> np.uint64(index)) & np.uint64(1)).astype(bool))
            if not heard.any():
                continue
            antenna = self.antennas_ft[i] if i < len(self.antennas_ft) else 0.0
            reach = np.where(known, np.minimum(self.range_nm,
                                               radio_horizon_nm(np.where(known, alt_ft, 0.0),
                                                                antenna)),
                             self.range_nm)
            if self.observed is not None:
                reach = np.minimum(reach, self.observed(index, lat, lon, alt_ft))
            inside = reach - distance_nm(lat, lon, s_lat, s_lon)
            depth = np.maximum(depth, np.where(heard, inside, -np.inf))
        return depth


def distance_nm(lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64],
                lat0: float, lon0: float) -> npt.NDArray[np.float64]:
    """Great-circle distance (haversine, NM) from every (lat, lon) to (lat0, lon0)."""
    p1, p2 = np.radians(lat), np.radians(lat0)
    h = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon0 - lon) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0))) / NM_M  # type: ignore[no-any-return]


@dataclass(frozen=True)
class RulesConfig:
    """Rule settings (YAML ``alerts.rules:``); every field has a working default."""

    squawks: bool = True
    """7500 / 7600 / 7700 and the ADS-B emergency status."""
    restricted_kinds: frozenset[str] = frozenset({"restricted", "prohibited"})
    """Airspace classes whose entry raises an alert."""
    lookahead_s: float = 120.0
    """Warn of an entry predicted within this many seconds (0: no warning)."""
    unidentified: bool = True
    unexpected_squawks: frozenset[int] = frozenset()
    """Squawks that make a track unidentified (e.g. 7000 where conspicuity is not expected)."""
    descent_fpm: float = 6000.0
    """Abnormal descent: descending faster than this (ft/min)..."""
    descent_min_alt_ft: float = 1000.0
    """...while above this altitude (approaches descend at ~1,000 ft/min near the ground)."""
    loss_after_s: float = 20.0
    """Transponder loss: no position for this long..."""
    loss_depth_nm: float = 30.0
    """...while at least this far inside coverage (nearer the edge it is leaving coverage)..."""
    loss_min_alt_ft: float = 3000.0
    """...unless it was last seen below this altitude and not climbing: an aircraft on
    approach lands (and changes to surface messages) or goes below low-level coverage."""
    volume_kinds: tuple[str, ...] = field(default_factory=tuple)
    """The class of each airspace volume, by index (set by the engine from the airspace)."""


def evaluate(tracks: TrackBatch, now: float, config: RulesConfig,
             airspace: Airspace | None = None, coverage: Coverage | None = None) -> Conditions:
    """Every condition that holds for ``tracks`` at ``now`` (UNIX s)."""
    parts = [
        squawk_conditions(tracks) if config.squawks else _none(),
        unidentified_conditions(tracks, config) if config.unidentified else _none(),
        descent_conditions(tracks, config),
        transponder_loss_conditions(tracks, now, config, coverage),
        restricted_conditions(tracks, now, config, airspace),
    ]
    return np.concatenate(parts)


def _none() -> Conditions:
    return np.zeros(0, CONDITION_DTYPE)


def _conditions(rule: Rule | npt.NDArray[np.uint8], tracks: TrackBatch,
                rows: npt.NDArray[np.intp], value: npt.NDArray[np.float64] | float = np.nan,
                volume: npt.NDArray[np.intp] | int = -1) -> Conditions:
    out = np.zeros(len(rows), CONDITION_DTYPE)
    out["rule"] = rule
    out["track_id"] = tracks["track_id"][rows]
    out["volume"] = volume
    out["value"] = value
    out["row"] = rows
    return out


def squawk_conditions(tracks: TrackBatch) -> Conditions:
    """Emergency squawks, and an ADS-B emergency status the squawk does not already say."""
    squawk = tracks["squawk"].astype(np.int64)
    parts = []
    for code, rule in SQUAWK_RULES.items():
        parts.append(_conditions(rule, tracks, np.flatnonzero(squawk == code), float(code)))
    emergency = tracks["emergency"]
    implied = np.zeros(len(tracks), bool)
    for status, code in _IMPLIED.items():
        implied |= (emergency == status) & (squawk == code)
    rows = np.flatnonzero((emergency != Emergency.NONE) & ~implied)
    parts.append(_conditions(Rule.ADSB_EMERGENCY, tracks, rows, emergency[rows].astype(float)))
    return np.concatenate(parts)


def unidentified_conditions(tracks: TrackBatch, config: RulesConfig) -> Conditions:
    """No address and no squawk (a primary-radar-only target), or a squawk not expected."""
    squawk = tracks["squawk"].astype(np.int64)
    anonymous = (tracks["icao24"] == NO_ADDRESS) & (squawk == NO_SQUAWK)
    unexpected = np.isin(squawk, np.fromiter(config.unexpected_squawks, np.int64))
    rows = np.flatnonzero(anonymous | unexpected)
    return _conditions(Rule.UNIDENTIFIED, tracks, rows, squawk[rows].astype(float))


def descent_conditions(tracks: TrackBatch, config: RulesConfig) -> Conditions:
    """Descending faster than ``descent_fpm`` while airborne above ``descent_min_alt_ft``."""
    airborne = (tracks["flags"] & TrackFlag.ON_GROUND) == 0
    alt = np.where(np.isfinite(tracks["alt"]), tracks["alt"], tracks["alt_geo"])
    with np.errstate(invalid="ignore"):
        fast = (tracks["vertical_rate"] <= -config.descent_fpm) & (alt >= config.descent_min_alt_ft)
    rows = np.flatnonzero(airborne & fast)
    return _conditions(Rule.ABNORMAL_DESCENT, tracks, rows,
                       tracks["vertical_rate"][rows].astype(float))


def transponder_loss_conditions(tracks: TrackBatch, now: float, config: RulesConfig,
                                coverage: Coverage | None) -> Conditions:
    """Tracks that primary radar still sees while their transponder is silent
    (``PRIMARY_ONLY``, value NaN), and tracks with no position for ``loss_after_s``
    whose last one was deep in the coverage of the node's own sensors that heard them,
    at their last altitude (value: seconds since it), unless that was low and not
    climbing (``loss_min_alt_ft``: a landing).  A track no sensor of ours heard
    (a partner's alone) is its partner's to judge.

    Without a coverage model a silent track cannot be told from one that flew out of
    range, so only the first kind is raised.  Ground tracks are exempt (parked aircraft
    switch off).
    """
    airborne = (tracks["flags"] & TrackFlag.ON_GROUND) == 0
    primary = np.flatnonzero(airborne & (tracks["flags"] & TrackFlag.PRIMARY_ONLY != 0))
    seen = _conditions(Rule.TRANSPONDER_LOSS, tracks, primary, np.nan)
    if coverage is None:
        return seen
    silent = now - tracks["last_pos"] >= config.loss_after_s
    alt_all = np.where(np.isfinite(tracks["alt"]), tracks["alt"], tracks["alt_geo"])
    with np.errstate(invalid="ignore"):
        landing = (alt_all < config.loss_min_alt_ft) & ~(tracks["vertical_rate"] > 0)
    candidates = np.flatnonzero(silent & airborne & ~landing & np.isfinite(tracks["lat"]))
    if not len(candidates):
        return seen
    alt = alt_all[candidates]
    depth = coverage.depth_nm(tracks["lat"][candidates], tracks["lon"][candidates],
                              alt.astype(np.float64), tracks["sensors"][candidates])
    rows = candidates[depth >= config.loss_depth_nm]
    lost = _conditions(Rule.TRANSPONDER_LOSS, tracks, rows, now - tracks["last_pos"][rows])
    return np.concatenate([seen, lost])


def restricted_conditions(tracks: TrackBatch, now: float, config: RulesConfig,
                          airspace: Airspace | None) -> Conditions:
    """Inside an active restricted volume, or predicted to enter one within the look-ahead."""
    if airspace is None or not config.volume_kinds:
        return _none()
    watched = np.array([k in config.restricted_kinds for k in config.volume_kinds])
    if not watched.any():
        return _none()
    has_pos = np.flatnonzero(np.isfinite(tracks["lat"]))
    t = tracks[has_pos]
    rows, vols = airspace.inside(t["lat"], t["lon"], t["alt"], t["alt_geo"], now)
    keep = watched[vols]
    entry = _conditions(Rule.RESTRICTED_ENTRY, tracks, has_pos[rows[keep]], 0.0, vols[keep])
    if config.lookahead_s <= 0:
        return entry
    rows, vols, seconds = airspace.entering(
        t["lat"], t["lon"], t["alt"], t["alt_geo"], t["groundspeed"], t["track"],
        t["vertical_rate"], now, config.lookahead_s)
    keep = watched[vols]
    warning = _conditions(Rule.RESTRICTED_WARNING, tracks, has_pos[rows[keep]], seconds[keep],
                          vols[keep])
    return np.concatenate([entry, warning])


# source kinds that locate an aircraft independently of what its transponder says
INDEPENDENT_KINDS: Final = (SourceKind.RADAR_PSR, SourceKind.RADAR_SSR, SourceKind.MLAT,
                            SourceKind.PARTNER)


def verified(tracks: TrackBatch) -> npt.NDArray[np.bool_]:
    """Tracks corroborated by more than one sensor or by an independent source kind.

    An address heard by one receiver only could be spoofed (and Mode S replies to the
    same receiver come from the same transmitter); alerts from such tracks are still
    raised, but labelled unverified.
    """
    sensors = tracks["sensors"]
    several = (sensors & (sensors - np.uint64(1))) != 0  # more than one bit set
    mask = np.uint8(sum(1 << k for k in INDEPENDENT_KINDS))
    return several | ((tracks["sources"] & mask) != 0)  # type: ignore[no-any-return]
