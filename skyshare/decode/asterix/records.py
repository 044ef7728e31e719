"""ASTERIX records and their items, framed in one compiled pass over the data blocks.

:func:`split_records` walks every block of a category this node reads (:mod:`.uap`):
each record's FSPEC, then each item present, whose length its kind gives.  It returns
columns: one row per record (:data:`RECORD_DTYPE`) and one per item present
(:data:`ITEM_DTYPE`: the record, the FRN and where the item's bytes are).  Decoding
what an item means is the category decoders' work, column by column.

Within a block, records follow each other with no length of their own: a record that
cannot be framed loses the rest of its block (the next block starts afresh).  Counted
and skipped, never raised (:class:`~skyshare.badinput.BadInput`):

* ``asterix-unknown-category``: a block of a category not read here (skipped whole);
* ``asterix-bad-fspec``: an FSPEC that runs past the category's items (an FX loop) or
  sets no item but FX bits (a zero byte where a record would start is padding, which
  some feeds put after their records: skipped, not counted);
* ``asterix-unknown-item``: an FSPEC or compound bit for an item the UAP does not
  define (its length is unknown);
* ``asterix-truncated-record``: an item that runs past the end of its block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numba as nb
import numpy as np
import numpy.typing as npt

from skyshare.badinput import BadInput
from skyshare.decode.asterix.uap import (
    COMPOUND,
    EXPLICIT,
    EXTENDED,
    FIXED,
    REP_FX,
    REPETITIVE,
    Tables,
    tables,
)
from skyshare.sources.asterix import HEADER_BYTES

RECORD_DTYPE: Final = np.dtype([
    ("block", "<i4"),  # row of the blocks array
    ("offset", "<i8"),  # of the record's first FSPEC byte in the data
    ("length", "<i4"),
    ("category", "u1"),
])
ITEM_DTYPE: Final = np.dtype([
    ("record", "<i4"),  # row of the records array
    ("frn", "u1"),  # 1-based Field Reference Number in the category's UAP
    ("offset", "<i8"),  # of the item's first byte in the data
    ("length", "<i4"),
])
TABLES: Final = tables()

_UNKNOWN_CATEGORY, _BAD_FSPEC, _UNKNOWN_ITEM, _TRUNCATED = range(4)
_ERRORS: Final = (
    ("asterix-unknown-category", "a data block of a category this node does not read"),
    ("asterix-bad-fspec", "an FSPEC longer than its category's items, or empty: the rest "
                          "of the block is skipped"),
    ("asterix-unknown-item", "an item the category's UAP does not define: the rest of the "
                             "block is skipped"),
    ("asterix-truncated-record", "an item runs past the end of its data block: the rest of "
                                 "the block is skipped"),
)
_MAX_SUBFIELDS: Final = 64
_BAD: Final = -1  # runs past the end, or malformed
_UNKNOWN: Final = -2  # an undefined (sub)item is present

Bytes = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]


@nb.njit(cache=True, nogil=True)
def _simple_length(data: Bytes, p: int, end: int, kind: int, a: int, b: int) -> int:
    """Bytes of a non-compound item at ``p``; _BAD or _UNKNOWN."""
    if kind == FIXED:
        n = a
    elif kind == EXTENDED:
        n = a
        while p + n <= end and data[p + n - 1] & 1:
            n += b
    elif kind == REPETITIVE:
        if p >= end:
            return _BAD
        n = 1 + int(data[p]) * a
    elif kind == REP_FX:
        n = a
        while p + n <= end and data[p + n - 1] & 1:
            n += a
    elif kind == EXPLICIT:
        if p >= end:
            return _BAD
        n = int(data[p])
        if n < 1:
            return _BAD
    else:
        return _UNKNOWN
    return n if p + n <= end else _BAD


@nb.njit(cache=True, nogil=True)
def _item_length(data: Bytes, p: int, end: int, spec: I64, row: int) -> int:
    """Bytes of the item at ``p`` described by ``spec[row]``; _BAD or _UNKNOWN."""
    kind, a, b = spec[row, 0], spec[row, 1], spec[row, 2]
    if kind != COMPOUND:
        return _simple_length(data, p, end, kind, a, b)
    present = np.zeros(_MAX_SUBFIELDS, np.bool_)
    q, k = p, 0
    while True:  # the primary subfield: seven subfield bits a byte, then FX
        if q >= end or k + 7 > _MAX_SUBFIELDS:
            return _BAD
        byte = data[q]
        q += 1
        for bit in range(7, 0, -1):
            if byte >> bit & 1:
                if k >= b:
                    return _UNKNOWN
                present[k] = True
            k += 1
        if not byte & 1:
            break
    for s in range(min(k, b)):
        if present[s]:
            sub = a + s
            n = _simple_length(data, q, end, spec[sub, 0], spec[sub, 1], spec[sub, 2])
            if n < 0:
                return n
            q += n
    return q - p


@nb.njit(cache=True, nogil=True)
def _records(data: Bytes, b_offset: I64, b_length: I64, b_category: I64, spec: I64,
             first: I64, count: I64, records: npt.NDArray[np.void],
             items: npt.NDArray[np.void], errors: I64) -> tuple[int, int]:
    n_rec = n_item = 0
    for bi in range(len(b_offset)):
        cat = b_category[bi]
        n_frn = count[cat]
        if n_frn == 0:
            errors[_UNKNOWN_CATEGORY] += 1
            continue
        max_fspec = (n_frn + 6) // 7
        p, end = b_offset[bi] + HEADER_BYTES, b_offset[bi] + b_length[bi]
        while p < end:
            if data[p] == 0:  # an empty FSPEC: padding some feeds put after the records
                p += 1
                continue
            start, item_mark = p, n_item
            error = -1
            fspec = 0
            while True:  # the FSPEC
                if p >= end:
                    error = _TRUNCATED
                    break
                byte = data[p]
                p += 1
                fspec += 1
                if not byte & 1:
                    break
                if fspec >= max_fspec:
                    error = _BAD_FSPEC
                    break
            if error < 0:
                any_item = False
                for j in range(fspec):
                    byte = data[start + j]
                    for bit in range(7, 0, -1):
                        if not byte >> bit & 1:
                            continue
                        any_item = True
                        frn = 7 * j + (7 - bit) + 1
                        if frn > n_frn:
                            error = _UNKNOWN_ITEM
                            break
                        n = _item_length(data, p, end, spec, first[cat] + frn - 1)
                        if n < 0:
                            error = _UNKNOWN_ITEM if n == _UNKNOWN else _TRUNCATED
                            break
                        items[n_item].record = n_rec
                        items[n_item].frn = frn
                        items[n_item].offset = p
                        items[n_item].length = n
                        n_item += 1
                        p += n
                    if error >= 0:
                        break
                if error < 0 and not any_item:  # only FX bits: a record with no item
                    error = _BAD_FSPEC
            if error >= 0:
                errors[error] += 1
                n_item = item_mark  # the record's items go with it
                break  # records have no length of their own: the block is lost from here
            records[n_rec].block = bi
            records[n_rec].offset = start
            records[n_rec].length = p - start
            records[n_rec].category = cat
            n_rec += 1
    return n_rec, n_item


@dataclass(frozen=True)
class Records:
    """The records of some data blocks and the items present in them (columns)."""

    records: npt.NDArray[np.void]  # RECORD_DTYPE
    items: npt.NDArray[np.void]  # ITEM_DTYPE, by record then FRN order


def split_records(data: Bytes, blocks: npt.NDArray[np.void], bad: BadInput,
                  uaps: Tables = TABLES) -> Records:
    """Frame the records and items of ``blocks`` (found by
    :func:`skyshare.sources.asterix.split_blocks` in the same ``data``)."""
    size = int(blocks["length"].sum()) if len(blocks) else 0
    records = np.zeros(size // 2 + 1, RECORD_DTYPE)
    items = np.zeros(size + 1, ITEM_DTYPE)
    errors = np.zeros(len(_ERRORS), np.int64)
    n_rec, n_item = _records(data, blocks["offset"].astype(np.int64),
                             blocks["length"].astype(np.int64),
                             blocks["category"].astype(np.int64), uaps.spec, uaps.first,
                             uaps.count, records, items, errors)
    for (kind, detail), n in zip(_ERRORS, errors, strict=True):
        bad.add(kind, int(n), detail)
    return Records(records[:n_rec], items[:n_item])


@nb.njit(cache=True, nogil=True, inline="always")
def uint_be(data: Bytes, p: int, n: int) -> int:
    """The unsigned big-endian integer of ``data[p:p + n]`` (inside item decoders)."""
    v = 0
    for k in range(n):
        v = (v << 8) | int(data[p + k])
    return v


@nb.njit(cache=True, nogil=True, inline="always")
def put_be(buf: Bytes, p: int, value: int, n: int) -> int:
    """Write ``value`` as ``n`` big-endian bytes at ``buf[p]`` (inside item writers);
    returns the offset after them."""
    for k in range(n):
        buf[p + k] = (value >> (8 * (n - 1 - k))) & 0xFF
    return p + n


@nb.njit(cache=True, nogil=True, inline="always")
def next_block(buf: Bytes, p: int, block: int, category: int, max_record: int,
               max_block: int, bounds: npt.NDArray[np.int64],
               n_blocks: int) -> tuple[int, int, int]:
    """Before a writer puts a record at ``p``: close the open block (at ``block``, -1:
    none) and open one of ``category`` when a record of up to ``max_record`` bytes might
    not fit in ``max_block``.  Returns (p, block, n_blocks)."""
    if block < 0 or p + max_record - block > max_block:
        if block >= 0:
            put_be(buf, block + 1, p - block, 2)
        block = p
        buf[p] = category
        p += 3
        bounds[n_blocks] = block
        n_blocks += 1
    return p, block, n_blocks


@nb.njit(cache=True, nogil=True, inline="always")
def signed(v: int, bits: int) -> int:
    """``v`` read as a two's complement number of ``bits`` bits."""
    return v - (1 << bits) if v >> (bits - 1) & 1 else v


