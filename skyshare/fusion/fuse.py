"""The per-report composition of the fusion stages, compiled as one numba loop.

For each report, in time order::

    dedup (copy of a measured transmission? -> note its sensor, stop)
    associate (address key -> slot)  -> initiate when new (tentative)
    bookkeeping (messages, sensors, sources); out-of-order -> stop here
    identity, position (predict, gate, update | reject, maybe re-initialise),
    velocity (predict, update), altitude (predict, gate, update), age
    confirm -> a track-update row when the track is CONFIRMED

Each stage lives in its own module; this file only wires them.  The loop stops early
(returning the index reached) when a new track needs a slot and none is free: the
Python side grows the store and calls again from there.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.fusion import params as c
from skyshare.fusion.dedup import DedupArrays, frame_key, is_copy, remember
from skyshare.fusion.gate import altitude_plausible, note_rejected, position_plausible
from skyshare.fusion.geo import project
from skyshare.fusion.identity import note_copy, update_ground_state, update_identity
from skyshare.fusion.kalman import (
    alt_init,
    alt_predict,
    alt_update,
    alt_update_rate,
    cv_finite,
    cv_init,
    cv_predict,
    cv_update_position,
    cv_update_velocity,
    reanchor,
)
from skyshare.fusion.keymap import find, track_key
from skyshare.fusion.lifecycle import (
    age,
    confirm,
    delete,
    drop_position,
    initiate,
    is_stale,
    timeout,
)
from skyshare.fusion.measurements import (
    ALT_SIGMA_FT,
    SURFACE,
    VRATE_SIGMA_FPS,
    ReportRow,
    altitude_of,
    position_of,
    position_variance,
    velocity_of,
    velocity_variance,
    vertical_rate_of,
)
from skyshare.fusion.output import publish
from skyshare.fusion.params import KernelParams
from skyshare.fusion.state import (
    ALT_REJ_N,
    FREE_TOP,
    LAST_ALT,
    LAST_COOP,
    PVV,
    REF_LAT,
    REF_LON,
    REJ_N,
    REJ_T,
    SCALE_E,
    SCALE_N,
    T_VEL,
    VE,
    VN,
    TrackArrays,
)
from skyshare.model import NO_ADDRESS, SourceKind, TrackBatch, TrackFlag

_HAS_POSITION = int(TrackFlag.HAS_POSITION)
_PRIMARY = int(SourceKind.RADAR_PSR)


@nb.njit(cache=True, nogil=True)
def _init_position(a: TrackArrays, slot: int, lat: float, lon: float, t: float, r: float,
                   p: KernelParams) -> None:
    k = a.kin[slot]
    cv_init(k, lat, lon, t, r, p.q_horizontal, t - k[T_VEL])
    rec = a.rec[slot]
    rec.flags = rec.flags | _HAS_POSITION
    rec.last_pos = t
    k[REJ_N] = 0.0
    k[REJ_T] = np.nan


@nb.njit(cache=True, nogil=True)
def _update_position(a: TrackArrays, slot: int, r: ReportRow, p: KernelParams,
                     stats: npt.NDArray[np.int64]) -> bool:
    """Position stage; returns whether a position of the report was taken."""
    ok, lat, lon = position_of(r.lat, r.lon)
    if not ok:
        if not (np.isnan(r.lat) and np.isnan(r.lon)):
            stats[c.INVALID_POSITION] += 1
        return False
    k, rec, t = a.kin[slot], a.rec[slot], r.time
    var = position_variance(r.nacp, r.source, p.position_sigma_m, r.pos_sigma)
    if not rec.flags & _HAS_POSITION or t - rec.last_pos > timeout(rec.flags, p):
        _init_position(a, slot, lat, lon, t, var, p)
        return True
    speed = p.max_surface_speed_mps if r.flags & SURFACE else p.max_speed_mps
    ze, zn = project(lat, lon, k[REF_LAT], k[REF_LON], k[SCALE_N], k[SCALE_E])
    if position_plausible(k, ze, zn, var, t, speed, p.gate_sigmas):
        cv_predict(k, t, p.q_horizontal)
        cv_update_position(k, ze, zn, var)
        reanchor(k)
        rec.last_pos = t
        k[REJ_N] = 0.0
        k[REJ_T] = np.nan
        return True
    stats[c.REJECTED] += 1
    run = note_rejected(k, int(k[REJ_N]), lat, lon, t, var, speed, p.gate_sigmas)
    k[REJ_N] = run
    if run < p.reinit_after:
        return False
    _init_position(a, slot, lat, lon, t, var, p)
    stats[c.REINITIALISED] += 1
    return True


@nb.njit(cache=True, nogil=True)
def _update_velocity(a: TrackArrays, slot: int, r: ReportRow, p: KernelParams,
                     stats: npt.NDArray[np.int64]) -> None:
    if np.isnan(r.groundspeed):
        return
    ok, ve, vn = velocity_of(r.groundspeed, r.track, p.max_speed_mps)
    if not ok:
        stats[c.REJECTED_VELOCITY] += 1
        return
    k, var = a.kin[slot], velocity_variance(r.nacv, p.velocity_sigma_mps)
    if a.rec[slot].flags & _HAS_POSITION:
        cv_predict(k, r.time, p.q_horizontal)
        cv_update_velocity(k, ve, vn, var)
    else:  # kept as the prior of the first position
        k[VE], k[VN], k[PVV] = ve, vn, var
    k[T_VEL] = r.time


@nb.njit(cache=True, nogil=True)
def _update_altitude(a: TrackArrays, slot: int, r: ReportRow, p: KernelParams,
                     stats: npt.NDArray[np.int64]) -> bool:
    """Altitude stage; returns whether the report carried a valid altitude."""
    k, t = a.kin[slot], r.time
    ok, alt = altitude_of(r.alt_baro)
    var = ALT_SIGMA_FT * ALT_SIGMA_FT
    fresh = t - k[LAST_ALT] <= timeout(a.rec[slot].flags, p)  # False: none yet, or stale
    if ok:
        k[LAST_ALT] = t
        if not fresh:
            alt_init(k, alt, t, var)
        elif altitude_plausible(k, alt, var, t, p.gate_sigmas):
            alt_predict(k, t, p.q_vertical)
            alt_update(k, alt, var)
            k[ALT_REJ_N] = 0
        else:
            stats[c.REJECTED_ALTITUDE] += 1
            k[ALT_REJ_N] += 1
            if k[ALT_REJ_N] >= p.reinit_after:
                alt_init(k, alt, t, var)
                k[ALT_REJ_N] = 0
    rate_ok, rate = vertical_rate_of(r.vertical_rate)
    if rate_ok and (ok or fresh):
        alt_predict(k, t, p.q_vertical)
        alt_update_rate(k, rate, VRATE_SIGMA_FPS * VRATE_SIGMA_FPS)
    return ok


@nb.njit(cache=True, nogil=True)
def _update_state(a: TrackArrays, slot: int, r: ReportRow, callsign: np.uint64,
                  p: KernelParams, stats: npt.NDArray[np.int64]) -> None:
    """Everything an in-order report changes on its track."""
    a.rec[slot].last_seen = r.time
    if r.source != _PRIMARY:
        a.kin[slot, LAST_COOP] = r.time
    update_identity(a, slot, r, callsign)
    has_position = _update_position(a, slot, r, p, stats)
    _update_velocity(a, slot, r, p, stats)
    has_altitude = _update_altitude(a, slot, r, p, stats)
    update_ground_state(a, slot, r, has_position or has_altitude)
    if a.rec[slot].flags & _HAS_POSITION and not cv_finite(a.kin[slot]):
        stats[c.FILTER_RESETS] += 1  # defensive: never publish a NaN position
        drop_position(a, slot)
    if age(a, slot, r.time, p):
        stats[c.POSITIONS_DROPPED] += 1
    publish(a, slot)


@nb.njit(cache=True, nogil=True)
def _measure(a: TrackArrays, slot: int, r: ReportRow, callsign: np.uint64, p: KernelParams,
             stats: npt.NDArray[np.int64]) -> bool:
    """Apply one measured report to its track; True when a track-update row is due."""
    rec = a.rec[slot]
    note_copy(a, slot, r.sensor, r.source)
    rec.messages += 1
    in_order = r.time >= rec.last_seen
    if in_order:
        _update_state(a, slot, r, callsign, p, stats)
    else:
        stats[c.OUT_OF_ORDER] += 1
    confirmed, new = confirm(a, slot, p)
    if new:
        stats[c.CONFIRMED] += 1
    return confirmed and in_order


@nb.njit(cache=True, nogil=True)
def fuse(reports: npt.NDArray[np.void], callsigns: npt.NDArray[np.uint64], start: int,
         a: TrackArrays, d: DedupArrays, p: KernelParams, out: TrackBatch,
         n_out: int, stats: npt.NDArray[np.int64], latest: float) -> tuple[int, int]:
    """Fuse ``reports[start:]`` (time-sorted); rows go to ``out`` from index ``n_out``.

    Report times must lie in [0, ``latest``] (NaN, negative or future times are
    garbage: one would otherwise hold its track's clock ahead of every real report).
    Returns (index reached, rows written); the index is short of the end when a new
    track found no free slot.
    """
    for i in range(start, len(reports)):
        r = reports[i]
        t = r.time
        if not 0.0 <= t <= latest:
            stats[c.BAD_TIME] += 1
            continue
        if r.icao24 == NO_ADDRESS:
            stats[c.NO_ADDRESS] += 1
            continue
        key = track_key(r.icao24, r.flags)
        slot = find(a.key_map, key)
        fkey = frame_key(r.frame_hash, r.flags)
        if is_copy(d, fkey, r.sensor, t, p.dedup_window_s):
            stats[c.DUPLICATES] += 1
            if slot >= 0:
                note_copy(a, slot, r.sensor, r.source)
            continue
        if slot >= 0 and is_stale(a, slot, t, p):
            delete(a, slot)
            stats[c.DELETED] += 1
            slot = -1
        if slot < 0:
            if a.meta[FREE_TOP] == 0:
                return i, n_out
            slot = initiate(a, key, r.icao24, t)
            stats[c.CREATED] += 1
        remember(d, fkey, r.sensor, t, p.dedup_window_s)
        if _measure(a, slot, r, callsigns[i], p, stats):
            out[n_out] = a.rec[slot]
            n_out += 1
    return len(reports), n_out
