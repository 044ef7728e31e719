"""An ASTERIX sensor's bytes -> radar plots (and reports), for the node's readers.

:class:`AsterixCodec` takes whole datagrams (a radar or a radar head sends one UDP
datagram per group of data blocks): blocks, then records, then values, each one
columnar pass.  CAT048 plots become :data:`~skyshare.model.RADAR_PLOT_DTYPE` rows placed
by the sensor's :class:`~skyshare.radar.plots.RadarSite`; CAT021 ADS-B target reports
become reports (an ADS-B ground station needs no position); CAT034 service messages give
the antenna's rotation period (I034/041) and, for a radar configured without a
position, its position (I034/120).  Other categories (CAT062 system tracks) are framed
and counted, not used: a centre's tracks are not sensor data to fuse again.
Bad bytes are counted per kind in the sensor's :class:`~skyshare.badinput.BadInput`
(``asterix-*``) and skipped; the next datagram starts afresh.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from skyshare.badinput import BadInput
from skyshare.decode.asterix.cat021 import decode_adsb
from skyshare.decode.asterix.cat034 import decode_service
from skyshare.decode.asterix.cat048 import decode_plots
from skyshare.decode.asterix.records import split_records
from skyshare.model import empty_frames, empty_plots, empty_reports
from skyshare.radar.plots import RadarSite, radar_plots
from skyshare.sources.asterix import split_blocks
from skyshare.sources.base import SourceOutput

NO_POSITION_KIND = "asterix-radar-position-unknown"


class AsterixCodec:
    """A :class:`~skyshare.sources.base.Codec` for one ASTERIX sensor (datagrams)."""

    def __init__(self, sensor: int, bad: BadInput, site: RadarSite | None) -> None:
        self.sensor = sensor
        self.bad = bad
        self.site = site
        self._good = 0

    @property
    def good_bytes(self) -> int:
        return self._good

    def feed(self, chunk: bytes, recv_time: float) -> SourceOutput:
        """One datagram (or whole data blocks back to back) received at ``recv_time``."""
        data = np.frombuffer(chunk, np.uint8)
        blocks = split_blocks(data, self.bad)
        if not len(blocks):
            return SourceOutput(empty_frames(), empty_reports())
        self._good += int(blocks["length"].sum())
        framed = split_records(data, blocks, self.bad)
        categories = framed.records["category"]
        if (categories == 34).any():
            self._service(decode_service(data, framed))
        reports = (decode_adsb(data, framed, self.sensor, recv_time)
                   if (categories == 21).any() else empty_reports())
        plots = empty_plots()
        if (categories == 48).any():
            decoded = decode_plots(data, framed)
            if self.site is None:
                self.bad.add(NO_POSITION_KIND, len(decoded),
                             "CAT048 plots from a radar whose position is not configured "
                             "(sensor 'position:') and not yet sent in CAT034 I034/120")
            else:
                plots = radar_plots(decoded, self.sensor, self.site, recv_time)
        return SourceOutput(empty_frames(), reports, plots)

    def finish(self, recv_time: float) -> SourceOutput:
        return SourceOutput(empty_frames(), empty_reports())

    def _service(self, service: np.ndarray) -> None:
        """Learn the rotation period and, when unconfigured, the radar's position."""
        rotation = service["rotation_s"][np.isfinite(service["rotation_s"])]
        placed = service[np.isfinite(service["lat"]) & np.isfinite(service["lon"])]
        if self.site is None and len(placed):
            p = placed[-1]
            height = float(p["height_m"]) if math.isfinite(p["height_m"]) else 0.0
            self.site = RadarSite(float(p["lat"]), float(p["lon"]), height)
        if self.site is not None and len(rotation) and rotation[-1] > 0:
            self.site = dataclasses.replace(self.site, rotation_s=float(rotation[-1]))
