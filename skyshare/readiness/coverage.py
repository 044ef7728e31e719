"""Observed coverage: how far each sensor has actually seen, by bearing and altitude.

Like a receiver's range outline, from the positions its own data gave: every decoded
position report of a sensor (ADS-B, SBS, CAT021) and every radar plot is placed by
bearing and great-circle distance from the sensor's configured position (a plot is
first placed on WGS-84 from its radar's position, as the trackers place it); each bearing
bin of each altitude band keeps the furthest distance seen.  Band 0 is every altitude
(and plots or reports without one); bands 1.. are those between the configured edges
(``coverage_bands_ft``: below 10,000 ft, 10,000-25,000 ft, above, by default).

The outline shows the last ``coverage_keep_s``: the counts live in ten time buckets,
the oldest emptied as time moves on, so an antenna that stops seeing far shows a
shrinking outline within that span.  Positions further than ``coverage_max_range_nm``
are ignored (a bad CPR decode would otherwise claim the world).  The outlines are kept
in ``<data_dir>/readiness/coverage.parquet`` (written every minute and at stop, read
at start), so a restart does not forget them.

The update is one numba loop over the batch's rows: the pipeline calls it every step.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numba as nb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from skyshare.airspace import EARTH_RADIUS_M, NM_M
from skyshare.model import PlotBatch, ReportBatch, empty_reports
from skyshare.radar.geometry import polar_to_geodetic
from skyshare.readiness.settings import ReadinessConfig

log = logging.getLogger("skyshare.readiness")

BUCKETS: Final = 10
FILE: Final = "coverage.parquet"
M_TO_FT: Final = 3.28084
_SCHEMA: Final = pa.schema([("sensor", pa.string()), ("bucket", pa.int64()),
                            ("band", pa.int16()), ("bin", pa.int16()),
                            ("range_nm", pa.float32())])


@nb.njit(cache=True, nogil=True)
def _add_positions(grid: npt.NDArray[np.float32], slot: int, sensor: npt.NDArray[np.uint16],
                   lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64],
                   alt_ft: npt.NDArray[np.floating], alt_other: npt.NDArray[np.floating],
                   site_lat: npt.NDArray[np.float64],
                   site_lon: npt.NDArray[np.float64], edges: npt.NDArray[np.float64],
                   bin_deg: float, max_nm: float) -> int:
    """Extend the outline ``grid[sensor, slot, band, bin]`` by each position (its
    altitude ``alt_ft``, else ``alt_other``); returns the positions used (a known
    sensor, a finite position within ``max_nm``).  The columns may be strided views of
    a report batch: nothing is copied."""
    n_sensors, _, _, bins = grid.shape
    used = 0
    for i in range(sensor.shape[0]):
        s = sensor[i]
        if s >= n_sensors or not (np.isfinite(site_lat[s]) and np.isfinite(lat[i])
                                  and np.isfinite(lon[i])):
            continue
        dist, bearing = _range_bearing(site_lat[s], site_lon[s], lat[i], lon[i])
        if dist > max_nm:
            continue
        alt = alt_ft[i] if np.isfinite(alt_ft[i]) else alt_other[i]
        band, b = _cell(bearing, alt, edges, bin_deg, bins)
        _extend(grid, s, slot, 0, b, dist)
        if band > 0:
            _extend(grid, s, slot, band, b, dist)
        used += 1
    return used


@nb.njit(cache=True, nogil=True)
def _reach(outline: npt.NDArray[np.float32], site_lat: float, site_lon: float,
           lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64],
           alt_ft: npt.NDArray[np.float64], edges: npt.NDArray[np.float64], bin_deg: float,
           out: npt.NDArray[np.float32]) -> None:
    """``out[i]``: the outline ``[band, bin]`` at point i's bearing and altitude band;
    for an unknown altitude the least of the altitude bands at that bearing (the
    sensor is known to reach there whatever the aircraft's height)."""
    bins = outline.shape[1]
    for i in range(lat.shape[0]):
        if not (np.isfinite(lat[i]) and np.isfinite(lon[i])):
            out[i] = 0.0
            continue
        _, bearing = _range_bearing(site_lat, site_lon, lat[i], lon[i])
        band, b = _cell(bearing, alt_ft[i], edges, bin_deg, bins)
        out[i] = outline[band, b] if band > 0 else outline[1:, b].min()


@nb.njit(cache=True, nogil=True, inline="always")
def _range_bearing(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """Great-circle distance (NM, haversine) and initial bearing (degrees) from
    (lat0, lon0) to (lat, lon)."""
    p1, p2 = math.radians(lat0), math.radians(lat)
    dl = math.radians(lon - lon0)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    dist = 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(h, 1.0))) / NM_M
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return dist, math.degrees(math.atan2(y, x)) % 360.0


