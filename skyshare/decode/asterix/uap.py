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
REP_FX      elements of ``a`` bytes while the last bit of an element (FX) is set
EXPLICIT    one byte LEN (counting itself), then LEN - 1 bytes (SP and RE items)
COMPOUND    a primary subfield (FX-extended bitmap, seven subfields a byte), then the
            subfields present, each FIXED, EXTENDED, REPETITIVE or EXPLICIT (rows
            ``a .. a + b - 1`` of the table)
========== ==========================================================================

:data:`CATEGORIES` holds the UAPs this node reads; :func:`tables` packs them into the
arrays the record kernel (:mod:`.records`) walks.  Editions: CAT034 1.27-1.29, CAT048
1.21-1.32 (the same UAP; items the later editions added are in their place).  The
record kernel frames items only; what the items mean is decoded per category.

CAT021 (2.1-2.7 frame alike) and CAT062 (1.16-1.21 frame alike) are printed from the
asterix-specs by ``tools/asterix_uap.py``; a ``None`` entry is a spare FRN.  CAT021
editions before 2 (0.2x) have another UAP and are not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

NONE, FIXED, EXTENDED, REPETITIVE, EXPLICIT, COMPOUND, REP_FX = range(7)


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


def repetitive_fx(name: str, element: int) -> Item:
    return Item(name, REP_FX, element)


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
CAT021: Final = (  # tools/asterix_uap.py 21 2.6
    fixed("I021/010", 2),
    extended("I021/040", 1, 1),
    fixed("I021/161", 2),
    fixed("I021/015", 1),
    fixed("I021/071", 3),
    fixed("I021/130", 6),
    fixed("I021/131", 8),
    fixed("I021/072", 3),
    fixed("I021/150", 2),
    fixed("I021/151", 2),
    fixed("I021/080", 3),
    fixed("I021/073", 3),
    fixed("I021/074", 4),
    fixed("I021/075", 3),
    fixed("I021/076", 4),
    fixed("I021/140", 2),
    extended("I021/090", 1, 1),
    fixed("I021/210", 1),
    fixed("I021/070", 2),
    fixed("I021/230", 2),
    fixed("I021/145", 2),
    fixed("I021/152", 2),
    fixed("I021/200", 1),
    fixed("I021/155", 2),
    fixed("I021/157", 2),
    fixed("I021/160", 4),
    fixed("I021/165", 2),
    fixed("I021/077", 3),
    fixed("I021/170", 6),
    fixed("I021/020", 1),
    compound("I021/220", fixed("WS", 2), fixed("WD", 2), fixed("TMP", 2), fixed("TRB", 1)),
    fixed("I021/146", 2),
    fixed("I021/148", 2),
    compound("I021/110", extended("TIS", 1, 1), repetitive("TID", 15)),
    fixed("I021/016", 1),
    fixed("I021/008", 1),
    extended("I021/271", 1, 1),
    fixed("I021/132", 1),
    repetitive("I021/250", 8),
    fixed("I021/260", 7),
    fixed("I021/400", 1),
    compound("I021/295", fixed("AOS", 1), fixed("TRD", 1), fixed("M3A", 1), fixed("QI", 1),
             fixed("TI1", 1), fixed("MAM", 1), fixed("GH", 1), fixed("FL", 1), fixed("SAL", 1),
             fixed("FSA", 1), fixed("AS", 1), fixed("TAS", 1), fixed("MH", 1), fixed("BVR", 1),
             fixed("GVR", 1), fixed("GV", 1), fixed("TAR", 1), fixed("TI2", 1), fixed("TS", 1),
             fixed("MET", 1), fixed("ROA", 1), fixed("ARA", 1), fixed("SCC", 1)),
    None,
    None,
    None,
    None,
    None,
    explicit("I021/RE"),
    explicit("I021/SP"),
)
CAT062: Final = (  # tools/asterix_uap.py 62 1.19
    fixed("I062/010", 2),
    None,
    fixed("I062/015", 1),
    fixed("I062/070", 3),
    fixed("I062/105", 8),
    fixed("I062/100", 6),
    fixed("I062/185", 4),
    fixed("I062/210", 2),
    fixed("I062/060", 2),
    fixed("I062/245", 7),
    compound("I062/380", fixed("ADR", 3), fixed("ID", 6), fixed("MHG", 2), fixed("IAS", 2),
             fixed("TAS", 2), fixed("SAL", 2), fixed("FSS", 2), extended("TIS", 1, 1),
             repetitive("TID", 15), fixed("COM", 2), fixed("SAB", 2), fixed("ACS", 7),
             fixed("BVR", 2), fixed("GVR", 2), fixed("RAN", 2), fixed("TAR", 2),
             fixed("TAN", 2), fixed("GS", 2), fixed("VUN", 1), fixed("MET", 8), fixed("EMC", 1),
             fixed("POS", 6), fixed("GAL", 2), fixed("PUN", 1), repetitive("MB", 8),
             fixed("IAR", 2), fixed("MAC", 2), fixed("BPS", 2)),
    fixed("I062/040", 2),
    extended("I062/080", 1, 1),
    compound("I062/290", fixed("TRK", 1), fixed("PSR", 1), fixed("SSR", 1), fixed("MDS", 1),
             fixed("ADS", 2), fixed("ES", 1), fixed("VDL", 1), fixed("UAT", 1), fixed("LOP", 1),
             fixed("MLT", 1)),
    fixed("I062/200", 1),
    compound("I062/295", fixed("MFL", 1), fixed("MD1", 1), fixed("MD2", 1), fixed("MDA", 1),
             fixed("MD4", 1), fixed("MD5", 1), fixed("MHG", 1), fixed("IAS", 1),
             fixed("TAS", 1), fixed("SAL", 1), fixed("FSS", 1), fixed("TID", 1),
             fixed("COM", 1), fixed("SAB", 1), fixed("ACS", 1), fixed("BVR", 1),
             fixed("GVR", 1), fixed("RAN", 1), fixed("TAR", 1), fixed("TAN", 1),
             fixed("GSP", 1), fixed("VUN", 1), fixed("MET", 1), fixed("EMC", 1),
             fixed("POS", 1), fixed("GAL", 1), fixed("PUN", 1), fixed("MB", 1), fixed("IAR", 1),
             fixed("MAC", 1), fixed("BPS", 1)),
    fixed("I062/136", 2),
    fixed("I062/130", 2),
    fixed("I062/135", 2),
    fixed("I062/220", 2),
    compound("I062/390", fixed("TAG", 2), fixed("CS", 7), fixed("IFI", 4), fixed("FCT", 1),
             fixed("TAC", 4), fixed("WTC", 1), fixed("DEP", 4), fixed("DST", 4),
             fixed("RDS", 3), fixed("CFL", 2), fixed("CTL", 2), repetitive("TOD", 4),
             fixed("AST", 6), fixed("STS", 1), fixed("STD", 7), fixed("STA", 7),
             fixed("PEM", 2), fixed("PEC", 7)),
    extended("I062/270", 1, 1),
    fixed("I062/300", 1),
    compound("I062/110", fixed("SUM", 1), fixed("PMN", 4), fixed("POS", 6), fixed("GA", 2),
             fixed("EM1", 2), fixed("TOS", 1), fixed("XP", 1)),
    fixed("I062/120", 2),
    repetitive_fx("I062/510", 3),
    compound("I062/500", fixed("APC", 4), fixed("COV", 2), fixed("APW", 4), fixed("AGA", 1),
             fixed("ABA", 1), fixed("ATV", 2), fixed("AA", 2), fixed("ARC", 1)),
    compound("I062/340", fixed("SID", 2), fixed("POS", 4), fixed("HEIGHT", 2), fixed("MDC", 2),
             fixed("MDA", 2), fixed("TYP", 1)),
    None,
    None,
    None,
    None,
    None,
    explicit("I062/RE"),
    explicit("I062/SP"),
)
CATEGORIES: Final[dict[int, tuple[Item | None, ...]]] = {21: CAT021, 34: CAT034, 48: CAT048,
                                                          62: CAT062}


@dataclass(frozen=True)
class Tables:
    """The UAPs as arrays: ``spec`` rows (kind, a, b); category c's FRN f (1-based) is
    row ``first[c] + f - 1`` for f <= ``count[c]`` (count 0: category not read)."""

    spec: npt.NDArray[np.int64]
    first: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]
    names: tuple[str, ...]  # of each row, for messages and tests


def tables(categories: dict[int, tuple[Item | None, ...]] = CATEGORIES) -> Tables:
    rows: list[tuple[int, int, int]] = []
    names: list[str] = []
    first = np.zeros(256, np.int64)
    count = np.zeros(256, np.int64)
    pending: list[tuple[int, Item]] = []  # compound rows whose subfields come later
    for cat, uap in sorted(categories.items()):
        first[cat], count[cat] = len(rows), len(uap)
        for frn, item in enumerate(uap, start=1):
            if item is None:  # a spare FRN: present means unknown length
                rows.append((NONE, 0, 0))
                names.append(f"I{cat:03d}/spare-frn-{frn}")
                continue
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
