"""Synthetic radars: the plots and north markers that primary and secondary
surveillance radars would make of synthetic traffic (:mod:`skyshare.synth.traffic`).

Each radar's antenna turns clockwise at a constant rate from a phase of its own: scan
``k`` starts when the beam crosses north at ``(k - phase) rotation_s``.  An aircraft
is detected whenever the beam sweeps its azimuth: found from the aircraft's azimuth at
the ends of the scan by interpolation and a regula falsi step (:meth:`Traffic.sample`
at each), which leaves a millidegree between beam and aircraft, even close to the
radar.  An aircraft crossing north against the beam is swept twice in one scan, one
crossing with it not at all: detections stay a rotation apart.

At the detection time, a target in coverage (:class:`~.sim_spec.RadarSpec`) gives a
primary detection with probability ``pd_psr`` and, if its transponder works, a
secondary one with ``pd_ssr``; either makes a plot.  I048/020 TYP is 1 (PSR), 2 (SSR)
or 3 (SSR + PSR) for a conventional radar and 1, 5 (Mode S roll-call) or 7 (roll-call
+ PSR) for a Mode S one.  Secondary plots carry the Mode 3/A code and the flight level
(Mode C: whole flight levels; Mode S: quarters, its 25 ft); Mode S ones the address
and identification too.  Range and azimuth get Gaussian noise.  Clutter: a Poisson
number of false primary plots a revolution, uniform in range and azimuth.

The geometry is the exact inverse of :func:`~skyshare.radar.geometry.polar_to_geodetic`:
slant range is the ECEF distance from the antenna, azimuth the target's bearing in the
antenna's local east-north-up frame, clockwise from north.  The aircraft's barometric
altitude is taken as its height above the ellipsoid (what a decoder assumes of a
flight level), so a noise-free plot converts back to the truth within millimetres.

Every random draw is a hash of (seed, radar, scan, aircraft slot, what), as in
:mod:`skyshare.synth.feed`: any split of a time span into :meth:`plots_between` calls
gives the same plots.  Speed (one core of a shared two-core machine): 2 radars
watching 1,000 aircraft, all in coverage, for an hour of simulated time (1.2 M plots)
take 2.7 s in one call; a live feed's 100-ms calls cost under a millisecond each (the
last scans are kept, so each scan is simulated once).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.decode.asterix.cat034 import NORTH_MARKER, SERVICE_DTYPE
from skyshare.decode.asterix.cat048 import PLOT_DTYPE, PlotFlag
from skyshare.errors import ConfigError
from skyshare.model import NO_ADDRESS, NO_SQUAWK
from skyshare.radar.geometry import geodetic_to_ecef
from skyshare.radar.sim_spec import MAX_RANGE_M, NM, RadarSpec
from skyshare.synth.traffic import Traffic, TrafficState, hash_uniform

__all__ = ["NM", "RadarSimulator", "RadarSpec", "SimPlots"]

F8 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int64]
FT: Final = 0.3048
DAY_S: Final = 86400.0
EARTH_RADIUS_M: Final = 6_371_000.0
"""Mean earth radius, for the refraction term only."""
BATCH_S: Final = 60.0
"""Scans are simulated in batches of about this much time (all aircraft at once)."""
BATCH_ROWS: Final = 200_000
_CACHED_SCANS: Final = 8
"""Scans kept per radar, so that short calls (a UDP feed's 100 ms) simulate each once."""


class _Stream(IntEnum):
    """What a hashed random number is for."""

    PHASE = 201
    PSR = 202
    SSR = 203
    NOISE_1 = 204
    NOISE_2 = 205
    CLUTTER_COUNT = 206
    CLUTTER_RANGE = 207
    CLUTTER_AZIMUTH = 208


@dataclass(frozen=True)
class SimPlots:
    """Simulated plots, one row each, sorted by time: the CAT048 columns and the truth."""

    plots: npt.NDArray[np.void]  # PLOT_DTYPE; ``tod``: UTC time of day of the detection
    time: F8  # UNIX s of the detection
    radar: I8  # index into the simulator's radars
    truth_slot: I8  # the traffic slot; -1: clutter
    truth_icao24: npt.NDArray[np.uint32]  # the aircraft's address, even without Mode S
    truth_lat: F8  # deg; the aircraft at ``time`` (NaN for clutter)
    truth_lon: F8
    truth_alt_ft: F8  # barometric altitude, taken as the height above the ellipsoid

    def __len__(self) -> int:
        return len(self.time)

    def take(self, index: npt.NDArray[np.int64] | npt.NDArray[np.bool_]) -> SimPlots:
        """The rows ``index`` selects."""
        return SimPlots(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @staticmethod
    def concat(parts: Sequence[SimPlots]) -> SimPlots:
        if not parts:
            return _empty_plots()
        return SimPlots(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                           for f in fields(SimPlots)})


def _empty_plots() -> SimPlots:
    f, i = np.zeros(0), np.zeros(0, np.int64)
    return SimPlots(np.zeros(0, PLOT_DTYPE), f, i, i, np.zeros(0, np.uint32), f, f, f)


@nb.njit(cache=True, nogil=True)
def _look(lat: F8, lon: F8, h: F8, lat0: float, lon0: float, h0: float, rho: F8,
          azimuth: F8, elevation: F8) -> None:
    """Slant range (m), azimuth and geometric elevation (deg) of points seen from the
    antenna at ``lat0``, ``lon0``, ``h0``: the inverse of ``polar_point``."""
    x0, y0, z0 = geodetic_to_ecef(lat0, lon0, h0)
    phi, lam = math.radians(lat0), math.radians(lon0)
    sp, cp, sl, cl = math.sin(phi), math.cos(phi), math.sin(lam), math.cos(lam)
    for i in range(len(lat)):
        x, y, z = geodetic_to_ecef(lat[i], lon[i], h[i])
        dx, dy, dz = x - x0, y - y0, z - z0
        east = -sl * dx + cl * dy
        north = -sp * cl * dx - sp * sl * dy + cp * dz
        up = cp * cl * dx + cp * sl * dy + sp * dz
        r = math.sqrt(dx * dx + dy * dy + dz * dz)
        rho[i] = r
        a = math.degrees(math.atan2(east, north))
        azimuth[i] = a - 360.0 * math.floor(a / 360.0)
        elevation[i] = math.degrees(math.asin(min(max(up / r, -1.0), 1.0))) if r > 0 else 90.0


def _poisson(mean: float, u: F8) -> I8:
    """Poisson(``mean``) counts by inversion of uniforms ``u``."""
    if mean <= 0.0:
        return np.zeros(len(u), np.int64)
    top = int(mean + 12.0 * math.sqrt(mean) + 20.0)
    k = np.arange(top + 1)
    log_pmf = -mean + k * math.log(mean) - np.array([math.lgamma(j + 1.0) for j in k])
    return np.minimum(np.searchsorted(np.cumsum(np.exp(log_pmf)), u, side="right"), top)


def _wrap180(deg: F8) -> F8:
    """Angles in [-180, 180) deg."""
    return (deg + 180.0) % 360.0 - 180.0


def _gaussian(seed: int, a: I8, b: I8) -> tuple[F8, F8]:
    """Two independent standard normals per (a, b) (Box-Muller on two hashed uniforms)."""
    r = np.sqrt(-2.0 * np.log(1.0 - hash_uniform(seed, a, b, _Stream.NOISE_1)))
    angle = 2.0 * np.pi * hash_uniform(seed, a, b, _Stream.NOISE_2)
    return r * np.cos(angle), r * np.sin(angle)


class RadarSimulator:
    """Plots and north markers of ``radars`` watching ``traffic`` (see the module).

    ``transponder_off`` maps an aircraft address to the UNIX time from which its
    transponder is silent: from then on only primary radars see it (so does
    :meth:`Traffic.set_transponder_off`, which the ADS-B feeds obey too).  ``exercise`` sets
    I048/020 SIM on every plot.  Not thread-safe: one caller at a time.
    """

    def __init__(self, traffic: Traffic, radars: Sequence[RadarSpec], seed: int = 0,
                 transponder_off: Mapping[int, float] | None = None,
                 exercise: bool = False) -> None:
        if not radars:
            raise ConfigError("at least one radar is needed", where="radars")
        seen: dict[int, str] = {}
        for spec in radars:
            if spec.ident in seen:
                raise ConfigError(f"radars {seen[spec.ident]!r} and {spec.name!r} have the "
                                  f"same SAC/SIC {spec.sac}/{spec.sic}", where="radars")
            seen[spec.ident] = spec.name
        self.traffic = traffic
        self.radars = tuple(radars)
        self.seed = int(seed)
        self.exercise = exercise
        off = dict(transponder_off or {})
        order = sorted(off)
        self._off_address = np.array(order, np.int64)
        self._off_time = np.array([float(off[a]) for a in order], np.float64)
        self._phase = np.array([hash_uniform(self.seed, r.ident, -1, _Stream.PHASE)[0]
                                for r in self.radars])
        self._cache: OrderedDict[tuple[int, int], SimPlots] = OrderedDict()

    # -- scans
    def _scans(self, r: int, t0: float, t1: float) -> I8:
        """Scan numbers of radar ``r`` that may hold detections in [t0, t1) (one more
        each side: the bounds are computed in floating point)."""
        period, phase = self.radars[r].rotation_s, self._phase[r]
        return np.arange(math.floor(t0 / period + phase) - 1,
                         math.ceil(t1 / period + phase) + 1, dtype=np.int64)

    def _scan_start(self, r: int, k: I8) -> F8:
        return (k.astype(np.float64) - float(self._phase[r])) * self.radars[r].rotation_s

    def scan_starts(self, t0: float, t1: float) -> tuple[F8, I8]:
        """(UNIX time, radar index) of every north crossing in [t0, t1), by time."""
        times, radar = [], []
        for r in range(len(self.radars)):
            start = self._scan_start(r, self._scans(r, t0, t1))
            start = start[(start >= t0) & (start < t1)]
            times.append(start)
            radar.append(np.full(len(start), r, np.int64))
        t, rad = np.concatenate(times), np.concatenate(radar)
        order = np.lexsort((rad, t))
        return t[order], rad[order]

    def north_markers_between(self, t0: float, t1: float) -> npt.NDArray[np.void]:
        """CAT034 north markers (SERVICE_DTYPE, ``record`` -1) of every revolution that
        starts in [t0, t1), by time (the order of :meth:`scan_starts`)."""
        times, radar = self.scan_starts(t0, t1)
        out = np.zeros(len(times), SERVICE_DTYPE)
        out["record"], out["message_type"] = -1, NORTH_MARKER
        out["tod"] = np.mod(times, DAY_S)
        out["sector_deg"] = np.nan
        for field, attr in (("sac", "sac"), ("sic", "sic"), ("rotation_s", "rotation_s"),
                            ("lat", "lat"), ("lon", "lon"), ("height_m", "alt_m")):
            out[field] = np.array([getattr(s, attr) for s in self.radars])[radar]
        return out

    # -- plots
    def plots_between(self, t0: float, t1: float) -> SimPlots:
        """Every plot detected in [t0, t1) by any radar (clutter included), by time
        (then radar, then slot)."""
        if not t1 > t0:
            return _empty_plots()
        per_batch = max(1, min(BATCH_ROWS // self.traffic.n,
                               int(BATCH_S / min(s.rotation_s for s in self.radars))))
        batches = []  # (start time, radar, scans): simulated in time order
        for r in range(len(self.radars)):
            ks = self._scans(r, t0, t1)
            for i in range(0, len(ks), per_batch):
                part = ks[i:i + per_batch]
                batches.append((float(self._scan_start(r, part[:1])[0]), r, part))
        batches.sort(key=lambda b: (b[0], b[1]))
        parts = [self._batch(r, ks) for _, r, ks in batches]
        got = SimPlots.concat(parts)
        got = got.take((got.time >= t0) & (got.time < t1))
        return got.take(np.lexsort((got.truth_slot, got.radar, got.time)))

    def _batch(self, r: int, ks: I8) -> SimPlots:
        """The plots of scans ``ks`` of radar ``r`` (from the cache when it holds them)."""
        if len(ks) > _CACHED_SCANS:
            return self._simulate(r, ks)[0]
        missing = np.array([k for k in ks if (r, int(k)) not in self._cache], np.int64)
        if len(missing):
            plots, scan = self._simulate(r, missing)
            for k in missing:
                self._cache[(r, int(k))] = plots.take(scan == k)
            while len(self._cache) > _CACHED_SCANS * len(self.radars):
                self._cache.popitem(last=False)
        return SimPlots.concat([self._cache[(r, int(k))] for k in ks])

    def _look(self, r: int, state: TrafficState) -> tuple[F8, F8, F8]:
        spec = self.radars[r]
        n = len(state)
        rho, azimuth, elevation = np.empty(n), np.empty(n), np.empty(n)
        _look(state.lat, state.lon, state.alt_baro * FT, spec.lat, spec.lon, spec.alt_m,
              rho, azimuth, elevation)
        return rho, azimuth, elevation

    def _simulate(self, r: int, ks: I8) -> tuple[SimPlots, I8]:
        """(plots, scan number of each) of scans ``ks`` of radar ``r``, all aircraft."""
        spec = self.radars[r]
        scan, slot, second, t, state, (rho, azimuth, elevation) = self._crossings(r, ks)
        if spec.refraction:
            elevation = elevation + np.degrees(rho / (2.0 * EARTH_RADIUS_M) * 0.25)
        key = scan * 65536 + spec.ident  # hashed with the crossing: (radar, scan, slot, j)
        crossing = 2 * slot + second
        seen = (rho <= spec.range_m) & (elevation >= spec.min_elevation_deg)
        psr = seen & spec.psr & (hash_uniform(self.seed, key, crossing, _Stream.PSR)
                                 < spec.pd_psr)
        ssr = (seen & self._transponder_on(state.icao24, t)
               & (hash_uniform(self.seed, key, crossing, _Stream.SSR) < spec.pd_ssr))
        rows = np.flatnonzero(psr | ssr)
        plots = self._plots(r, t[rows], rho[rows], azimuth[rows], psr[rows], ssr[rows],
                            state, rows, key[rows], crossing[rows], slot[rows])
        clutter, clutter_scan = self._clutter(r, ks)
        return SimPlots.concat([plots, clutter]), np.concatenate([scan[rows], clutter_scan])

    def _crossings(self, r: int, ks: I8) -> tuple[I8, I8, I8, F8, TrafficState,
                                                  tuple[F8, F8, F8]]:
        """When the beam of radar ``r`` sweeps each aircraft during scans ``ks``: (scan,
        slot, 0 or 1 (the second time in the scan), time, the aircraft then, and their
        range, azimuth and elevation).

        With ``a`` the aircraft's azimuth (unwrapped from the scan's start) and ``b``
        the beam's (0 to 360 deg over the scan), the beam sweeps the aircraft where
        ``F = a - b`` is a multiple of 360 deg.  ``F`` falls from ``a`` in [0, 360) to
        about ``a - 360``: once past 0 for most aircraft, not at all for one crossing
        north with the beam (the beam met it just before the scan began), and a second
        time past -360 for one crossing north against the beam.  Each sweep is found
        from the ends of the scan by linear interpolation then one regula falsi step
        (a millidegree between beam and aircraft left, even close to the radar).
        Assumes an aircraft turns less than 180 deg around the radar in a scan."""
        period, n = self.radars[r].rotation_s, self.traffic.n
        edges = np.unique(np.concatenate([ks, ks + 1]))  # scans whose start is sampled
        at_edges = np.repeat(self._scan_start(r, edges), n)
        edge_az = self._look(r, self.traffic.sample(np.tile(np.arange(n), len(edges)),
                                                    at_edges))[1].reshape(len(edges), n)
        a_start = edge_az[np.searchsorted(edges, ks)].ravel()
        turn = _wrap180(edge_az[np.searchsorted(edges, ks + 1)].ravel() - a_start)
        once = np.flatnonzero(a_start + turn < 360.0)
        twice = np.flatnonzero(a_start + turn < 0.0)
        rows = np.concatenate([once, twice])
        second = np.repeat(np.array([0, 1], np.int64), [len(once), len(twice)])
        scan = np.repeat(ks, n)[rows]
        slot = np.tile(np.arange(n, dtype=np.int64), len(ks))[rows]
        start, a0 = self._scan_start(r, scan), a_start[rows]
        f_start = a0 + 360.0 * second  # F - 360 j at the ends of the scan: >= 0, < 0
        f_end = f_start + turn[rows] - 360.0
        t = start + f_start / (f_start - f_end) * period
        look = self._look(r, self.traffic.sample(slot, t))
        f = a0 + _wrap180(look[1] - a0) - 360.0 * (t - start) / period + 360.0 * second
        after = f > 0.0  # the sweep is later: bracket it with the end of the scan
        t_other = np.where(after, start + period, start)
        f_other = np.where(after, f_end, f_start)
        t = t - f * (t - t_other) / np.where(f != 0.0, f - f_other, 1.0)
        state = self.traffic.sample(slot, t)
        return scan, slot, second, t, state, self._look(r, state)

    def _transponder_on(self, icao24: npt.NDArray[np.uint32], t: F8) -> npt.NDArray[np.bool_]:
        silent = self.traffic.transponder_silent(icao24, t)  # switched off on the traffic
        if not len(self._off_address):
            return ~silent
        at = np.minimum(np.searchsorted(self._off_address, icao24), len(self._off_address) - 1)
        off: npt.NDArray[np.bool_] = (self._off_address[at] == icao24) & (t >= self._off_time[at])
        return ~(off | silent)

    def _plots(self, r: int, t: F8, rho: F8, azimuth: F8, psr: npt.NDArray[np.bool_],
               ssr: npt.NDArray[np.bool_], state: TrafficState, rows: I8, key: I8,
               crossing: I8, slot: I8) -> SimPlots:
        spec = self.radars[r]
        out = self._plot_rows(r, t)
        if spec.mode_s:
            out["typ"] = np.where(ssr, np.where(psr, 7, 5), 1)
            out["icao24"] = np.where(ssr, state.icao24[rows], NO_ADDRESS)
            out["callsign"] = np.where(ssr, state.callsign[rows], b"")
            step = 0.25  # Mode S altitude: 25 ft
        else:
            out["typ"] = np.where(ssr, np.where(psr, 3, 2), 1)
            step = 1.0  # Mode C: 100 ft
        out["squawk"] = np.where(ssr, state.squawk[rows], NO_SQUAWK)
        fl = np.rint(state.alt_baro[rows] / 100.0 / step) * step
        out["fl"] = np.where(ssr, fl, np.nan)
        z_range, z_azimuth = _gaussian(self.seed, key, crossing)
        out["range_m"] = np.clip(rho + spec.range_sigma_m * z_range, 0.0, MAX_RANGE_M)
        out["azimuth_deg"] = np.mod(azimuth + spec.azimuth_sigma_deg * z_azimuth, 360.0)
        return SimPlots(out, t, np.full(len(t), r, np.int64), slot, state.icao24[rows],
                        state.lat[rows], state.lon[rows], state.alt_baro[rows])

    def _plot_rows(self, r: int, t: F8) -> npt.NDArray[np.void]:
        """PLOT_DTYPE rows of radar ``r`` at ``t``: a primary plot with nothing else."""
        spec = self.radars[r]
        out = np.zeros(len(t), PLOT_DTYPE)
        out["record"], out["sac"], out["sic"], out["typ"] = -1, spec.sac, spec.sic, 1
        out["tod"] = np.mod(t, DAY_S)
        out["flags"] = PlotFlag.SIMULATED if self.exercise else 0
        out["squawk"], out["icao24"], out["track_number"] = NO_SQUAWK, NO_ADDRESS, -1
        out["fl"], out["groundspeed_kt"], out["heading_deg"] = np.nan, np.nan, np.nan
        return out

    def _clutter(self, r: int, ks: I8) -> tuple[SimPlots, I8]:
        """False primary plots of scans ``ks``, and the scan of each."""
        spec = self.radars[r]
        if not spec.psr or spec.clutter_per_scan <= 0.0:
            return _empty_plots(), np.zeros(0, np.int64)
        key = ks * 65536 + spec.ident
        count = _poisson(spec.clutter_per_scan,
                         hash_uniform(self.seed, key, -1, _Stream.CLUTTER_COUNT))
        scan, key = np.repeat(ks, count), np.repeat(key, count)
        j = np.arange(len(scan)) - np.repeat(np.cumsum(count) - count, count)
        azimuth = 360.0 * hash_uniform(self.seed, key, j, _Stream.CLUTTER_AZIMUTH)
        rho = spec.range_m * (1.0 - hash_uniform(self.seed, key, j, _Stream.CLUTTER_RANGE))
        t = self._scan_start(r, scan) + azimuth / 360.0 * spec.rotation_s
        out = self._plot_rows(r, t)
        out["range_m"], out["azimuth_deg"] = rho, azimuth
        nan = np.full(len(t), np.nan)
        return SimPlots(out, t, np.full(len(t), r, np.int64), np.full(len(t), -1, np.int64),
                        np.full(len(t), NO_ADDRESS, np.uint32), nan, nan, nan), scan
