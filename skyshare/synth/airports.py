"""The airports synthetic flights fly between: ``skyshare/data/airports.csv``, as columns.

The table lists aerodrome reference points (WGS84) and elevations of about seventy
real airports, mostly in the states of a European federation and their neighbours.
It is read on first use, not at import.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt

from skyshare.errors import ConfigError

__all__ = ["Airports", "Region", "load_airports", "parse_airports"]

Region = tuple[float, float, float, float]
"""(lat_min, lon_min, lat_max, lon_max), degrees."""


@dataclass(frozen=True)
class Airports:
    """A table of airports, one row per airport."""

    icao: npt.NDArray[np.str_]
    name: npt.NDArray[np.str_]
    country: npt.NDArray[np.str_]  # ISO 3166 alpha-2
    lat: npt.NDArray[np.float64]  # deg
    lon: npt.NDArray[np.float64]  # deg
    elevation_ft: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.icao)

    def take(self, rows: npt.NDArray[np.intp]) -> Airports:
        return Airports(self.icao[rows], self.name[rows], self.country[rows], self.lat[rows],
                        self.lon[rows], self.elevation_ft[rows])

    def within(self, region: Region) -> Airports:
        """The airports inside ``region`` (edges included)."""
        lat_min, lon_min, lat_max, lon_max = region
        inside = ((self.lat >= lat_min) & (self.lat <= lat_max)
                  & (self.lon >= lon_min) & (self.lon <= lon_max))
        return self.take(np.flatnonzero(inside))

    def index(self, icao: str) -> int:
        """Row of the airport with code ``icao``; KeyError when absent."""
        rows = np.flatnonzero(self.icao == icao.upper())
        if not len(rows):
            raise KeyError(icao)
        return int(rows[0])


def parse_airports(text: str, where: str = "airports.csv") -> Airports:
    """Airports from CSV text (header ``icao,name,country,lat,lon,elevation_ft``;
    lines starting with ``#`` are comments)."""
    lines = [ln for ln in io.StringIO(text) if ln.strip() and not ln.lstrip().startswith("#")]
    rows = list(csv.DictReader(lines))
    try:
        lat = np.array([float(r["lat"]) for r in rows])
        lon = np.array([float(r["lon"]) for r in rows])
        elevation = np.array([float(r["elevation_ft"]) for r in rows])
        icao = np.array([r["icao"].strip().upper() for r in rows], dtype="U4")
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"bad airport row: {exc}", where=where) from exc
    if ((np.abs(lat) > 90) | (np.abs(lon) > 180)).any():
        raise ConfigError("airport coordinates out of range", where=where)
    return Airports(icao=icao, name=np.array([r["name"] for r in rows], dtype=np.str_),
                    country=np.array([r["country"] for r in rows], dtype="U2"),
                    lat=lat, lon=lon, elevation_ft=elevation)


@functools.cache
def load_airports() -> Airports:
    """The packaged airport table (read once, then cached)."""
    text = resources.files("skyshare").joinpath("data/airports.csv").read_text("utf-8")
    return parse_airports(text)
