"""Airspace volumes and responsibility regions: loading, and checks over every track.

Two questions of civil airspace security are answered here for the whole picture at
once (numpy arrays of every track, no Python loop per track): which tracks are inside
an active restricted volume, or will enter one soon (:class:`VolumeSet`); and which
partner (air navigation service) is responsible for a position (:class:`Regions`).

Files (:func:`load_airspace`, :func:`load_volumes`, :func:`load_regions`,
:func:`load_region_files`) are configuration: all or nothing.  The first bad record
stops loading with an :class:`AirspaceFileError` whose ``where`` is ``file:line``
(OpenAir, JSON syntax) or ``file:feature N`` (GeoJSON; N indexes the ``features``
array from 0, as ``jq '.features[N]'`` does).  A volume's id (OpenAir ``AI``, else
``AN``; GeoJSON ``id``, else ``name``) names one volume of a loaded set (a file, or the
files given to :func:`load_volumes`): a second volume with the same id is an error
naming both places.  Regions have no id: a partner may own several, and
:class:`Regions` checks their overlaps instead.

Conventions and known approximations:

* Geometry is planar in lon/lat degrees (shapely), edges are straight in lon/lat, and
  OpenAir arcs and circles are sampled every :data:`ARC_STEP_DEG` degrees on a sphere.
  Volumes crossing the antimeridian are not supported.
* Vertical limits: FL limits compare with the barometric altitude ``alt`` (``alt_geo``
  when ``alt`` is unknown); AMSL limits with ``alt_geo`` (``alt`` when unknown).  AGL
  limits are compared as if AMSL (there is no terrain model): over high ground an AGL
  volume is too low by the terrain height.  A lower limit at or below 0 ft (GND, SFC,
  0 ft AGL) is no lower bound; UNL is no upper bound; limits are inclusive.
* A track whose altitude is unknown (NaN in both) counts as vertically inside by
  default (``unknown_alt_inside=True``): a security alert must not miss a target that
  does not report altitude.  With ``False`` it is inside only volumes that span every
  altitude (no lower and no upper bound).
* Arcs and circles are inscribed polygons: at most r(1 - cos 1 deg), 3 m at 10 NM,
  inside the true curve.
* Dead reckoning (:func:`dead_reckon`) is a straight line in lon/lat at constant ground
  speed and track, scaled at the start latitude on a sphere; altitude changes at the
  constant vertical rate.  It departs from a great circle by about d^2 tan(lat) / 2R
  (85 m after 30 km at 50 N: well under a second of flight); entry times are exact for
  this model (no time sampling).

Layout, upstream first: :mod:`~skyshare.airspace.limits`, :mod:`~skyshare.airspace.schedule`
and :mod:`~skyshare.airspace.geometry` (values); :mod:`~skyshare.airspace.index` (the
grid and crossing kernels); :mod:`~skyshare.airspace.volumes` and
:mod:`~skyshare.airspace.regions` (the checks); :mod:`~skyshare.airspace.openair` and
:mod:`~skyshare.airspace.geojson` (formats, text in, no I/O); and
:mod:`~skyshare.airspace.files` (reading files).
"""

from __future__ import annotations

from skyshare.airspace.files import (
    load_airspace,
    load_geojson,
    load_openair,
    load_region_files,
    load_regions,
    load_volumes,
)
from skyshare.airspace.geojson import parse_geojson, parse_regions
from skyshare.airspace.geometry import ARC_STEP_DEG, dead_reckon

# re-exported for the rest of skyshare (one copy of the geodesy constants), not in __all__
from skyshare.airspace.geometry import EARTH_RADIUS_M as EARTH_RADIUS_M
from skyshare.airspace.geometry import NM_M as NM_M
from skyshare.airspace.limits import Limit, LimitRef, parse_limit
from skyshare.airspace.openair import parse_openair
from skyshare.airspace.regions import Region, Regions
from skyshare.airspace.schedule import ALWAYS, Schedule, ScheduleTable, WeeklyWindow
from skyshare.airspace.volumes import Volume, VolumeSet, active_mask
from skyshare.errors import AirspaceFileError

__all__ = [
    "ALWAYS",
    "ARC_STEP_DEG",
    "AirspaceFileError",
    "Limit",
    "LimitRef",
    "Region",
    "Regions",
    "Schedule",
    "ScheduleTable",
    "Volume",
    "VolumeSet",
    "WeeklyWindow",
    "active_mask",
    "dead_reckon",
    "load_airspace",
    "load_geojson",
    "load_openair",
    "load_region_files",
    "load_regions",
    "load_volumes",
    "parse_geojson",
    "parse_limit",
    "parse_openair",
    "parse_regions",
]
