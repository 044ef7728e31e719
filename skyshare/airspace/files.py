"""Reading airspace and region files: the one module of the package that touches the disk."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from skyshare.airspace.geojson import parse_geojson, parse_regions
from skyshare.airspace.openair import parse_openair
from skyshare.airspace.regions import Regions
from skyshare.airspace.volumes import Volume
from skyshare.errors import AirspaceFileError


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise AirspaceFileError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None


def load_openair(path: str | Path, *, ignored: Counter[str] | None = None) -> list[Volume]:
    """Volumes of an OpenAir file (see :func:`parse_openair`)."""
    return parse_openair(_read(path), str(path), ignored=ignored)


def load_geojson(path: str | Path) -> list[Volume]:
    """Volumes of a GeoJSON file (see :func:`parse_geojson`)."""
    return parse_geojson(_read(path), str(path))


def load_airspace(path: str | Path) -> list[Volume]:
    """Volumes of a .geojson/.json or .txt/.openair file."""
    return _load_airspace(path, {})


def load_volumes(paths: Iterable[str | Path]) -> list[Volume]:
    """The volumes of several airspace files (see :func:`load_airspace`) as one set: an id
    names one volume of the whole set, so its repeat in a later file is an error too."""
    ids: dict[str, Volume] = {}
    return [v for path in paths for v in _load_airspace(path, ids)]


def _load_airspace(path: str | Path, ids: dict[str, Volume]) -> list[Volume]:
    suffix = Path(path).suffix.lower()
    if suffix in (".geojson", ".json"):
        return parse_geojson(_read(path), str(path), ids=ids)
    if suffix in (".txt", ".openair"):
        return parse_openair(_read(path), str(path), ids=ids)
    raise AirspaceFileError(f"unknown airspace file type {suffix!r} "
                            "(expected .geojson, .json, .txt or .openair)", path=str(path))


def load_regions(path: str | Path, *, overlap_tolerance_km2: float = 1.0) -> Regions:
    """Responsibility regions of a GeoJSON file (see :class:`Regions` for overlaps)."""
    return load_region_files([path], overlap_tolerance_km2=overlap_tolerance_km2)


def load_region_files(paths: Iterable[str | Path], *,
                      overlap_tolerance_km2: float = 1.0) -> Regions:
    """The regions of several GeoJSON files as one set, indexed and checked for
    overlaps once, across the files."""
    return Regions([r for path in paths for r in parse_regions(_read(path), str(path))],
                   overlap_tolerance_km2=overlap_tolerance_km2)
