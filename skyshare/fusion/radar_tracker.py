"""The radar tracker: tracks of aircraft no address identifies (primary radar, Mode A/C).

:class:`RadarTracker` takes radar plots (:data:`~skyshare.fusion.plots.RADAR_PLOT_DTYPE`)
and the cooperative tracks of the address-keyed :class:`~skyshare.fusion.tracker.Tracker`:

* a plot with a Mode S address is simply a report of that aircraft (returned as a
  report for the address-keyed tracker);
* a plot without one is first offered to the cooperative tracks (gate + GNN,
  :mod:`.radar_kernel`): the primary echo of an aircraft whose transponder we hear, or
  whose transponder just went silent, becomes a report of that aircraft (its address
  attached), so one aircraft is one track whichever sensors see it, and a track that
  loses its transponder carries on, on primary radar alone (``TrackFlag.PRIMARY_ONLY``,
  set by the address-keyed tracker, raises the transponder-loss alert);
* a radar track found to be a cooperative track's aircraft (same Mode 3/A code and
  altitude, inside its gate) is absorbed: deleted, so its next plots join that track;
* the rest are tracked here: an IMM filter (:mod:`.imm`: constant velocity and
  coordinated turns) per track, GNN assignment, and M-of-N initiation: a tentative track
  must gather ``confirm_hits`` plots within ``confirm_scans`` antenna turns, or it is
  dropped as clutter.  Confirmed tracks have ids from :data:`FIRST_RADAR_ID` and no
  address.

Not thread-safe: one caller at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from skyshare.config_fields import require_positive
from skyshare.errors import ConfigError
from skyshare.fusion import radar_kernel as k
from skyshare.fusion.imm import MODELS, imm_params, imm_scratch
from skyshare.fusion.measurements import KNOT
from skyshare.fusion.output import SHOWN_SPEED_SIGMA
from skyshare.model import (
    NO_ADDRESS,
    NO_SQUAWK,
    RADAR_PLOT_DTYPE,
    REPORT_DTYPE,
    ReportBatch,
    TrackBatch,
    TrackFlag,
    empty_tracks,
)
from skyshare.radar.geometry import polar_to_geodetic
from skyshare.radar.plots import FT, plot_noise_columns

FIRST_RADAR_ID = 0x4000_0000
"""Radar-only tracks are numbered from here (address-keyed tracks count up from 1)."""


@dataclass(frozen=True)
class RadarTrackerConfig:
    """Radar tracker settings (YAML ``radar_tracker:``); every field has a default."""

    gate_d2: float = 16.0
    """Gate: Mahalanobis distance squared (2 degrees of freedom: 16 keeps 99.97 %)."""
    alt_gate_ft: float = 1000.0
    """A plot and a track whose altitudes differ by more than this are not the same."""
    confirm_hits: int = 3
    """M of M-of-N: plots a tentative track needs..."""
    confirm_scans: float = 4.0
    """...within N antenna turns of its first plot, or it is dropped as clutter."""
    coast_scans: float = 1.5
    """COASTING after this many turns without a plot."""
    delete_scans: float = 4.0
    """Deleted after this many turns without a plot."""
    nominal_alt_ft: float = 10000.0
    """Where a primary-only plot with no track altitude is placed (the radar cannot say)..."""
    nominal_alt_sigma_ft: float = 10000.0
    """...and how wrong that may be: it widens such a plot's noise along the line of
    sight by about (nominal + sigma) x sigma / range."""
    max_speed_kt: float = 700.0
    """Fastest target; the velocity prior of a new track has sigma = a third of it."""
    tentative_gate_d2: float = 9.21
    """The gate of a tentative track (99 %): tighter, so clutter rarely grows a track."""
    turn_rate_deg_s: float = 3.0
    """Turn rate of the IMM's coordinated-turn models (standard rate: 3 deg/s)."""
    straight_noise_mps2: float = 1.0
    """White acceleration of the constant-velocity model (sqrt of its density)."""
    turn_noise_mps2: float = 2.0
    """...and of the turn models."""
    model_stay: float = 0.98
    """Probability that the IMM stays in a model from one plot to the next."""
    frame_s: float = 0.5
    """Plots of one radar within this are assigned together (one sector)."""
    cooperative_noise_mps2: float = 3.0
    """White acceleration assumed when predicting a cooperative track to a plot."""
    cooperative_max_age_s: float = 30.0
    """A cooperative track without a position for longer takes no plots."""

    def __post_init__(self) -> None:
        require_positive(self, "radar_tracker")
        if self.confirm_hits < 2:
            raise ConfigError("a track needs at least 2 plots to be confirmed",
                              where="radar_tracker.confirm_hits")
        if not self.model_stay < 1:
            raise ConfigError("must be below 1", where="radar_tracker.model_stay")

    def kernel_params(self) -> k.RadarKernelParams:
        imm = imm_params(self.turn_rate_deg_s, self.straight_noise_mps2 ** 2,
                         self.turn_noise_mps2 ** 2, self.model_stay)
        return k.RadarKernelParams(
            frame_s=float(self.frame_s), gate_d2=float(self.gate_d2),
            alt_gate_ft=float(self.alt_gate_ft),
            nominal_height_m=float(self.nominal_alt_ft) * FT,
            max_speed_mps=float(self.max_speed_kt) * KNOT,
            init_velocity_var=(float(self.max_speed_kt) * KNOT / 3.0) ** 2,
            tentative_gate_d2=float(self.tentative_gate_d2),
            height_spread_m2=(self.nominal_alt_ft + self.nominal_alt_sigma_ft)
            * self.nominal_alt_sigma_ft * FT * FT,
            confirm_hits=int(self.confirm_hits), confirm_scans=float(self.confirm_scans),
            coast_scans=float(self.coast_scans), delete_scans=float(self.delete_scans),
            coop_q=float(self.cooperative_noise_mps2) ** 2,
            coop_max_age_s=float(self.cooperative_max_age_s),
            omega=imm.omega, q=imm.q, switch=imm.switch)


