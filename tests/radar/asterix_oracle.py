"""libasterix, the independent decoder the ASTERIX tests compare with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from asterix.base import Bits, RawDatablock


def oracle_records(datagram: bytes, specs: dict[int, Any]) -> Iterator[tuple[int, Any]]:
    """(category, record) of libasterix's records in a datagram, in order, for the
    categories of ``specs`` (each parsed with its ``asterix.generated.Cat_NNN_x_y``)."""
    blocks = RawDatablock.parse(Bits.from_bytes(datagram))
    assert not isinstance(blocks, ValueError), blocks
    for db in blocks:
        category = db.get_category()
        if category in specs:
            records = specs[category].cv_uap.parse(db.get_raw_records())
            assert not isinstance(records, ValueError), records
            for record in records:
                yield category, record
