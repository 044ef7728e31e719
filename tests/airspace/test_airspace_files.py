"""Reading airspace files: dispatch on the extension, errors naming the path, and sets of
files whose ids must not repeat."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from airspace_helpers import CIRCLE, DATA, HEAD, OPENAIR, collection, feature

from skyshare.airspace import AirspaceFileError, load_airspace, load_volumes


def test_load_airspace_dispatches_on_extension(tmp_path: Path) -> None:
    shutil.copy(OPENAIR, tmp_path / "a.txt")
    shutil.copy(DATA / "zones.geojson", tmp_path / "z.json")
    assert len(load_airspace(tmp_path / "a.txt")) == 5
    assert len(load_airspace(OPENAIR)) == 5
    assert len(load_airspace(tmp_path / "z.json")) == 3
    with pytest.raises(AirspaceFileError, match=r"a\.kml: unknown airspace file type"):
        load_airspace(tmp_path / "a.kml")
    with pytest.raises(AirspaceFileError, match=r"missing\.txt: cannot read"):
        load_airspace(tmp_path / "missing.txt")


def test_openair_error_from_a_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(HEAD + CIRCLE + "AC Q\nAN second\nAL GND\nAH 2000ft\nDP 1:00:00N\n")
    with pytest.raises(AirspaceFileError, match=rf"^{path}:11: bad coordinate"):
        load_airspace(path)


def test_load_volumes_is_one_set_across_files(tmp_path: Path) -> None:
    both = load_volumes([OPENAIR, DATA / "zones.geojson"])
    assert both == load_airspace(OPENAIR) + load_airspace(DATA / "zones.geojson")
    assert load_volumes([]) == []
    path = tmp_path / "again.geojson"
    path.write_text(collection(feature(id="new"), feature(id="R-1")))
    with pytest.raises(AirspaceFileError) as info:  # an id of the OpenAir fixture
        load_volumes([DATA / "zones.geojson", OPENAIR, path])
    assert info.value.where == f"{path}:feature 1 (id 'R-1')"
    assert f"id 'R-1' is already used by the airspace at {OPENAIR}:" in str(info.value)
    assert len(load_airspace(path)) == 2  # each file alone is fine