def _arrays(capacity: int, old: k.RadarArrays | None) -> k.RadarArrays:
    rec = empty_tracks(capacity)
    rec["track_id"] = 0
    kin = np.zeros((capacity, k.N_KIN))
    x = np.zeros((capacity, MODELS, 4))
    p = np.zeros((capacity, MODELS, 4, 4))
    mu = np.zeros((capacity, MODELS))
    free = np.zeros(capacity, np.int64)
    meta = np.zeros(3, np.int64)
    meta[k.NEXT_ID] = FIRST_RADAR_ID
    n_old = top = 0
    if old is not None:
        n_old, top = len(old.rec), int(old.meta[k.FREE_TOP])
        rec[:n_old], kin[:n_old], x[:n_old], p[:n_old], mu[:n_old] = (
            old.rec, old.kin, old.x, old.p, old.mu)
        meta[:] = old.meta
        free[:top] = old.free[:top]
    new_free = np.arange(capacity - 1, n_old - 1, -1, dtype=np.int64)
    free[top:top + len(new_free)] = new_free
    meta[k.FREE_TOP] = top + len(new_free)
    return k.RadarArrays(rec, kin, x, p, mu, free, meta)


def coop_columns(tracks: TrackBatch, max_speed_mps: float) -> k.CoopColumns:
    """The kernel's view of the cooperative tracks (rows with a position).  A shown
    velocity is known to :data:`SHOWN_SPEED_SIGMA` or better; an unknown one is taken
    as standing still, give or take a third of the top speed."""
    t = tracks
    ok = np.isfinite(t["lat"]) & np.isfinite(t["lon"]) & np.isfinite(t["last_pos"])
    rows = np.flatnonzero(ok)
    ok = rows[np.argsort(t["lat"][rows], kind="stable")]  # the rows, by latitude
    known = np.isfinite(t["groundspeed"]) & np.isfinite(t["track"])
    vvar = np.where(known, SHOWN_SPEED_SIGMA**2, (max_speed_mps / 3.0) ** 2)
    speed = np.where(known, t["groundspeed"], 0.0) * KNOT
    angle = np.radians(np.where(np.isfinite(t["track"]), t["track"], 0.0))
    sigma = np.where(np.isfinite(t["pos_sigma"]), t["pos_sigma"], 100.0).astype(np.float64)
    return k.CoopColumns(
        row=ok.astype(np.int64), lat=t["lat"][ok].astype(np.float64),
        lon=t["lon"][ok].astype(np.float64),
        ve=(speed * np.sin(angle))[ok], vn=(speed * np.cos(angle))[ok],
        t=t["last_pos"][ok].astype(np.float64), var=(sigma * sigma)[ok], vvar=vvar[ok],
        alt=t["alt"][ok].astype(np.float64), squawk=t["squawk"][ok].astype(np.int64),
        exercise=(t["flags"][ok] & TrackFlag.EXERCISE) != 0)


