from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skyshare.model import TrackFlag, empty_tracks
from skyshare.picture import BBox, Picture, diff_tracks


def tracks_from(rows: dict[int, tuple[float, int]]) -> np.ndarray:
    t = empty_tracks(len(rows))
    ids = sorted(rows)
    t["track_id"] = ids
    t["last_seen"] = [rows[i][0] for i in ids]
    t["flags"] = [rows[i][1] for i in ids]
    return t


rows_strategy = st.dictionaries(st.integers(1, 60), st.tuples(st.sampled_from([1.0, 2.0, 3.0]),
                                                              st.sampled_from([0, 4, 12])))


@given(rows_strategy, rows_strategy)
def test_diff_matches_a_set_oracle(old: dict[int, tuple[float, int]],
                                   new: dict[int, tuple[float, int]]) -> None:
    changed, removed = diff_tracks(tracks_from(old), tracks_from(new))
    assert sorted(changed["track_id"].tolist()) == sorted(
        i for i in new if i not in old or old[i] != new[i])
    assert sorted(removed.tolist()) == sorted(set(old) - set(new))


def test_delta_since_gives_full_picture_to_new_or_lagging_clients() -> None:
    pic = Picture(keep_versions=3)
    first = pic.publish(tracks_from({1: (1.0, 0), 2: (1.0, 0)}), 1.0)
    pic.publish(tracks_from({1: (2.0, 0), 3: (2.0, TrackFlag.CONFIRMED)}), 2.0)
    d = pic.delta_since(first.version)
    assert not d.full
    assert d.changed["track_id"].tolist() == [1, 3]
    assert d.removed.tolist() == [2]
    assert pic.delta_since(0).full
    for t in range(3, 8):
        pic.publish(tracks_from({1: (float(t), 0)}), float(t))
    stale = pic.delta_since(first.version)
    assert stale.full and stale.changed["track_id"].tolist() == [1]


def test_bbox_query_and_antimeridian() -> None:
    t = empty_tracks(4)
    t["track_id"] = [1, 2, 3, 4]
    t["lat"] = [45.0, 45.0, 10.0, 45.0]
    t["lon"] = [5.0, 179.5, 5.0, -179.5]
    pic = Picture()
    pic.publish(t, 0.0)
    assert pic.query(BBox.parse("40,0,50,10"))["track_id"].tolist() == [1]
    assert pic.query(BBox.parse("40,179,50,-179"))["track_id"].tolist() == [2, 4]


@pytest.mark.parametrize("text", ["1,2,3", "a,b,c,d", "50,0,40,10", "0,0,nan,1", "0,-200,1,1"])
def test_bad_bbox_is_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        BBox.parse(text)
