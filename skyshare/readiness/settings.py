"""Readiness settings (the node's YAML ``readiness:`` section); every one has a default
that suits an ADS-B receiver or a radar in ordinary traffic."""

from __future__ import annotations

from dataclasses import dataclass

from skyshare.config_fields import require_positive
from skyshare.errors import ConfigError

SECTION = "readiness"


@dataclass(frozen=True)
class ReadinessConfig:
    """Thresholds and windows of readiness (see :mod:`skyshare.readiness.assess`)."""

    silent_after_s: float = 30.0
    """A sensor that delivered no byte for this long is *silent* (one never heard from:
    this long after the node started)."""
    gap_s: float = 10.0
    """A silence at least this long counts as a gap in the sensor's history."""
    window_s: float = 60.0
    """Rates and ratios are measured over this window."""
    max_error_ratio: float = 0.1
    """*Degraded* when more than this share of its input was erroneous (bad framing,
    failed CRC) over the window."""
    min_rate_ratio: float = 0.5
    """*Degraded* when its message rate fell below this share of its own baseline..."""
    baseline_s: float = 1800.0
    """...the median rate of the windows in this span before the current one..."""
    min_baseline_rate: float = 2.0
    """...when that baseline is at least this many messages per second (a quiet
    receiver's rate says nothing) and covers at least five windows."""
    max_clock_drift_ppm: float = 1000.0
    """*Degraded* when its receiver clock (Beast/AVR 12 MHz timestamps) runs faster or
    slower than ours by more than this (crystals drift tens of ppm; more means the
    clock is not what it claims: multilateration would be wrong).  0: not judged."""
    clock_window_s: float = 600.0
    """The clock's drift is fitted over this span of its timestamps."""
    history_s: float = 3600.0
    """How much per-second history is kept per sensor (gaps, baseline, plots)."""
    coverage_keep_s: float = 3600.0
    """The coverage outline shows the positions of this span (in ten buckets)."""
    coverage_bearing_deg: float = 2.0
    """Width of a bearing bin of the coverage outline."""
    coverage_bands_ft: tuple[float, ...] = (10000.0, 25000.0)
    """Altitude band edges of the coverage outline (the bands below, between, above)."""
    coverage_max_range_nm: float = 400.0
    """Positions further than this from the sensor are ignored (bad positions)."""
    alerts: bool = True
    """Raise ``sensor_silent`` and ``sensor_degraded`` alerts."""

    def __post_init__(self) -> None:
        require_positive(self, SECTION, (
            "silent_after_s", "gap_s", "window_s", "baseline_s", "clock_window_s",
            "history_s", "coverage_keep_s", "coverage_bearing_deg", "coverage_max_range_nm"))
        for name in ("max_error_ratio", "min_rate_ratio"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError("must be a share, 0 to 1", where=f"{SECTION}.{name}")
        for name in ("max_clock_drift_ppm", "min_baseline_rate"):
            if not getattr(self, name) >= 0:
                raise ConfigError("cannot be negative", where=f"{SECTION}.{name}")
        bins = 360.0 / self.coverage_bearing_deg
        if abs(bins - round(bins)) > 1e-9:
            raise ConfigError("must divide 360", where=f"{SECTION}.coverage_bearing_deg")
        bands = list(self.coverage_bands_ft)
        if bands != sorted(set(bands)):
            raise ConfigError("must be increasing", where=f"{SECTION}.coverage_bands_ft")
        if self.history_s < max(self.window_s, self.baseline_s / 2):
            raise ConfigError("must cover the window and half the baseline",
                              where=f"{SECTION}.history_s")

    @property
    def bearing_bins(self) -> int:
        return round(360.0 / self.coverage_bearing_deg)