class RadarTracker:
    """Radar plots -> radar-only tracks, and reports for the address-keyed tracker."""

    def __init__(self, config: RadarTrackerConfig = RadarTrackerConfig(),
                 capacity: int = 1024) -> None:
        self.config = config
        self._params = config.kernel_params()
        self._a = _arrays(max(1, capacity), None)
        self._scratch = imm_scratch()
        self._stats = np.zeros(len(k.STAT_NAMES), np.int64)

    @property
    def counts(self) -> dict[str, int]:
        return {n: int(v) for n, v in zip(k.STAT_NAMES, self._stats, strict=True)}

    @property
    def live_tracks(self) -> int:
        """Radar tracks in memory, tentative and confirmed."""
        return int(self._a.meta[k.LIVE])

    def update(self, plots: npt.NDArray[np.void], cooperative: TrackBatch
               ) -> tuple[TrackBatch, ReportBatch]:
        """Take ``plots``; returns (rows of confirmed radar tracks they updated, reports
        for the address-keyed tracker: addressed plots and plots that joined one of the
        ``cooperative`` tracks), both in time order."""
        if plots.dtype != RADAR_PLOT_DTYPE:
            raise TypeError(f"expected RADAR_PLOT_DTYPE plots, got {plots.dtype}")
        self._stats[k.PLOTS] += len(plots)
        usable = usable_plots(plots)
        if not usable.all():
            self._stats[k.BAD_PLOT] += int((~usable).sum())
            plots = plots[usable]
        if len(plots) > 1 and not bool(np.all(plots["time"][1:] >= plots["time"][:-1])):
            plots = plots[np.argsort(plots["time"], kind="stable")]
        addressed = plots["icao24"] != NO_ADDRESS
        reports = [placed_reports(plots[addressed], self._params.nominal_height_m)]
        anonymous = np.ascontiguousarray(plots[~addressed])
        n = len(anonymous)
        if n == 0:
            return empty_tracks(), reports[0]
        free = int(self._a.meta[k.FREE_TOP])
        if free < n:  # room for every plot to open a track
            size = len(self._a.rec)
            while size - int(self._a.meta[k.LIVE]) < n:
                size *= 2
            self._a = _arrays(size, self._a)
        coop = coop_columns(cooperative, self._params.max_speed_mps)
        out = np.empty(n, empty_tracks().dtype)
        coop_of = np.empty(n, np.int64)
        lat, lon = np.full(n, np.nan), np.full(n, np.nan)
        n_out = k.track_plots(anonymous, coop, self._a, self._params, self._scratch, out,
                              coop_of, lat, lon, self._stats)
        if len(coop.lat) and (self._a.rec["squawk"] != NO_SQUAWK).any():
            order = np.argsort(coop.squawk, kind="stable")
            k.absorb(self._a, coop, order, coop.squawk[order], self._params, self._stats)
        joined = coop_of >= 0
        if joined.any():
            rows = plot_reports(anonymous[joined], lat[joined], lon[joined])
            of = coop.row[coop_of[joined]]
            rows["icao24"] = cooperative["icao24"][of]
            rows["flags"] |= (cooperative["flags"][of] & TrackFlag.NON_ICAO).astype(np.uint16)
            reports.append(rows)
        merged = np.concatenate(reports) if len(reports) > 1 else reports[0]
        if len(reports) > 1:
            merged = merged[np.argsort(merged["time"], kind="stable")]
        return out[:n_out], merged

    def expire(self, now: float) -> npt.NDArray[np.uint32]:
        """Coast, drop tentative tracks past their N turns and delete silent tracks at
        ``now``; the ids of deleted confirmed tracks."""
        deleted = np.zeros(int(self._a.meta[k.LIVE]), np.uint32)
        n = k.expire(self._a, float(now), self._params, deleted, self._stats)
        return deleted[:n]

    def snapshot(self, now: float | None = None) -> TrackBatch:
        """All confirmed radar tracks; positions moved to ``now`` at their velocity."""
        rec = self._a.rec
        slots = np.flatnonzero((rec["track_id"] != 0)
                               & (rec["flags"] & TrackFlag.CONFIRMED != 0))
        rows = rec[slots]
        if now is not None and len(rows):
            extrapolate(rows, float(now))
        return rows