@nb.njit(cache=True, nogil=True, inline="always")
def squawk_of(code: int) -> int:
    """A 12-bit Mode 3/A code (A4 A2 A1 B4 ... D1) as four octal digits written in
    decimal (7700), the node's squawk."""
    return (((code >> 9) & 7) * 1000 + ((code >> 6) & 7) * 100 + ((code >> 3) & 7) * 10
            + (code & 7))


@dataclass(frozen=True)
class CategoryRows:
    """What an item decoder of one category needs: its records (``records``, rows of
    ``Records.records``), the output row of every record (-1: another category), and
    the items' record, FRN and offset as int64 columns."""

    records: npt.NDArray[np.int64]
    row_of_record: npt.NDArray[np.int64]
    item_record: npt.NDArray[np.int64]
    item_frn: npt.NDArray[np.int64]
    item_offset: npt.NDArray[np.int64]


def category_rows(framed: Records, category: int) -> CategoryRows:
    mine = np.flatnonzero(framed.records["category"] == category)
    row_of_record = np.full(len(framed.records), -1, np.int64)
    row_of_record[mine] = np.arange(len(mine))
    items = framed.items
    return CategoryRows(mine.astype(np.int64), row_of_record,
                        items["record"].astype(np.int64), items["frn"].astype(np.int64),
                        items["offset"].astype(np.int64))


DAY_S: Final = 86400.0


def unix_time_of_day(tod: npt.ArrayLike, around: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The UNIX times nearest ``around`` (UNIX s, e.g. when the datagram arrived) whose
    UTC time of day is ``tod`` (s since midnight, as ASTERIX sends it): a report sent
    just before midnight and read just after it keeps its own day.  NaN stays NaN."""
    tod_a = np.asarray(tod, np.float64)
    near = np.asarray(around, np.float64)
    day = np.floor(near / DAY_S) * DAY_S
    t = day + tod_a
    t = np.where(t - near > DAY_S / 2, t - DAY_S, t)
    return np.where(near - t > DAY_S / 2, t + DAY_S, t)
