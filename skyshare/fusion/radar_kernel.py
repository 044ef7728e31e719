"""The compiled loop of the radar tracker: frames of plots -> gating -> GNN -> IMM.

Plots come time-sorted; consecutive plots of one radar within ``frame_s`` form a
*frame* (a sector of the antenna's turn).  For each frame:

1. **gating**: every plot against every candidate -- the cooperative tracks of the
   address-keyed tracker (read-only, predicted at constant velocity) and the radar
   tracks (predicted by the IMM).  A pair must agree on EXERCISE, on the Mode 3/A code
   when both have one, on altitude within ``alt_gate_ft`` when both have one, and fall
   within ``gate_d2`` (Mahalanobis distance squared with the plot's own 2x2 noise);
   its cost is ``d2 + ln det S`` (the negative log-likelihood);
2. **assignment**: GNN (:mod:`.assign`), each plot to at most one candidate;
3. a plot assigned to a cooperative track is handed back with that track's address
   (the caller feeds it to the address-keyed tracker: one aircraft, one track, whatever
   sensors see it); one assigned to a radar track updates its IMM; one in no gate
   opens a tentative track; one in a gate but left over (a split plot) is dropped.

Kernels write into caller-owned arrays; the Python side (:mod:`.radar_tracker`) makes
room for every plot to open a track before calling, so the loop never runs out.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.fusion.assign import gnn
from skyshare.fusion.geo import convergence, project, rotate, scales, unproject, wrap_lon
from skyshare.fusion.imm import ImmScratch, combine, init_state, predict, update
from skyshare.fusion.measurements import KNOT, sensor_bit, source_bit
from skyshare.fusion.plots import FT, plot_height, plot_noise, plot_position
from skyshare.model import NO_SQUAWK, ReportFlag, TrackBatch, TrackFlag
from skyshare.radar.plots import PlotRow

F8 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int64]

# kin columns
REF_LAT: Final = 0
REF_LON: Final = 1
SCALE_N: Final = 2
SCALE_E: Final = 3
T: Final = 4  # s, time of the state
HITS: Final = 5  # plots taken
SCAN_S: Final = 6  # rotation period of the radar that last updated the track
N_KIN: Final = 7
# meta entries
NEXT_ID: Final = 0
FREE_TOP: Final = 1
LIVE: Final = 2
# stats
PLOTS: Final = 0
TO_COOPERATIVE: Final = 1
UPDATES: Final = 2
STARTED: Final = 3
CONFIRMED: Final = 4
UNUSED: Final = 5
BAD_PLOT: Final = 6
DROPPED_TENTATIVE: Final = 7
DELETED: Final = 8
ABSORBED: Final = 9
STAT_NAMES: Final = ("radar-plots", "radar-plots-to-cooperative", "radar-track-updates",
                     "radar-tracks-started", "radar-tracks-confirmed",
                     "radar-plots-unused", "radar-plots-bad", "radar-tentative-dropped",
                     "radar-tracks-deleted", "radar-tracks-absorbed")

REANCHOR_M: Final = 5000.0
M_PER_DEG: Final = 110_574.0  # the fewest metres in a degree of latitude (at the equator)
COARSE_MARGIN_M: Final = 20000.0  # on top of max speed x time, before the exact gate
_CONFIRMED: Final = int(TrackFlag.CONFIRMED)
_COASTING: Final = int(TrackFlag.COASTING)
_HAS_POSITION: Final = int(TrackFlag.HAS_POSITION)
_EXERCISE: Final = int(TrackFlag.EXERCISE)
_R_EXERCISE: Final = int(ReportFlag.EXERCISE)
_SPI: Final = int(TrackFlag.SPI)
_R_SPI: Final = int(ReportFlag.SPI)


class RadarArrays(NamedTuple):
    rec: TrackBatch
    kin: F8  # (cap, N_KIN)
    x: F8  # (cap, M, 4)
    p: F8  # (cap, M, 4, 4)
    mu: F8  # (cap, M)
    free: I8
    meta: I8


class RadarKernelParams(NamedTuple):
    frame_s: float
    gate_d2: float
    alt_gate_ft: float
    nominal_height_m: float
    max_speed_mps: float
    init_velocity_var: float
    tentative_gate_d2: float
    height_spread_m2: float  # (h + sigma_h) sigma_h of the assumed height (plot_noise)
    confirm_hits: int
    confirm_scans: float
    coast_scans: float
    delete_scans: float
    coop_q: float  # white acceleration density of the cooperative tracks' prediction
    coop_max_age_s: float
    omega: F8
    q: F8
    switch: F8


class CoopColumns(NamedTuple):
    """The cooperative tracks as the kernel reads them (one entry per track, sorted by
    latitude, so a plot looks only at the band of latitudes it may fall in)."""

    row: I8  # the track's row in the snapshot these columns were made from
    lat: F8
    lon: F8
    ve: F8  # m/s
    vn: F8
    t: F8  # time of the position
    var: F8  # m^2, per axis at ``t``
    vvar: F8  # m^2/s^2, per axis: how well the velocity is known
    alt: F8  # ft; NaN
    squawk: I8
    exercise: npt.NDArray[np.bool_]


@nb.njit(cache=True, nogil=True)
def _same_kind(plot_flags: int, plot_squawk: int, plot_alt: float, exercise: bool,
               squawk: int, alt: float, alt_rate_ft: float, p: RadarKernelParams) -> bool:
    if bool(plot_flags & _R_EXERCISE) != exercise:
        return False
    if plot_squawk != NO_SQUAWK and squawk != NO_SQUAWK and plot_squawk != squawk:
        return False
    return not (math.isfinite(plot_alt) and math.isfinite(alt)
                and abs(plot_alt - alt) > p.alt_gate_ft + alt_rate_ft)


@nb.njit(cache=True, nogil=True)
def _spread(r: PlotRow, track_alt: float, track_flags: int, p: RadarKernelParams) -> float:
    """The assumed-height spread of a plot placed with ``track_alt``: 0 for a known
    height, and for a tentative track (initiation stays as strict as the radar's own
    noise, or clutter near the radar, where the spread is widest, would grow tracks)."""
    if math.isfinite(r.alt) or math.isfinite(track_alt) or not track_flags & _CONFIRMED:
        return 0.0
    return p.height_spread_m2


@nb.njit(cache=True, nogil=True, inline="always")
def _coop_gate(r: PlotRow, base_lat: float, base_lon: float, lon_m: float,
               c: CoopColumns, j: int, p: RadarKernelParams) -> tuple[float, float, float]:
    """(cost, lat, lon) of a plot against cooperative track ``j``; cost inf: outside."""
    dt = r.time - c.t[j]
    if not (-5.0 <= dt <= p.coop_max_age_s):
        return math.inf, 0.0, 0.0
    # far apart: out at once (most pairs; no trigonometry).  ``lon_m``: the fewest
    # metres in a degree of longitude near the plot
    if (abs((base_lat - c.lat[j]) * M_PER_DEG - c.vn[j] * dt) > COARSE_MARGIN_M
            or abs(wrap_lon(base_lon - c.lon[j]) * lon_m - c.ve[j] * dt) > COARSE_MARGIN_M):
        return math.inf, 0.0, 0.0
    if not _same_kind(r.flags, r.squawk, r.alt, c.exercise[j], c.squawk[j], c.alt[j], 0.0,
                      p):
        return math.inf, 0.0, 0.0
    sn, se = scales(c.lat[j])
    pe, pn = c.ve[j] * dt, c.vn[j] * dt  # predicted offset from the last position
    ze, zn = project(base_lat, base_lon, c.lat[j], c.lon[j], sn, se)
    if abs(ze - pe) > COARSE_MARGIN_M or abs(zn - pn) > COARSE_MARGIN_M:
        return math.inf, 0.0, 0.0
    lat, lon = base_lat, base_lon
    if not math.isfinite(r.alt) and math.isfinite(c.alt[j]):
        lat, lon = plot_position(r, c.alt[j] * FT)
        ze, zn = project(lat, lon, c.lat[j], c.lon[j], sn, se)
    a = abs(dt)
    var = c.var[j] + c.vvar[j] * a * a + p.coop_q * a * a * a / 3.0
    ree, ren, rnn = plot_noise(r, _spread(r, c.alt[j], _CONFIRMED, p))
    s00, s01, s11 = var + ree, ren, var + rnn
    det = s00 * s11 - s01 * s01
    ve, vn = ze - pe, zn - pn
    d2 = (s11 * ve * ve - 2.0 * s01 * ve * vn + s00 * vn * vn) / det
    if not d2 <= p.gate_d2:
        return math.inf, 0.0, 0.0
    return d2 + math.log(det), lat, lon


@nb.njit(cache=True, nogil=True)
def _radar_gate(r: PlotRow, base_lat: float, base_lon: float, a: RadarArrays,
                slot: int, p: RadarKernelParams, s: ImmScratch) -> tuple[float, float, float]:
    """(cost, lat, lon) of a plot against radar track ``slot`` (cost inf: outside its
    gate), placed as it was gated (at the track's altitude when the plot has none)."""
    k, rec = a.kin[slot], a.rec[slot]
    dt = r.time - k[T]
    if dt < -1.0:
        return math.inf, 0.0, 0.0
    if not _same_kind(r.flags, r.squawk, r.alt, bool(rec.flags & _EXERCISE), rec.squawk,
                      rec.alt, 0.0, p):
        return math.inf, 0.0, 0.0
    ze, zn = project(base_lat, base_lon, k[REF_LAT], k[REF_LON], k[SCALE_N], k[SCALE_E])
    reach = p.max_speed_mps * abs(dt) + COARSE_MARGIN_M
    xe, xn = a.x[slot, 0, 0], a.x[slot, 0, 1]
    if abs(ze - xe) > reach or abs(zn - xn) > reach:
        return math.inf, 0.0, 0.0
    lat, lon = base_lat, base_lon
    if not math.isfinite(r.alt) and math.isfinite(rec.alt):
        lat, lon = plot_position(r, rec.alt * FT)
        ze, zn = project(lat, lon, k[REF_LAT], k[REF_LON], k[SCALE_N], k[SCALE_E])
    predict(a.x[slot], a.p[slot], a.mu[slot], max(dt, 0.0), p.omega, p.q, p.switch, s)
    combine(s.xp, s.pp, s.c, s.xc, s.pc)
    ree, ren, rnn = plot_noise(r, _spread(r, rec.alt, rec.flags, p))
    s00, s01, s11 = s.pc[0, 0] + ree, s.pc[0, 1] + ren, s.pc[1, 1] + rnn
    det = s00 * s11 - s01 * s01
    if not det > 0.0:
        return math.inf, 0.0, 0.0
    ve, vn = ze - s.xc[0], zn - s.xc[1]
    d2 = (s11 * ve * ve - 2.0 * s01 * ve * vn + s00 * vn * vn) / det
    if not d2 <= (p.gate_d2 if rec.flags & _CONFIRMED else p.tentative_gate_d2):
        return math.inf, 0.0, 0.0
    return float(d2 + math.log(det)), lat, lon


@nb.njit(cache=True, nogil=True)
def _reanchor(a: RadarArrays, slot: int) -> None:
    k = a.kin[slot]
    m = a.x.shape[1]
    e = n = 0.0
    for j in range(m):
        e += a.mu[slot, j] * a.x[slot, j, 0]
        n += a.mu[slot, j] * a.x[slot, j, 1]
    if abs(e) <= REANCHOR_M and abs(n) <= REANCHOR_M:
        return
    lat0, lon0 = k[REF_LAT], k[REF_LON]
    lat, lon = unproject(e, n, lat0, lon0, k[SCALE_N], k[SCALE_E])
    turn = convergence(lat0, lon0, lat, lon)
    sn, se = scales(lat)
    for j in range(m):
        la, lo = unproject(a.x[slot, j, 0], a.x[slot, j, 1], lat0, lon0, k[SCALE_N],
                           k[SCALE_E])
        a.x[slot, j, 0], a.x[slot, j, 1] = project(la, lo, lat, lon, sn, se)
        a.x[slot, j, 2], a.x[slot, j, 3] = rotate(a.x[slot, j, 2], a.x[slot, j, 3], turn)
    k[REF_LAT], k[REF_LON], k[SCALE_N], k[SCALE_E] = lat, lon, sn, se


@nb.njit(cache=True, nogil=True)
def publish(a: RadarArrays, slot: int, s: ImmScratch) -> None:
    """Rewrite a radar track's row from its IMM state."""
    k, rec = a.kin[slot], a.rec[slot]
    combine(a.x[slot], a.p[slot], a.mu[slot], s.xc, s.pc)
    rec.lat, rec.lon = unproject(s.xc[0], s.xc[1], k[REF_LAT], k[REF_LON], k[SCALE_N],
                                 k[SCALE_E])
    ve, vn = s.xc[2], s.xc[3]
    rec.groundspeed = math.hypot(ve, vn) / KNOT
    rec.track = math.degrees(math.atan2(ve, vn)) % 360.0
    rec.pos_sigma = math.sqrt(max(0.5 * (s.pc[0, 0] + s.pc[1, 1]), 0.0))


@nb.njit(cache=True, nogil=True)
def _start(a: RadarArrays, r: PlotRow, lat: float, lon: float, p: RadarKernelParams) -> int:
    top = a.meta[FREE_TOP] - 1
    slot = int(a.free[top])
    a.meta[FREE_TOP] = top
    a.meta[LIVE] += 1
    k, rec = a.kin[slot], a.rec[slot]
    k[REF_LAT], k[REF_LON] = lat, lon
    k[SCALE_N], k[SCALE_E] = scales(lat)
    k[T], k[HITS], k[SCAN_S] = r.time, 0.0, r.scan_s
    ree, ren, rnn = plot_noise(r)
    init_state(a.x[slot], a.p[slot], a.mu[slot], 0.0, 0.0, ree, ren, rnn, 0.0, 0.0,
               p.init_velocity_var)
    rec.track_id = np.uint32(a.meta[NEXT_ID])
    a.meta[NEXT_ID] += 1
    rec.icao24 = np.uint32(0xFFFFFFFF)
    rec.flags = _HAS_POSITION | (_EXERCISE if r.flags & _R_EXERCISE else 0)
    rec.squawk = NO_SQUAWK
    rec.alt = np.nan
    rec.first_seen = r.time
    rec.messages = 0
    rec.sensors = np.uint64(0)
    rec.sources = 0
    return slot


@nb.njit(cache=True, nogil=True)
def _take(a: RadarArrays, slot: int, r: PlotRow, lat: float, lon: float,
          first: bool, p: RadarKernelParams, s: ImmScratch) -> bool:
    """Apply a plot to a radar track; True when the track is CONFIRMED."""
    k, rec = a.kin[slot], a.rec[slot]
    if not first:
        predict(a.x[slot], a.p[slot], a.mu[slot], max(r.time - k[T], 0.0), p.omega, p.q,
                p.switch, s)
        ze, zn = project(lat, lon, k[REF_LAT], k[REF_LON], k[SCALE_N], k[SCALE_E])
        ree, ren, rnn = plot_noise(r, _spread(r, rec.alt, rec.flags, p))
        update(a.x[slot], a.p[slot], a.mu[slot], ze, zn, ree, ren, rnn, s)
        _reanchor(a, slot)
    k[T] = max(k[T], r.time)
    k[HITS] += 1.0
    k[SCAN_S] = r.scan_s
    rec.messages += 1
    rec.last_seen = rec.last_pos = k[T]
    rec.sensors |= sensor_bit(r.sensor)
    rec.sources |= np.uint8(source_bit(r.source))
    if math.isfinite(r.alt):
        rec.alt = r.alt
    if r.squawk != NO_SQUAWK:
        rec.squawk = r.squawk
    rec.flags = (rec.flags & ~(_COASTING | _SPI)) | (_SPI if r.flags & _R_SPI else 0)
    if not rec.flags & _CONFIRMED and k[HITS] >= p.confirm_hits:
        rec.flags |= _CONFIRMED
    publish(a, slot, s)
    return bool(rec.flags & _CONFIRMED)


@nb.njit(cache=True, nogil=True)
def _frame_end(plots: npt.NDArray[np.void], i: int, frame_s: float) -> int:
    j = i + 1
    while (j < len(plots) and plots[j].sensor == plots[i].sensor
           and plots[j].time - plots[i].time <= frame_s):
        j += 1
    return j


@nb.njit(cache=True, nogil=True)
def track_plots(plots: npt.NDArray[np.void], coop: CoopColumns, a: RadarArrays,
                p: RadarKernelParams, s: ImmScratch, out: TrackBatch, coop_of: I8,
                coop_lat: F8, coop_lon: F8, stats: I8) -> int:
    """Run the time-sorted ``plots``; rows of confirmed radar tracks they updated go to
    ``out`` (returns how many); ``coop_of[i]`` is the cooperative track plot ``i`` went
    to (-1: none), placed at ``coop_lat[i], coop_lon[i]``."""
    n = len(plots)
    n_coop = len(coop.lat)
    band = (COARSE_MARGIN_M + p.max_speed_mps * p.coop_max_age_s) / M_PER_DEG
    coop_of[:] = -1
    n_out = 0
    base_lat = np.empty(n)
    base_lon = np.empty(n)
    gated = np.zeros(n, np.bool_)
    cap = 64
    pair_plot = np.empty(cap, np.int64)
    pair_cand = np.empty(cap, np.int64)
    pair_cost = np.empty(cap)
    pair_lat = np.empty(cap)
    pair_lon = np.empty(cap)
    assigned = np.empty(n, np.int64)
    live = np.empty(len(a.rec), np.int64)
    i = 0
    while i < n:
        j = _frame_end(plots, i, p.frame_s)
        n_live = 0
        for slot in range(len(a.rec)):
            if a.rec[slot].track_id != 0:
                live[n_live] = slot
                n_live += 1
        n_pairs = 0
        for q in range(i, j):
            r = plots[q]
            h = plot_height(r, math.nan, p.nominal_height_m)
            base_lat[q], base_lon[q] = plot_position(r, h)
            if not (math.isfinite(base_lat[q]) and r.time > 0.0):
                stats[BAD_PLOT] += 1
                continue
            lon_m = M_PER_DEG * math.cos(math.radians(min(abs(base_lat[q]) + 1.0, 90.0)))
            lo = np.searchsorted(coop.lat, base_lat[q] - band)
            hi = np.searchsorted(coop.lat, base_lat[q] + band, side="right")
            in_band = hi - lo
            for e in range(in_band + n_live):  # the band's transponder tracks, radar tracks
                c = lo + e if e < in_band else n_coop + e - in_band
                if c < n_coop:
                    cost, lat, lon = _coop_gate(r, base_lat[q], base_lon[q], lon_m, coop, c,
                                                p)
                else:
                    cost, lat, lon = _radar_gate(r, base_lat[q], base_lon[q], a,
                                                 live[c - n_coop], p, s)
                if cost == math.inf:
                    continue
                if n_pairs == cap:
                    cap *= 2
                    pair_plot = _grow_i(pair_plot, cap)
                    pair_cand = _grow_i(pair_cand, cap)
                    pair_cost = _grow_f(pair_cost, cap)
                    pair_lat = _grow_f(pair_lat, cap)
                    pair_lon = _grow_f(pair_lon, cap)
                pair_plot[n_pairs], pair_cand[n_pairs] = q - i, c
                pair_cost[n_pairs], pair_lat[n_pairs], pair_lon[n_pairs] = cost, lat, lon
                n_pairs += 1
                gated[q] = True
        gnn(pair_plot[:n_pairs], pair_cand[:n_pairs], pair_cost[:n_pairs], j - i,
            n_coop + n_live, assigned)
        for q in range(i, j):
            r = plots[q]
            if not math.isfinite(base_lat[q]) or not r.time > 0.0:
                continue
            c = assigned[q - i]
            if c < 0:
                if gated[q]:
                    stats[UNUSED] += 1
                    continue
                slot = _start(a, r, base_lat[q], base_lon[q], p)
                stats[STARTED] += 1
                _take(a, slot, r, base_lat[q], base_lon[q], True, p, s)
                continue
            lat = lon = math.nan
            for e in range(n_pairs):
                if pair_plot[e] == q - i and pair_cand[e] == c:
                    lat, lon = pair_lat[e], pair_lon[e]
                    break
            if c < n_coop:
                coop_of[q], coop_lat[q], coop_lon[q] = c, lat, lon
                stats[TO_COOPERATIVE] += 1
                continue
            slot = live[c - n_coop]
            was = bool(a.rec[slot].flags & _CONFIRMED)
            if _take(a, slot, r, lat, lon, False, p, s):
                if not was:
                    stats[CONFIRMED] += 1
                out[n_out] = a.rec[slot]
                n_out += 1
            stats[UPDATES] += 1
        i = j
    return n_out


@nb.njit(cache=True, nogil=True)
def _grow_i(v: I8, cap: int) -> I8:
    out = np.empty(cap, np.int64)
    out[:len(v)] = v
    return out


@nb.njit(cache=True, nogil=True)
def _grow_f(v: F8, cap: int) -> F8:
    out = np.empty(cap)
    out[:len(v)] = v
    return out


@nb.njit(cache=True, nogil=True)
def _free(a: RadarArrays, slot: int) -> None:
    a.rec[slot].track_id = 0
    a.rec[slot].flags = 0
    top = a.meta[FREE_TOP]
    a.free[top] = slot
    a.meta[FREE_TOP] = top + 1
    a.meta[LIVE] -= 1


@nb.njit(cache=True, nogil=True)
def absorb(a: RadarArrays, coop: CoopColumns, order: I8, sorted_squawk: I8,
           p: RadarKernelParams, stats: I8) -> None:
    """Delete radar tracks that are a cooperative track's aircraft: the same Mode 3/A
    code, altitude and exercise mark, within the gate of its predicted position (a
    conventional radar saw it before a transponder track existed, or while that track
    coasted).  Their next plots join the cooperative track."""
    for slot in range(len(a.rec)):
        rec = a.rec[slot]
        if rec.track_id == 0 or rec.squawk == NO_SQUAWK:
            continue
        t = a.kin[slot, T]
        e = np.searchsorted(sorted_squawk, rec.squawk)
        while e < len(sorted_squawk) and sorted_squawk[e] == rec.squawk:
            j = order[e]
            e += 1
            dt = t - coop.t[j]
            if not (abs(dt) <= p.coop_max_age_s
                    and _same_kind(_R_EXERCISE if rec.flags & _EXERCISE else 0, rec.squawk,
                                   rec.alt, coop.exercise[j], coop.squawk[j], coop.alt[j],
                                   0.0, p)):
                continue
            sn, se = scales(coop.lat[j])
            ze, zn = project(rec.lat, rec.lon, coop.lat[j], coop.lon[j], sn, se)
            de, dn = ze - coop.ve[j] * dt, zn - coop.vn[j] * dt
            var = (coop.var[j] + coop.vvar[j] * dt * dt + p.coop_q * abs(dt) ** 3 / 3.0
                   + rec.pos_sigma * rec.pos_sigma)
            if (de * de + dn * dn) / var <= p.gate_d2:
                _free(a, slot)
                stats[ABSORBED] += 1
                break


@nb.njit(cache=True, nogil=True)
def expire(a: RadarArrays, now: float, p: RadarKernelParams, deleted: npt.NDArray[np.uint32],
           stats: I8) -> int:
    """Coast, drop unconfirmed and delete silent radar tracks; deleted ids -> ``deleted``."""
    n_deleted = 0
    for slot in range(len(a.rec)):
        rec = a.rec[slot]
        if rec.track_id == 0:
            continue
        k = a.kin[slot]
        scan = k[SCAN_S]
        if rec.flags & _CONFIRMED:
            gone = now - k[T] > p.delete_scans * scan
            if not gone:
                rec.flags = (rec.flags | _COASTING if now - k[T] > p.coast_scans * scan
                             else rec.flags & ~_COASTING)
        else:
            gone = now - rec.first_seen > p.confirm_scans * scan
            if gone:
                stats[DROPPED_TENTATIVE] += 1
        if not gone:
            continue
        if rec.flags & _CONFIRMED:
            deleted[n_deleted] = rec.track_id
            n_deleted += 1
            stats[DELETED] += 1
        _free(a, slot)
    return n_deleted
