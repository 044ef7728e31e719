"""CAT062 output settings and track numbering."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyshare.config import parse_hostport
from skyshare.errors import ConfigError
from skyshare.outputs import TrackNumbers, output_from_mapping


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sets(st.integers(1, 2**32 - 1), max_size=40), min_size=1, max_size=12))
def test_numbers_are_unique_and_stable_while_a_track_lives(pictures: list[set[int]]) -> None:
    numbers = TrackNumbers()
    previous: dict[int, int] = {}
    for ids in pictures:
        given_ids = np.array(sorted(ids), np.uint32)
        got = numbers.assign(given_ids)
        assert (got >= 0).all() and len(set(got.tolist())) == len(got)
        now = dict(zip(given_ids.tolist(), got.tolist(), strict=True))
        for track, number in now.items():
            if track in previous:
                assert previous[track] == number
        previous = now


def test_numbers_run_out_without_sharing() -> None:
    numbers = TrackNumbers()
    got = numbers.assign(np.arange(1, 65_540, dtype=np.uint32))
    assert (got[:65536] >= 0).all() and (got[65536:] == -1).all()
    got = numbers.assign(np.arange(10, 65_546, dtype=np.uint32))  # ids 1-9 gone: reused
    assert (got >= 0).sum() == 65536 and len(set(got[got >= 0].tolist())) == 65536


@pytest.mark.parametrize(("raw", "message"), [
    ({"cat062": "10.0.0.5:99999"}, "out of range"),
    ({"cat062": "10.0.0.5:8600", "sac": 300}, "0-255"),
    ({"cat062": "10.0.0.5:8600", "interval_s": 0}, "0.05-3600"),
    ({"cat062": "10.0.0.5:8600", "port": 1}, "unknown keys"),
    ({"udp": "10.0.0.5:8600"}, "cat062: HOST:PORT"),
])
def test_bad_outputs_say_what_is_wrong(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        output_from_mapping(raw, "node.yaml: outputs[0]", parse_hostport)
    assert "outputs[0]" in str(info.value)


def test_an_output_from_yaml() -> None:
    out = output_from_mapping({"cat062": "127.0.0.1:8600", "sac": 25, "sic": 1,
                               "interval_s": 2}, "x", parse_hostport)
    assert (out.host, out.port, out.sac, out.sic, out.interval_s) == ("127.0.0.1", 8600, 25,
                                                                        1, 2.0)
