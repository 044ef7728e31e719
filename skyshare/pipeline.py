"""decode -> fuse, on batches: the one place where the stages meet.

Used by the live node (every ~50 ms, on what the sensors delivered meanwhile) and by
the offline ``skyshare track`` command (on chunks of a file).  The pipeline owns the
decoder and the two trackers and must be called from one thread at a time:

* the address-keyed :class:`~skyshare.fusion.tracker.Tracker` (Mode S, ADS-B, MLAT,
  Mode S radar plots, and the radar plots that join its tracks);
* the :class:`~skyshare.fusion.radar_tracker.RadarTracker`, which first offers each
  radar plot without an address to the address-keyed tracks and tracks the rest.

Their tracks have distinct ids (radar-only ids start at ``FIRST_RADAR_ID``); the
picture is both (:meth:`Pipeline.snapshot`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from skyshare.badinput import BadInput
from skyshare.decode.asterix.cat048 import PLOT_DTYPE
from skyshare.decode.asterix.codec import AsterixCodec
from skyshare.decode.asterix.write048 import encode_plots
from skyshare.decode.modes import ModeSDecoder
from skyshare.fusion.dedup import DedupTable
from skyshare.fusion.radar_tracker import RadarTracker, RadarTrackerConfig
from skyshare.fusion.tracker import Tracker, TrackerConfig
from skyshare.model import (
    NO_ADDRESS,
    FrameBatch,
    PlotBatch,
    ReportBatch,
    TrackBatch,
    empty_frames,
    empty_plots,
    empty_reports,
    empty_tracks,
)
from skyshare.radar.plots import RadarSite
from skyshare.sources.base import SensorSpec, SourceOutput


def sensor_positions(sensors: Sequence[SensorSpec]) -> npt.NDArray[np.float64]:
    """(n, 2) lat/lon of each sensor by index; NaN where unknown."""
    n = max((s.index for s in sensors), default=-1) + 1
    out = np.full((n, 2), np.nan)
    for s in sensors:
        if s.lat is not None and s.lon is not None:
            out[s.index] = (s.lat, s.lon)
    return out


def concat_frames(outputs: Sequence[SourceOutput]) -> FrameBatch:
    parts = [o.frames for o in outputs if len(o.frames)]
    return np.concatenate(parts) if parts else empty_frames()


def concat_plots(parts: Sequence[PlotBatch]) -> PlotBatch:
    parts = [p for p in parts if len(p)]
    return np.concatenate(parts) if parts else empty_plots()


def concat_reports(parts: Sequence[ReportBatch]) -> ReportBatch:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_reports()
    out = np.concatenate(parts)
    if len(parts) > 1:
        out = out[np.argsort(out["time"], kind="stable")]
    return out


class Pipeline:
    """The decoder and tracker of one node (or one offline run)."""

    def __init__(self, sensors: Sequence[SensorSpec], bad: Sequence[BadInput],
                 tracker: TrackerConfig | None = None,
                 reference: tuple[float, float] | None = None,
                 radar_tracker: RadarTrackerConfig | None = None) -> None:
        self._bad = list(bad)
        self.decoder = ModeSDecoder(sensor_positions=sensor_positions(sensors),
                                    reference=reference, bad_for=self.bad_for)
        self.tracker = Tracker(tracker or TrackerConfig())
        self.radar = RadarTracker(radar_tracker or RadarTrackerConfig())
        self.frames = 0
        self.reports = 0
        self._plots: list[PlotBatch] = []

    def bad_for(self, sensor: int) -> BadInput:
        while sensor >= len(self._bad):
            self._bad.append(BadInput(sensor=f"sensor-{len(self._bad)}"))
        return self._bad[sensor]

    def decode(self, outputs: Sequence[SourceOutput]) -> ReportBatch:
        """Frames decoded and merged with ready-made (SBS) reports, in time order.
        Radar plots wait for :meth:`fuse` (the trackers place them)."""
        frames = concat_frames(outputs)
        self.frames += len(frames) + sum(len(o.reports) + len(o.plots) for o in outputs)
        self._plots += [o.plots for o in outputs if len(o.plots)]
        decoded = self.decoder.decode(frames) if len(frames) else empty_reports()
        return concat_reports([decoded, *(o.reports for o in outputs)])

    def fuse(self, reports: ReportBatch) -> TrackBatch:
        """Track updates caused by ``reports`` and the radar plots decoded since the last
        call: rows of the address-keyed tracks, then of the radar-only tracks.

        The reports go first, so radar plots meet the address-keyed tracks as this batch
        left them (a backlog of seconds, e.g. while a kernel compiles, would otherwise
        gate plots against stale tracks).  A plot that joins a track older than the
        track's latest report only counts ("out-of-order").
        """
        self.reports += len(reports)
        rows = self.tracker.update(reports)
        if not self._plots:
            return rows
        plots = concat_plots(self._plots)
        self._plots = []
        anonymous = bool((plots["icao24"] == NO_ADDRESS).any())
        cooperative = self.tracker.snapshot() if anonymous else empty_tracks()
        radar_rows, from_plots = self.radar.update(plots, cooperative)
        self.reports += len(from_plots)
        parts = [rows, self.tracker.update(from_plots), radar_rows]
        return np.concatenate([p for p in parts if len(p)]) if any(map(len, parts)) else rows

    def process(self, outputs: Sequence[SourceOutput]) -> TrackBatch:
        return self.fuse(self.decode(outputs))

    def expire(self, now: float) -> None:
        """Coast and delete stale tracks of both trackers."""
        self.tracker.expire(now)
        self.radar.expire(now)

    def snapshot(self, now: float | None = None) -> TrackBatch:
        """Every confirmed track of both trackers (address-keyed first)."""
        own = self.tracker.snapshot(now)
        if not self.radar.live_tracks:
            return own
        return np.concatenate([own, self.radar.snapshot(now)])

    @property
    def counts(self) -> dict[str, int]:
        """Both trackers' counters."""
        return {**self.tracker.counts, **self.radar.counts}


