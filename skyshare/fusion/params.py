"""What the numba kernels receive from :class:`~skyshare.fusion.tracker.TrackerConfig`.

Units are converted once here (knots to m/s); the kernels read plain floats from a
``NamedTuple``, which numba passes by value.  Counter indices name the entries of the
tracker's statistics array (``Tracker.counts`` turns them into a dict).
"""

from __future__ import annotations

from typing import Final, NamedTuple


class KernelParams(NamedTuple):
    dedup_window_s: float
    confirm_messages: int
    coast_after_s: float
    delete_after_s: float
    delete_surface_after_s: float
    max_speed_mps: float
    max_surface_speed_mps: float
    q_horizontal: float  # m^2/s^3, white-noise acceleration density
    q_vertical: float  # ft^2/s^3
    position_sigma_m: float
    velocity_sigma_mps: float
    gate_sigmas: float
    reinit_after: int


COUNTER_NAMES: Final = (
    "reports",
    "duplicates",
    "no-address",
    "bad-time",
    "out-of-order",
    "invalid-position",
    "rejected-implausible",
    "rejected-velocity",
    "rejected-altitude",
    "tracks-created",
    "tracks-confirmed",
    "tracks-deleted",
    "tracks-reinitialised",
    "positions-dropped",
    "filter-resets",
    "track-updates",
)
(REPORTS, DUPLICATES, NO_ADDRESS, BAD_TIME, OUT_OF_ORDER, INVALID_POSITION, REJECTED,
 REJECTED_VELOCITY, REJECTED_ALTITUDE, CREATED, CONFIRMED, DELETED, REINITIALISED,
 POSITIONS_DROPPED, FILTER_RESETS, UPDATES) = range(len(COUNTER_NAMES))
