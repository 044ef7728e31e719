"""What a node sends out besides its web API: the picture as ASTERIX CAT062.

An air navigation centre's systems and existing ASTERIX tools take system tracks in
CAT062; :func:`serve_cat062` sends the node's published picture to a UDP address every
``interval_s``, one datagram per data block (at most 1,400 bytes), with the node's
SAC/SIC.  Exercise tracks are sent with their SIM bit set (I062/080), never as real.
Track numbers (I062/040, 16 bits) are handed out by :class:`TrackNumbers`: a track
keeps its number while it lives, and no two tracks of a picture share one (the node's
ids are wider than 16 bits, and radar-only and partner-only ids come from other ranges).

YAML (``outputs:`` of the node configuration)::

    outputs:
      - cat062: 10.0.0.5:8600   # HOST:PORT the datagrams go to
        sac: 25
        sic: 1
        interval_s: 1.0          # one picture each second (a typical SDPS update)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from skyshare.decode.asterix.write062 import (
    encode_system_tracks,
    picture_status,
    system_tracks_from_picture,
)
from skyshare.errors import AddressError, ConfigError
from skyshare.picture import Picture

log = logging.getLogger("skyshare.outputs")


@dataclass(frozen=True)
class Cat062Output:
    """Where and how often the picture goes out as CAT062."""

    host: str
    port: int
    sac: int = 0
    sic: int = 1
    interval_s: float = 1.0

    def __post_init__(self) -> None:
        for name, value in (("sac", self.sac), ("sic", self.sic)):
            if not (isinstance(value, int) and 0 <= value <= 255):
                raise ConfigError(f"must be 0-255, not {value!r}", where=f"outputs.{name}")
        if not (math.isfinite(self.interval_s) and 0.05 <= self.interval_s <= 3600):
            raise ConfigError(f"must be 0.05-3600 s, not {self.interval_s!r}",
                              where="outputs.interval_s")


def output_from_mapping(raw: Any, where: str,
                        parse_hostport: Callable[[str], tuple[str, int]]) -> Cat062Output:
    """One entry of ``outputs:``."""
    if not isinstance(raw, dict) or "cat062" not in raw:
        raise ConfigError("each output is a mapping with cat062: HOST:PORT (and sac, sic, "
                          "interval_s)", where=where)
    unknown = set(raw) - {"cat062", "sac", "sic", "interval_s"}
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}; expected cat062, sac, sic, "
                          "interval_s", where=where)
    try:
        host, port = parse_hostport(str(raw["cat062"]))
        return Cat062Output(host, port, int(raw.get("sac", 0)), int(raw.get("sic", 1)),
                            float(raw.get("interval_s", 1.0)))
    except (AddressError, TypeError, ValueError) as exc:
        raise ConfigError(str(exc), where=where) from exc
    except ConfigError as exc:
        raise ConfigError(str(exc), where=where) from exc


class TrackNumbers:
    """Stable, unique 16-bit system track numbers for the picture's track ids."""

    SIZE = 1 << 16

    def __init__(self) -> None:
        self._ids = np.zeros(0, np.uint32)  # sorted
        self._numbers = np.zeros(0, np.int64)

    def assign(self, track_ids: npt.NDArray[np.uint32]) -> npt.NDArray[np.int64]:
        """The number of each id (-1 when all 65,536 are taken: the track is left
        out); ids no longer given release theirs."""
        alive = np.isin(self._ids, track_ids)
        ids, numbers = self._ids[alive], self._numbers[alive]
        new = np.unique(track_ids[~np.isin(track_ids, ids)])
        used = np.zeros(self.SIZE, bool)
        used[numbers] = True
        free = np.flatnonzero(~used)[:len(new)]
        new = new[:len(free)]
        ids = np.concatenate([ids, new])
        numbers = np.concatenate([numbers, free])
        order = np.argsort(ids, kind="stable")
        self._ids, self._numbers = ids[order], numbers[order]
        at = np.minimum(np.searchsorted(self._ids, track_ids), max(len(self._ids) - 1, 0))
        found = (self._ids[at] == track_ids) if len(self._ids) else np.zeros(len(track_ids),
                                                                              bool)
        return np.where(found, self._numbers[at] if len(self._ids) else -1, -1)


async def serve_cat062(picture: Picture, out: Cat062Output, stop: asyncio.Event) -> None:
    """Send ``picture`` to ``out`` every ``out.interval_s`` until ``stop`` is set.  A send
    that fails is logged once and retried at the next interval (a receiver that is down
    is not the node's problem)."""
    family, kind, proto, _, address = socket.getaddrinfo(out.host, out.port,
                                                         type=socket.SOCK_DGRAM)[0]
    sent = 0
    failing = False
    numbers = TrackNumbers()
    with socket.socket(family, kind, proto) as sock:
        sock.setblocking(False)
        while not stop.is_set():
            tracks = picture.tracks
            system = system_tracks_from_picture(tracks, out.sac, out.sic)
            system["track_number"] = numbers.assign(tracks["track_id"])
            blocks, dropped = encode_system_tracks(system, status=picture_status(tracks))
            try:
                for block in blocks:
                    sock.sendto(block, address)
                    sent += 1
                failing = False
            except OSError as exc:
                if not failing:
                    log.warning("CAT062 to %s:%d failed (%s); retrying each interval",
                                out.host, out.port, exc)
                failing = True
            if dropped:
                log.debug("CAT062: %d tracks without a number or a time left out", dropped)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), out.interval_s)
    log.info("CAT062 to %s:%d: %d datagrams sent", out.host, out.port, sent)