@nb.njit(cache=True, nogil=True, inline="always")
def _cell(bearing: float, alt_ft: float, edges: npt.NDArray[np.float64], bin_deg: float,
          bins: int) -> tuple[int, int]:
    """(band, bearing bin) of a point: band 0 when its altitude is unknown."""
    band = 1 + int(np.searchsorted(edges, alt_ft, side="right")) if np.isfinite(alt_ft) else 0
    return band, int(bearing // bin_deg) % bins


@nb.njit(cache=True, nogil=True, inline="always")
def _extend(grid: npt.NDArray[np.float32], s: int, slot: int, band: int, b: int,
            dist: float) -> None:
    if dist > grid[s, slot, band, b]:
        grid[s, slot, band, b] = dist


def destination(lat: npt.ArrayLike, lon: npt.ArrayLike, bearing_deg: npt.ArrayLike,
                dist_nm: npt.ArrayLike) -> tuple[npt.NDArray[np.float64],
                                                 npt.NDArray[np.float64]]:
    """The points ``dist_nm`` from (lat, lon) along each initial bearing (a sphere;
    one start point for all, or one per row)."""
    d = np.asarray(dist_nm, np.float64) * NM_M / EARTH_RADIUS_M
    b, p1, l1 = np.radians(bearing_deg), np.radians(lat), np.radians(lon)
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(b))
    l2 = l1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), (np.degrees(l2) + 540.0) % 360.0 - 180.0