def usable_plots(plots: npt.NDArray[np.void]) -> npt.NDArray[np.bool_]:
    """Plots a tracker can place: a time, a positive range, an azimuth, a radar on the
    globe, positive noise and scan period (the rest are counted as bad and dropped)."""
    with np.errstate(invalid="ignore"):
        ok: npt.NDArray[np.bool_] = (np.isfinite(plots["time"]) & (plots["time"] > 0)
                & np.isfinite(plots["range_m"]) & (plots["range_m"] > 0)
                & (plots["range_m"] < 2_000_000.0) & np.isfinite(plots["azimuth_deg"])
                & (np.abs(plots["radar_lat"]) <= 90.0) & (np.abs(plots["radar_lon"]) <= 180.0)
                & (np.abs(plots["radar_h"]) < 100_000.0)
                & (plots["sigma_range_m"] > 0) & (plots["sigma_range_m"] < 1e5)
                & (plots["sigma_azimuth_deg"] > 0) & (plots["sigma_azimuth_deg"] < 45)
                & (plots["scan_s"] > 0) & (plots["scan_s"] < 3600)
                & ~(np.abs(plots["alt"]) > 200_000.0))
    return ok


def extrapolate(rows: TrackBatch, now: float) -> None:
    """Move rows' positions to ``now`` along their ground speed and track (flat earth,
    fine over the few seconds between antenna turns)."""
    dt = now - rows["last_pos"]
    dist = rows["groundspeed"].astype(np.float64) * KNOT * dt
    angle = np.radians(rows["track"].astype(np.float64))
    lat = rows["lat"]
    dn, de = dist * np.cos(angle), dist * np.sin(angle)
    ok = np.isfinite(dn) & np.isfinite(de)
    rows["lat"] = np.where(ok, lat + dn / 111_132.0, lat)
    rows["lon"] = np.where(ok, rows["lon"] + de / (111_320.0 * np.cos(np.radians(lat))),
                           rows["lon"])


def plot_reports(plots: npt.NDArray[np.void], lat: npt.NDArray[np.float64],
                 lon: npt.NDArray[np.float64]) -> ReportBatch:
    """REPORT_DTYPE rows of radar plots placed at ``lat, lon`` (address as the plot's)."""
    out = np.zeros(len(plots), REPORT_DTYPE)
    out["time"] = plots["time"]
    out["sensor"] = plots["sensor"]
    out["source"] = plots["source"]
    out["df"] = 0xFF
    out["flags"] = plots["flags"]
    out["icao24"] = plots["icao24"]
    out["typecode"] = 0xFF
    out["callsign"] = plots["callsign"]
    out["squawk"] = plots["squawk"]
    out["lat"], out["lon"] = lat, lon
    out["alt_baro"] = plots["alt"]
    for name in ("alt_geo", "groundspeed", "track", "vertical_rate", "airspeed", "heading",
                 "rssi"):
        out[name] = np.nan
    for name in ("nic", "nacp", "nacv", "sil"):
        out[name] = 0xFF
    out["emergency"] = 0
    ree, _, rnn = plot_noise_columns(plots)
    out["pos_sigma"] = np.sqrt(0.5 * (ree + rnn))
    return out


def placed_reports(plots: npt.NDArray[np.void], nominal_height_m: float) -> ReportBatch:
    """Reports of plots as they are: each placed at its flight level, else at the
    nominal height (Mode S plots for the address-keyed tracker; ``skyshare decode``)."""
    height = np.where(np.isfinite(plots["alt"]), plots["alt"] * FT, nominal_height_m)
    lat = np.full(len(plots), np.nan)
    lon = np.full(len(plots), np.nan)
    for site in np.unique(plots[["radar_lat", "radar_lon", "radar_h"]]):
        same = ((plots["radar_lat"] == site["radar_lat"])
                & (plots["radar_lon"] == site["radar_lon"])
                & (plots["radar_h"] == site["radar_h"]))
        lat[same], lon[same] = polar_to_geodetic(
            plots["range_m"][same], plots["azimuth_deg"][same], height[same],
            float(site["radar_lat"]), float(site["radar_lon"]), float(site["radar_h"]))
    return plot_reports(plots, lat, lon)