# Published example frames (identification, an even/odd position pair, velocity, an
# all-call and a surveillance reply): enough to make every decode and fusion kernel
# compile once before live frames arrive.
WARM_UP_FRAMES = (
    "8D4840D6202CC371C32CE0576098",
    "8D40621D58C382D690C8AC2863A7",
    "8D40621D58C386435CC412692AD6",
    "8D485020994409940838175B284F",
    "5D4840D6E1A1AB",
    "2000171806A983",
)


def warm_up() -> None:
    """Run a throwaway pipeline over :data:`WARM_UP_FRAMES` (compiles the kernels)."""
    frames = empty_frames(len(WARM_UP_FRAMES))
    for i, text in enumerate(WARM_UP_FRAMES):
        raw = bytes.fromhex(text)
        frames["data"][i, : len(raw)] = np.frombuffer(raw, np.uint8)
        frames["length"][i] = len(raw)
    frames["time"] = 1.7e9 + np.arange(len(frames)) * 0.1
    spec = SensorSpec(name="warm-up", index=0, format="beast", mode="connect")
    pipeline = Pipeline([spec], [BadInput(sensor="warm-up", quiet=True)])
    pipeline.process([SourceOutput(frames, empty_reports())])
    pipeline.tracker.expire(1.7e9 + 100)
    pipeline.tracker.snapshot(1.7e9 + 100)
    _warm_up_radar()
    table = DedupTable()  # its rehash kernel compiles only when the table first grows
    table.reserve(table.arrays.entries.shape[1])


def _warm_up_radar() -> None:
    """Compile the ASTERIX decoders and the radar tracker's kernels (a few plots of two
    aircraft close enough to compete for each other's plots, and one with an address)."""
    site = RadarSite(50.0, 8.0, 100.0)
    rows = np.zeros(12, PLOT_DTYPE)
    scan = np.repeat(np.arange(4), 3)
    rows["tod"] = 3600.0 + 4.0 * scan + np.tile([0.0, 0.01, 0.02], 4)
    rows["typ"] = np.tile([1, 1, 5], 4)
    rows["range_m"] = 60_000.0 + 200.0 * scan + np.tile([0.0, 300.0, 9000.0], 4)
    rows["azimuth_deg"] = 40.0 + np.tile([0.0, 0.2, 5.0], 4)
    rows["squawk"], rows["fl"], rows["track_number"] = -1, np.nan, -1
    rows["groundspeed_kt"] = rows["heading_deg"] = np.nan
    rows["icao24"] = np.tile([0xFFFFFFFF, 0xFFFFFFFF, 0x3C6DD0], 4)
    rows["fl"][2::3] = 300.0
    blocks, _ = encode_plots(rows)
    codec = AsterixCodec(0, BadInput(sensor="warm-up", quiet=True), site)
    plots = concat_plots([codec.feed(b, 1.7e9 + 3600.0).plots for b in blocks])
    tracker = RadarTracker()
    tracker.update(plots, empty_tracks())
    tracker.expire(1.7e9 + 3700.0)
    tracker.snapshot(1.7e9 + 3700.0)