class CoverageOutlines:
    """The observed outlines of a node's sensors (``names``/``positions`` by index)."""

    def __init__(self, config: ReadinessConfig, names: Sequence[str],
                 positions: Sequence[tuple[float | None, float | None]]) -> None:
        self.config = config
        self.names = tuple(names)
        self.edges = np.asarray(config.coverage_bands_ft, np.float64)
        self.bucket_s = config.coverage_keep_s / BUCKETS
        self.site_lat = np.array([math.nan if p[0] is None else p[0] for p in positions])
        self.site_lon = np.array([math.nan if p[1] is None else p[1] for p in positions])
        self.grid = np.zeros((len(self.names), BUCKETS, len(self.edges) + 2,
                              config.bearing_bins), np.float32)
        self._bucket = np.full(BUCKETS, -1, np.int64)  # the bucket number each slot holds
        self._lock = threading.Lock()
        self.used = 0

    @property
    def bands(self) -> list[tuple[float | None, float | None]]:
        """(lower, upper) ft of each band; band 0 is every altitude (None, None)."""
        edges = [None, *self.edges.tolist(), None]
        return [(None, None), *itertools.pairwise(edges)]

    def _slot(self, now: float) -> int:
        number = int(now // self.bucket_s)
        slot = number % BUCKETS
        if self._bucket[slot] != number:
            self._bucket[slot] = number
            self.grid[:, slot] = 0.0
        return slot

    def observe_reports(self, reports: ReportBatch, now: float) -> None:
        """The positions of ``reports`` (rows without one are passed over)."""
        if not len(reports) or not len(self.names):
            return
        self._add(reports["sensor"], reports["lat"], reports["lon"], reports["alt_baro"],
                  now, reports["alt_geo"])

    def observe_plots(self, plots: PlotBatch, now: float) -> None:
        """Radar plots, placed on WGS-84 from slant range, azimuth and height (a plot
        without a height: level with the antenna, which is what its range says)."""
        if not len(plots) or not len(self.names):
            return
        p = plots[plots["sensor"] < len(self.names)]
        for s in np.unique(p["sensor"]).tolist():
            mine = p[p["sensor"] == s]
            if not math.isfinite(self.site_lat[s]):  # placed by its CAT034, not configured
                self.site_lat[s], self.site_lon[s] = mine["radar_lat"][0], mine["radar_lon"][0]
            radar_h = np.nan_to_num(mine["radar_h"])
            height = np.where(np.isfinite(mine["alt"]), mine["alt"] / M_TO_FT, radar_h)
            lat, lon = polar_to_geodetic(mine["range_m"], mine["azimuth_deg"], height,
                                         float(mine["radar_lat"][0]),
                                         float(mine["radar_lon"][0]), float(radar_h[0]))
            self._add(mine["sensor"], lat, lon, mine["alt"], now)

    def _add(self, sensor: npt.NDArray[np.uint16], lat: npt.NDArray[np.float64],
             lon: npt.NDArray[np.float64], alt_ft: npt.NDArray[np.floating], now: float,
             alt_other: npt.NDArray[np.floating] | None = None) -> None:
        with self._lock:
            slot = self._slot(now)
            self.used += _add_positions(
                self.grid, slot, sensor, lat, lon, alt_ft,
                alt_ft if alt_other is None else alt_other, self.site_lat, self.site_lon,
                self.edges, self.config.coverage_bearing_deg,
                self.config.coverage_max_range_nm)

    def outline(self, sensor: int, now: float) -> npt.NDArray[np.float32]:
        """[band, bearing bin] furthest distance (NM, 0: nothing seen) over the buckets
        of the last ``coverage_keep_s``."""
        number = int(now // self.bucket_s)
        with self._lock:
            live = (self._bucket > number - BUCKETS) & (self._bucket <= number)
            if not live.any():
                return np.zeros(self.grid.shape[2:], np.float32)
            return self.grid[sensor, live].max(axis=0)  # type: ignore[no-any-return]

    def reach_nm(self, sensor: int, lat: npt.NDArray[np.float64],
                 lon: npt.NDArray[np.float64], alt_ft: npt.NDArray[np.float64], now: float
                 ) -> npt.NDArray[np.float32]:
        """How far ``sensor`` has been seen to reach at each point's bearing, in the
        point's altitude band; 0 where it saw nothing.  A point of unknown altitude gets
        the least reach of the bands: an aircraft whose height is unknown may be low,
        where a sensor near its horizon does not see."""
        if not 0 <= sensor < len(self.names) or not math.isfinite(self.site_lat[sensor]):
            return np.zeros(len(lat), np.float32)
        out = np.zeros(len(lat), np.float32)
        _reach(self.outline(sensor, now), float(self.site_lat[sensor]),
               float(self.site_lon[sensor]), np.ascontiguousarray(lat, np.float64),
               np.ascontiguousarray(lon, np.float64),
               np.ascontiguousarray(alt_ft, np.float64), self.edges,
               self.config.coverage_bearing_deg, out)
        return out

    def summary(self, sensor: int, now: float) -> dict[str, Any] | None:
        """The outline in numbers (None: the sensor has no position)."""
        if not math.isfinite(self.site_lat[sensor]):
            return None
        grid = self.outline(sensor, now)
        seen = grid[0] > 0
        return {"max_range_nm": round(float(grid[0].max()), 1),
                "median_range_nm": round(float(np.median(grid[0][seen])), 1) if seen.any()
                else None,
                "bearings_seen": round(float(seen.mean()), 3),
                "bearing_deg": self.config.coverage_bearing_deg,
                "bands": [{"lower_ft": lo, "upper_ft": hi,
                           "max_range_nm": round(float(grid[k].max()), 1),
                           "ranges_nm": np.round(grid[k], 1).tolist()}
                          for k, (lo, hi) in enumerate(self.bands)]}

    def geojson(self, now: float, exercise: Sequence[bool] = ()) -> dict[str, Any]:
        """Every placed sensor's outline per band as GeoJSON polygons ([lon, lat])
        through the bearings where something was seen, in bearing order (with the
        sensor itself while fewer than three are)."""
        features = []
        bins = self.config.bearing_bins
        centres = (np.arange(bins) + 0.5) * self.config.coverage_bearing_deg
        for s, name in enumerate(self.names):
            if not math.isfinite(self.site_lat[s]):
                continue
            grid = self.outline(s, now)
            for band, (lo, hi) in enumerate(self.bands):
                seen = grid[band] > 0
                if not seen.any():
                    continue
                lat, lon = destination(self.site_lat[s], self.site_lon[s], centres[seen],
                                       grid[band][seen].astype(np.float64))
                ring = np.round(np.column_stack([lon, lat]), 5).tolist()
                if len(ring) < 3:
                    ring.append([round(float(self.site_lon[s]), 5),
                                 round(float(self.site_lat[s]), 5)])
                features.append({"type": "Feature", "geometry": {
                    "type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                    "properties": {"sensor": name, "band": band, "lower_ft": lo,
                                   "upper_ft": hi, "exercise": bool(exercise[s])
                                   if s < len(exercise) else False,
                                   "max_range_nm": round(float(grid[band].max()), 1)}})
        return {"type": "FeatureCollection", "features": features}

    # -- kept across restarts
    def save(self, folder: Path) -> None:
        """Write the live buckets to ``folder/coverage.parquet`` (atomically)."""
        with self._lock:
            s, slot, band, b = np.nonzero(self.grid)
            table = pa.table({
                "sensor": pa.array(np.array(self.names, dtype=object)[s] if len(s) else [],
                                   pa.string()),
                "bucket": pa.array(self._bucket[slot], pa.int64()),
                "band": pa.array(band.astype(np.int16)), "bin": pa.array(b.astype(np.int16)),
                "range_nm": pa.array(self.grid[s, slot, band, b])}, schema=_SCHEMA)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{FILE}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, folder / FILE)

    def load(self, folder: Path, now: float) -> int:
        """Take back the outlines saved in ``folder`` that are still within the span,
        for the sensors of the same name and band layout; returns cells restored.  A
        file that cannot be read is logged and left alone."""
        path = folder / FILE
        if not path.is_file():
            return 0
        try:
            table = pq.read_table(path, schema=_SCHEMA)
        except (OSError, pa.ArrowException) as exc:
            log.warning("readiness: cannot read %s (%s); coverage outlines start empty",
                        path, exc)
            return 0
        index = {name: i for i, name in enumerate(self.names)}
        cols = {name: table.column(name).to_numpy(zero_copy_only=False)
                for name in _SCHEMA.names}
        s = np.array([index.get(str(n), -1) for n in cols["sensor"]], np.int64)
        number = int(now // self.bucket_s)
        keep = ((s >= 0) & (cols["bucket"] > number - BUCKETS) & (cols["bucket"] <= number)
                & (cols["band"] >= 0) & (cols["band"] < self.grid.shape[2])
                & (cols["bin"] >= 0) & (cols["bin"] < self.grid.shape[3])
                & np.isfinite(cols["range_nm"]) & (cols["range_nm"] > 0))
        with self._lock:
            for bucket in np.unique(cols["bucket"][keep]).tolist():
                slot = int(bucket) % BUCKETS
                if self._bucket[slot] != bucket:
                    self._bucket[slot] = bucket
                    self.grid[:, slot] = 0.0
            slots = cols["bucket"][keep] % BUCKETS
            np.maximum.at(self.grid, (s[keep], slots, cols["band"][keep].astype(np.int64),
                                      cols["bin"][keep].astype(np.int64)),
                          cols["range_nm"][keep].astype(np.float32))
        return int(keep.sum())



def warm_up() -> None:
    """Compile the outline kernel (the node calls this before its first frame)."""
    outlines = CoverageOutlines(ReadinessConfig(), ["warm-up"], [(50.0, 8.0)])
    reports = empty_reports(2)
    reports["sensor"] = 0
    reports["lat"], reports["lon"], reports["alt_baro"] = (50.5, 51.0), (8.5, 9.0), (1e4, np.nan)
    outlines.observe_reports(reports, 1.7e9)
    outlines.reach_nm(0, reports["lat"], reports["lon"], reports["alt_baro"].astype(float),
                      1.7e9)
