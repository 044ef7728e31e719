"""ASTERIX data blocks from bytes: UDP datagrams, raw files and pcap captures.

A data block is ``CAT (1 byte) | LEN (2 bytes, big-endian, the whole block) | records``.
A UDP datagram or a raw file holds blocks back to back.  :func:`split_blocks` finds
them in one pass and returns them as columns (:data:`BLOCK_DTYPE`), never one Python
object per block; what cannot be a block is counted in a
:class:`~skyshare.badinput.BadInput` and skipped:

* ``asterix-bad-length``: LEN below 4 (a block holds at least one FSPEC byte); the rest
  of the buffer cannot be framed and is skipped (the next datagram starts afresh);
* ``asterix-truncated``: LEN runs past the end of the buffer; the rest is skipped.

:func:`read_pcap` takes the UDP payloads out of a classic pcap capture (Ethernet with or
without VLAN tags, Linux cooked capture, or raw IPv4) with their capture times; it skips
and counts what is not an IPv4/UDP datagram it can read (``pcap-*`` kinds).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.badinput import BadInput

BLOCK_DTYPE: Final = np.dtype([
    ("offset", "<i8"),  # of the block's first byte (its CAT) in the buffer
    ("length", "<i4"),  # LEN: the whole block, header included
    ("category", "u1"),
    ("datagram", "<i4"),  # which datagram of the buffer (0 for a raw file)
])
HEADER_BYTES: Final = 3
MIN_BLOCK_BYTES: Final = 4  # CAT, LEN and one FSPEC byte

_OK, _BAD_LENGTH, _TRUNCATED = 0, 1, 2
Bytes = npt.NDArray[np.uint8]


@nb.njit(cache=True, nogil=True)
def _blocks(data: Bytes, starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64],
            out: npt.NDArray[np.void], errors: npt.NDArray[np.int64]) -> int:
    """Blocks of each datagram ``data[starts[d]:ends[d]]`` into ``out``; counts of the
    errors (by _BAD_LENGTH, _TRUNCATED) into ``errors``; returns the number of blocks."""
    n = 0
    for d in range(len(starts)):
        p, end = starts[d], ends[d]
        while p < end:
            if end - p < HEADER_BYTES:
                errors[_TRUNCATED] += 1
                break
            length = (np.int64(data[p + 1]) << 8) | np.int64(data[p + 2])
            if length < MIN_BLOCK_BYTES:
                errors[_BAD_LENGTH] += 1
                break
            if p + length > end:
                errors[_TRUNCATED] += 1
                break
            out[n].offset = p
            out[n].length = length
            out[n].category = data[p]
            out[n].datagram = d
            n += 1
            p += length
    return n


def split_blocks(data: bytes | Bytes, bad: BadInput,
                 bounds: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.void]:
    """The data blocks of ``data`` (:data:`BLOCK_DTYPE` rows).  ``bounds`` (n + 1 offsets)
    cuts ``data`` into datagrams that are framed separately; None: one buffer."""
    buf = np.frombuffer(data, np.uint8) if isinstance(data, bytes | bytearray) else data
    if bounds is None:
        bounds = np.array([0, len(buf)], np.int64)
    out = np.zeros(len(buf) // MIN_BLOCK_BYTES + 1, BLOCK_DTYPE)
    errors = np.zeros(3, np.int64)
    n = _blocks(buf, bounds[:-1], bounds[1:], out, errors)
    bad.add("asterix-bad-length", int(errors[_BAD_LENGTH]),
            "a data block's LEN is below 4 bytes: the rest of the datagram is skipped")
    bad.add("asterix-truncated", int(errors[_TRUNCATED]),
            "a data block runs past the end of its datagram")
    return out[:n]


# --------------------------------------------------------------------------- pcap
@dataclass(frozen=True)
class Datagrams:
    """UDP payloads back to back in ``data``; datagram i is ``data[bounds[i]:bounds[i+1]]``,
    captured at ``time[i]`` (UNIX s) from ``port[i]`` (destination UDP port)."""

    data: Bytes
    bounds: npt.NDArray[np.int64]
    time: npt.NDArray[np.float64]
    port: npt.NDArray[np.uint16]

    def __len__(self) -> int:
        return len(self.time)


_PCAP_MAGIC: Final = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
                      b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
PCAP_MAGICS: Final = frozenset(_PCAP_MAGIC)
_ETHERNET, _RAW, _RAW_IPV4, _LINUX_SLL = 1, 101, 228, 113
_LINKTYPES: Final = {_ETHERNET, _RAW, 12, _RAW_IPV4, _LINUX_SLL}


def read_pcap(path: str | Path, bad: BadInput) -> Datagrams:
    """The UDP datagrams of a classic pcap file (pcapng is refused with a clear error)."""
    raw = Path(path).read_bytes()
    if len(raw) < 24 or raw[:4] not in _PCAP_MAGIC:
        hint = " (pcapng: convert it with 'editcap -F pcap')" if raw[:4] == b"\x0a\x0d\x0d\x0a" \
            else ""
        raise ValueError(f"{path}: not a classic pcap file{hint}")
    order, tick = _PCAP_MAGIC[raw[:4]]
    linktype = struct.unpack_from(order + "I", raw, 20)[0] & 0x0FFFFFFF
    if linktype not in _LINKTYPES:
        raise ValueError(f"{path}: pcap link type {linktype} is not Ethernet, Linux cooked "
                         "or raw IP")
    record = struct.Struct(order + "IIII")
    payloads: list[bytes] = []
    times: list[float] = []
    ports: list[int] = []
    p = 24
    while p < len(raw):
        if p + record.size > len(raw):
            bad.add("pcap-truncated", 1, "the capture ends inside a packet header")
            break
        sec, frac, caplen, _ = record.unpack_from(raw, p)
        p += record.size
        if p + caplen > len(raw):
            bad.add("pcap-truncated", 1, "the capture ends inside a packet")
            break
        udp = _udp_payload(raw[p:p + caplen], linktype, bad)
        p += caplen
        if udp is not None:
            payloads.append(udp[1])
            ports.append(udp[0])
            times.append(sec + frac * tick)
    bounds = np.zeros(len(payloads) + 1, np.int64)
    bounds[1:] = np.cumsum([len(x) for x in payloads])
    return Datagrams(np.frombuffer(b"".join(payloads), np.uint8), bounds,
                     np.array(times, np.float64), np.array(ports, np.uint16))


def _udp_payload(frame: bytes, linktype: int, bad: BadInput) -> tuple[int, bytes] | None:
    """(destination port, payload) of an IPv4/UDP packet; None (counted) otherwise."""
    ip = _ip_packet(frame, linktype)
    if ip is None:
        bad.add("pcap-not-ipv4", 1, "a packet that is not IPv4 (ARP, IPv6 ...)")
        return None
    if len(ip) < 20 or ip[0] >> 4 != 4:
        bad.add("pcap-bad-ip", 1, "an IPv4 header that is cut short or not version 4")
        return None
    ihl = (ip[0] & 0x0F) * 4
    total = int.from_bytes(ip[2:4], "big")
    if ip[9] != 17:
        bad.add("pcap-not-udp", 1, "an IPv4 packet that is not UDP")
        return None
    if int.from_bytes(ip[6:8], "big") & 0x3FFF:  # more fragments, or an offset
        bad.add("pcap-fragment", 1, "a fragmented UDP datagram (not reassembled)")
        return None
    if ihl < 20 or total < ihl + 8 or total > len(ip):
        bad.add("pcap-bad-ip", 1, "IPv4 lengths that do not fit the packet")
        return None
    udp = ip[ihl:total]
    length = int.from_bytes(udp[4:6], "big")
    if length < 8 or length > len(udp):
        bad.add("pcap-bad-udp", 1, "a UDP length that does not fit the packet")
        return None
    return int.from_bytes(udp[2:4], "big"), udp[8:length]


def _ip_packet(frame: bytes, linktype: int) -> bytes | None:
    if linktype == _ETHERNET:
        p, ethertype = 12, 0
        while p + 2 <= len(frame):
            ethertype = int.from_bytes(frame[p:p + 2], "big")
            p += 2
            if ethertype not in (0x8100, 0x88A8):  # VLAN tags
                break
            p += 2
        return frame[p:] if ethertype == 0x0800 else None
    if linktype == _LINUX_SLL:
        return frame[16:] if frame[14:16] == b"\x08\x00" else None
    return frame  # raw IP
