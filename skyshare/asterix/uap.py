"""Which items a record of each ASTERIX category may hold, and how long each is.

A record starts with its FSPEC: one bit per Field Reference Number (FRN) of the
category's User Application Profile (UAP), seven to a byte, the last bit of each byte
(FX) saying another FSPEC byte follows.  The items present follow in FRN order, each
framed by its own kind:

========== ==========================================================================
FIXED n     n bytes
EXTENDED    a first part of ``a`` bytes, then parts of ``b`` bytes while the last bit
            of a part (FX) is set
REPETITIVE  one byte REP, then REP elements of ``a`` bytes
EXPLICIT    one byte LEN (counting itself), then LEN - 1 bytes (SP and RE items)
COMPOUND    a primary subfield (FX-extended bitmap, seven subfields a byte), then the
            subfields present, each FIXED, EXTENDED, REPETITIVE or EXPLICIT (rows
            ``a .. a + b - 1`` of the table)
========== ==========================================================================

:data:`CATEGORIES` holds the UAPs this node reads; :func:`tables` packs them into the
arrays the record kernel (:mod:`.records`) walks.  Editions: CAT034 1.27-1.29, CAT048
1.21-1.32 (the same UAP; items the later editions added are in their place).  The
record kernel frames items only; what the items mean is decoded per category.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

NONE, FIXED, EXTENDED, REPETITIVE, EXPLICIT, COMPOUND = range(6)


@dataclass(frozen=True)
class Item:
    """One UAP entry (or compound subfield); ``name`` like ``"I048/040"``."""

    name: str
    kind: int
    a: int = 0
    b: int = 0
    subfields: tuple[Item | None, ...] = ()  # COMPOUND: in order; None: spare


def fixed(name: str, n: int) -> Item:
    return Item(name, FIXED, n)


def extended(name: str, first: int = 1, part: int = 1) -> Item:
    return Item(name, EXTENDED, first, part)


def repetitive(name: str, element: int) -> Item:
    return Item(name, REPETITIVE, element)


def explicit(name: str) -> Item:
    return Item(name, EXPLICIT)


def compound(name: str, *subfields: Item | None) -> Item:
    return Item(name, COMPOUND, subfields=subfields)


CAT034: Final = (
    fixed("I034/010", 2), fixed("I034/000", 1), fixed("I034/030", 3),
    fixed("I034/020", 1), fixed("I034/041", 2),
    compound("I034/050", fixed("COM", 1), None, None, fixed("PSR", 1), fixed("SSR", 1),
             fixed("MDS", 2)),
    compound("I034/060", fixed("COM", 1), None, None, fixed("PSR", 1), fixed("SSR", 1),
             fixed("MDS", 1)),
    repetitive("I034/070", 2), fixed("I034/100", 8), fixed("I034/110", 1),
    fixed("I034/120", 8), fixed("I034/090", 2), explicit("I034/RE"), explicit("I034/SP"),
)
CAT048: Final = (
    fixed("I048/010", 2), fixed("I048/140", 3), extended("I048/020"), fixed("I048/040", 4),
    fixed("I048/070", 2), fixed("I048/090", 2),
    compound("I048/130", *(fixed(n, 1) for n in ("SRL", "SRR", "SAM", "PRL", "PAM",
                                                 "RPD", "APD"))),
    fixed("I048/220", 3), fixed("I048/240", 6), repetitive("I048/250", 8),
    fixed("I048/161", 2), fixed("I048/042", 4), fixed("I048/200", 4),
    extended("I048/170"),
    fixed("I048/210", 4), extended("I048/030"), fixed("I048/080", 2), fixed("I048/100", 4),
    fixed("I048/110", 2), compound("I048/120", fixed("CAL", 2), repetitive("RDS", 6)),
    fixed("I048/230", 2),
    fixed("I048/260", 7), fixed("I048/055", 1), fixed("I048/050", 2), fixed("I048/065", 1),
    fixed("I048/060", 2), explicit("I048/SP"), explicit("I048/RE"),
)
CATEGORIES: Final[dict[int, tuple[Item, ...]]] = {34: CAT034, 48: CAT048}


@dataclass(frozen=True)
class Tables:
    """The UAPs as arrays: ``spec`` rows (kind, a, b); category c's FRN f (1-based) is
    row ``first[c] + f - 1`` for f <= ``count[c]`` (count 0: category not read)."""

    spec: npt.NDArray[np.int64]
    first: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]
    names: tuple[str, ...]  # of each row, for messages and tests


def tables(categories: dict[int, tuple[Item, ...]] = CATEGORIES) -> Tables:
    rows: list[tuple[int, int, int]] = []
    names: list[str] = []
    first = np.zeros(256, np.int64)
    count = np.zeros(256, np.int64)
    pending: list[tuple[int, Item]] = []  # compound rows whose subfields come later
    for cat, uap in sorted(categories.items()):
        first[cat], count[cat] = len(rows), len(uap)
        for item in uap:
            if item.kind == COMPOUND:
                pending.append((len(rows), item))
            rows.append((item.kind, item.a, item.b))
            names.append(item.name)
    for row, item in pending:
        rows[row] = (COMPOUND, len(rows), len(item.subfields))
        for sub in item.subfields:
            if sub is not None and sub.kind == COMPOUND:
                raise ValueError(f"{item.name}: a compound inside a compound")
            rows.append((NONE, 0, 0) if sub is None else (sub.kind, sub.a, sub.b))
            names.append(f"{item.name}/{'spare' if sub is None else sub.name}")
    return Tables(np.array(rows, np.int64).reshape(-1, 3), first, count, tuple(names))
