"""The federation benchmark's geography and agreements (see ``bench_federation.py``).

Each partner's "receiver" hears the aircraft inside its *coverage*: its cell of a grid
over the synthetic traffic (2 rows x ``nodes / 2`` columns, cut at traffic quantiles so
every cell holds about as many aircraft) widened by ``OVERLAP_DEG`` on each side, so
neighbours hear the same aircraft along their borders.

One agreement per ordered pair of partners, with terms that differ on purpose:

* regions: between neighbours (cells touching, diagonals included) a border strip, the
  receiver's area, or the giver's whole coverage; between partners further apart the
  giver's whole coverage, or only its upper airspace (above FL245);
* fields: position; + identity; + squawk; all five groups;
* rate: 1, 2, 5, 3, 4 Hz in turn (the aircraft report about 2 positions/s);
* two agreements with ``sources: all`` over a wide region (the giver relays what other
  partners told it about the receiver's surroundings);
* one agreement with ``min_delay_s: 2`` (a delayed feed; its latency is reported on its
  own, never in the overall figure).

Coordinates are [lat, lon] degrees as in the agreement YAML; altitudes feet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import yaml

OVERLAP_DEG: Final = 0.5
"""How far a receiver hears beyond its cell (~30 nm): the overlap with neighbours."""
STRIP_DEG: Final = 1.5
"""Depth of a border strip on the giver's side."""
UPPER_FT: Final = 24_500.0
RATES_HZ: Final = (1.0, 2.0, 5.0, 3.0, 4.0)
FIELDS: Final = (("position",), ("position", "identity"),
                 ("position", "identity", "squawk"),
                 ("position", "identity", "squawk", "quality", "provenance"))
DELAY_S: Final = 2.0


@dataclass(frozen=True)
class Box:
    """A lat/lon rectangle, degrees (edges inclusive)."""

    south: float
    west: float
    north: float
    east: float

    def widened(self, deg: float) -> Box:
        return Box(max(self.south - deg, -89.0), max(self.west - deg, -179.0),
                   min(self.north + deg, 89.0), min(self.east + deg, 179.0))

    def contains(self, lat: npt.NDArray[np.float64],
                 lon: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        return (lat >= self.south) & (lat <= self.north) & (lon >= self.west) & (
            lon <= self.east)

    def intersection(self, other: Box) -> Box | None:
        out = Box(max(self.south, other.south), max(self.west, other.west),
                  min(self.north, other.north), min(self.east, other.east))
        return out if out.south < out.north and out.west < out.east else None

    def union(self, other: Box) -> Box:
        return Box(min(self.south, other.south), min(self.west, other.west),
                   max(self.north, other.north), max(self.east, other.east))

    def polygon(self) -> list[list[float]]:
        """Vertices [lat, lon], counter-clockwise, as the agreement YAML takes them."""
        return [[round(lat, 4), round(lon, 4)] for lat, lon in (
            (self.south, self.west), (self.south, self.east), (self.north, self.east),
            (self.north, self.west))]


@dataclass(frozen=True)
class Partner:
    """One node: its name, grid cell and what its receiver hears."""

    name: str
    cell: Box
    coverage: Box


@dataclass(frozen=True)
class Terms:
    """One agreement as the benchmark wrote it, and the class its latency is shown in."""

    id: str
    giver: str
    receiver: str
    region: str  # strip | receiver | area | upper | wide
    fields: tuple[str, ...]
    rate_hz: float
    sources: str = "own"
    delay_s: float = 0.0

    @property
    def klass(self) -> str:
        if self.delay_s > 0:
            return f"delayed {self.delay_s:g} s"
        if self.sources == "all":
            return "sources: all (relay)"
        return f"{self.rate_hz:g} Hz"


def partition(lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64],
              nodes: int) -> list[Partner]:
    """``nodes`` partners p1.. over a grid of the aircraft positions (equal counts)."""
    rows = 2 if nodes >= 4 and nodes % 2 == 0 else 1
    cols = nodes // rows
    outer = Box(float(lat.min()) - 1, float(lon.min()) - 1, float(lat.max()) + 1,
                float(lon.max()) + 1)
    lat_cuts = [outer.south, *np.quantile(lat, np.arange(1, rows) / rows).tolist(),
                outer.north]
    out: list[Partner] = []
    for r in range(rows):
        in_row = (lat >= lat_cuts[r]) & (lat <= lat_cuts[r + 1])
        lon_cuts = [outer.west, *np.quantile(lon[in_row], np.arange(1, cols) / cols).tolist(),
                    outer.east]
        for c in range(cols):
            cell = Box(lat_cuts[r], lon_cuts[c], lat_cuts[r + 1], lon_cuts[c + 1])
            out.append(Partner(f"p{len(out) + 1}", cell, cell.widened(OVERLAP_DEG)))
    return out


def neighbours(a: Partner, b: Partner) -> bool:
    """Cells touching (a corner is enough)."""
    return a.cell.widened(1e-6).intersection(b.cell.widened(1e-6)) is not None


def agreement_terms(partners: list[Partner]) -> list[Terms]:
    """One agreement per ordered pair; see the module docstring for how terms vary."""
    out: list[Terms] = []
    for giver in partners:
        for receiver in partners:
            if giver is receiver:
                continue
            k = len(out)
            kinds = ("strip", "receiver", "area") if neighbours(giver, receiver) else (
                "area", "upper")
            out.append(Terms(f"{giver.name}-to-{receiver.name}", giver.name, receiver.name,
                             kinds[k % len(kinds)], FIELDS[k % len(FIELDS)],
                             RATES_HZ[k % len(RATES_HZ)]))
    if len(out) >= 12:  # special terms need enough agreements to leave normal ones
        out[7] = replace(out[7], region="wide", sources="all", rate_hz=1.0)
        out[len(out) - 8] = replace(out[len(out) - 8], region="wide", sources="all",
                                    rate_hz=2.0)
        out[len(out) // 2] = replace(out[len(out) // 2], delay_s=DELAY_S, rate_hz=1.0)
    return out


def _regions(t: Terms, by_name: dict[str, Partner]) -> list[dict[str, object]]:
    g, r = by_name[t.giver], by_name[t.receiver]
    if t.region == "strip":
        box = g.coverage.intersection(r.cell.widened(STRIP_DEG)) or g.coverage
    elif t.region == "receiver":
        box = r.cell.widened(1.0)
    elif t.region == "wide":
        box = g.coverage.union(r.coverage).widened(1.0)
    else:
        box = g.coverage.widened(0.01)
    region: dict[str, object] = {"name": t.region, "polygon": box.polygon()}
    if t.region == "upper":
        region["lower_ft"] = UPPER_FT
    return [region]


def write_agreements(path: Path, terms: list[Terms], partners: list[Partner]) -> None:
    """The agreements as one YAML file (the format of skyshare.share.agreements)."""
    by_name = {p.name: p for p in partners}
    docs = []
    for t in terms:
        doc: dict[str, object] = {"id": t.id, "from": t.giver, "to": t.receiver,
                                  "regions": _regions(t, by_name), "fields": list(t.fields),
                                  "sources": t.sources, "max_rate_hz": t.rate_hz}
        if t.delay_s:
            doc["min_delay_s"] = t.delay_s
        docs.append(doc)
    header = "# written by bench/bench_federation.py: one agreement per ordered pair\n"
    path.write_text(header + yaml.safe_dump({"agreements": docs}, sort_keys=False),
                    encoding="utf-8")
