"""Agreements: the YAML format, every mistake named where it is, the set's checks, the
demo set, and ``skyshare agreements check``."""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import shapely
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import shape

from skyshare.cli import main
from skyshare.errors import ConfigError
from skyshare.share.agreements import (
    FIELD_GROUPS,
    AgreementError,
    AgreementSet,
    load_agreements,
    parse_agreements,
)

DEMO = Path(__file__).parents[2] / "skyshare" / "data" / "agreements"
DEMO_REGIONS = Path(__file__).parents[2] / "skyshare" / "data" / "demo-regions.geojson"
R_KM = 6371.0088


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def base(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": "west-to-central", "from": "west", "to": "central",
        "valid": {"from": "2026-01-01", "until": "2027-12-31T23:59:59Z"},
        "regions": [{"name": "strip", "polygon": [[43.0, 0.0], [44.0, 0.0], [44.0, 2.0],
                                                  [43.0, 2.0]],
                     "lower_ft": 0, "upper_ft": 45000}],
        "fields": ["position", "identity", "squawk"], "sources": "own",
        "min_delay_s": 0, "max_rate_hz": 1.0,
        "exclude": {"addresses": ["3c6444", "4b1805"], "categories": ["A7", "B4"],
                    "exercise": False},
        "alerts": True, "handover": True,
    }
    doc.update(changes)
    return doc


def write(tmp_path: Path, *docs: dict[str, Any], name: str = "a.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"agreements": list(docs)}, sort_keys=False))
    return path


# --------------------------------------------------------------------------- the format
def test_a_full_agreement_reads_as_written(tmp_path: Path) -> None:
    (a,) = load_agreements([write(tmp_path, base())])
    assert (a.id, a.giver, a.receiver, a.sources) == ("west-to-central", "west", "central",
                                                      "own")
    assert a.valid_from == utc("2026-01-01T00:00:00")
    assert a.valid_until == utc("2027-12-31T23:59:59")
    assert a.fields == ("position", "identity", "squawk")
    assert a.exclude.addresses == (0x3C6444, 0x4B1805)
    assert a.exclude.categories == (0xA7, 0xB4)
    (region,) = a.regions
    assert (region.name, region.lower_ft, region.upper_ft) == ("strip", 0.0, 45000.0)
    assert region.geometry.equals(shapely.box(0.0, 43.0, 2.0, 44.0))  # (lon, lat) inside
    assert (a.alerts, a.handover, a.revoked) == (True, True, False)
    assert a.source == f"{tmp_path / 'a.yaml'}:agreement 1 (west-to-central)"


def test_defaults_are_the_narrow_choice(tmp_path: Path) -> None:
    doc = {k: base()[k] for k in ("id", "from", "to", "regions")} | {"fields": ["position"]}
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(doc))  # one agreement as the top-level mapping
    (a,) = load_agreements([path])
    assert (a.sources, a.min_delay_s, a.max_rate_hz) == ("own", 0.0, 1.0)
    assert (a.alerts, a.handover, a.revoked, bool(a.exclude)) == (False, False, False, False)
    assert a.valid_from is None and a.valid_until is None and a.active_at(0.0)


def test_validity_from_inclusive_until_exclusive_and_revocation(tmp_path: Path) -> None:
    (a,) = load_agreements([write(tmp_path, base())])
    start, end = utc("2026-01-01T00:00:00"), utc("2027-12-31T23:59:59")
    assert not a.active_at(math.nextafter(start, -math.inf))
    assert a.active_at(start) and a.active_at(math.nextafter(end, -math.inf))
    assert not a.active_at(end)
    (b,) = load_agreements([write(tmp_path, base(revoked=True))])
    assert not b.active_at(start + 1)


def test_geojson_regions_relative_to_the_yaml_file(tmp_path: Path) -> None:
    sub = tmp_path / "terms"
    sub.mkdir()
    (sub / "fir.geojson").write_text(DEMO_REGIONS.read_text())
    region = {"name": "fir", "geojson": "fir.geojson", "match": {"partner": "central"}}
    (a,) = load_agreements([write(sub, base(regions=[region]))])
    doc = json.loads(DEMO_REGIONS.read_text())
    central = [shape(f["geometry"]) for f in doc["features"]
               if f["properties"]["partner"] == "central"]
    assert a.regions[0].geometry.equals(shapely.union_all(central))
    (whole,) = load_agreements([write(sub, base(regions=[{"name": "all",
                                                          "geojson": "fir.geojson"}]))])
    assert whole.regions[0].geometry.equals(shapely.union_all([shape(f["geometry"])
                                                                for f in doc["features"]]))


@pytest.mark.parametrize(("lat0", "lat1", "dlon"), [(0.0, 1.0, 1.0), (43.0, 44.0, 2.0),
                                                     (50.0, 60.0, 10.0)])
def test_region_area_is_the_spherical_area(tmp_path: Path, lat0: float, lat1: float,
                                           dlon: float) -> None:
    poly = [[lat0, 0.0], [lat1, 0.0], [lat1, dlon], [lat0, dlon]]
    (a,) = load_agreements([write(tmp_path, base(regions=[{"name": "b", "polygon": poly}]))])
    # a lat/lon box on a sphere: R^2 * dlon * (sin lat1 - sin lat0)
    exact = R_KM**2 * math.radians(dlon) * (math.sin(math.radians(lat1))
                                            - math.sin(math.radians(lat0)))
    assert a.regions[0].area_km2() == pytest.approx(exact, rel=2e-3)


# --------------------------------------------------------------------------- mistakes
BOWTIE = [[43.0, 0.0], [44.0, 2.0], [44.0, 0.0], [43.0, 2.0]]
REGION = base()["regions"][0]

MISTAKES: list[tuple[str, dict[str, Any], str, str]] = [
    # (case, changes, key named in `where`, words of the message)
    ("unknown key", {"fileds": ["position"]}, "", "unknown key 'fileds'"),
    ("from equals to", {"to": "west"}, "to", "both 'west'"),
    ("partner name", {"from": "West"}, "from", "not a valid partner name"),
    ("YAML boolean", {"to": False}, "to", "quote it"),
    ("agreement id", {"id": "West To Central"}, "id", "not a valid agreement id"),
    ("two vertices", {"regions": [dict(REGION, polygon=[[43.0, 0.0], [44.0, 0.0]])]},
     "region 1 (strip).polygon", "at least 3 distinct"),
    ("latitude", {"regions": [dict(REGION, polygon=[[93.0, 0.0], [44.0, 0.0], [44.0, 2.0]])]},
     "region 1 (strip).polygon", "vertex 1: latitude 93.0 is outside -90..90"),
    ("self-intersection", {"regions": [dict(REGION, polygon=BOWTIE)]},
     "region 1 (strip).polygon", "Self-intersection at lat 43.5, lon 1"),
    ("empty band", {"regions": [dict(REGION, lower_ft=30000, upper_ft=20000)]},
     "region 1 (strip).upper_ft", "must be above lower_ft"),
    ("region key", {"regions": [dict(REGION, upper=45000)]}, "region 1 (strip)",
     "unknown key 'upper'"),
    ("region name", {"regions": [{"polygon": REGION["polygon"]}]}, "region 1.name",
     "needs a name"),
    ("same region name", {"regions": [REGION, REGION]}, "region 2 (strip).name",
     "another region"),
    ("polygon and geojson", {"regions": [dict(REGION, geojson="x.geojson")]},
     "region 1 (strip)", "exactly one of"),
    ("missing geojson", {"regions": [{"name": "fir", "geojson": "nowhere.geojson"}]},
     "region 1 (fir).geojson", "cannot read"),
    ("no regions", {"regions": []}, "regions", "at least one region"),
    ("no position", {"fields": ["identity"]}, "fields", "'position' is mandatory"),
    ("unknown group", {"fields": ["position", "everything"]}, "fields",
     "unknown field group 'everything'"),
    ("sources", {"sources": "mine"}, "sources", "write 'own'"),
    ("rate zero", {"max_rate_hz": 0}, "max_rate_hz", "more than 0 to 20"),
    ("rate high", {"max_rate_hz": 25}, "max_rate_hz", "more than 0 to 20"),
    ("negative delay", {"min_delay_s": -1}, "min_delay_s", "from 0 to 300"),
    ("delay as text", {"min_delay_s": "5 s"}, "min_delay_s", "must be a number"),
    ("address as number", {"exclude": {"addresses": [406123]}}, "exclude.addresses",
     "quote the hex address"),
    ("bad address", {"exclude": {"addresses": ["3c64"]}}, "exclude.addresses", "6 hex digits"),
    ("bad category", {"exclude": {"categories": ["E1"]}}, "exclude.categories", "A0..D7"),
    ("exclude key", {"exclude": {"address": ["3c6444"]}}, "exclude", "unknown key 'address'"),
    ("until before from", {"valid": {"from": "2027-01-01", "until": "2026-01-01"}},
     "valid.until", "later than valid.from"),
    ("local time", {"valid": {"from": "2026-01-01T08:00:00"}}, "valid.from",
     "no time zone"),
    ("bad date", {"valid": {"from": "next year"}}, "valid.from", "not an ISO date"),
    ("revoked text", {"revoked": "yes please"}, "revoked", "true or false"),
]


@pytest.mark.parametrize(("case", "changes", "key", "words"), MISTAKES,
                         ids=[m[0] for m in MISTAKES])
def test_each_mistake_names_file_agreement_and_key(tmp_path: Path, case: str,
                                                   changes: dict[str, Any], key: str,
                                                   words: str) -> None:
    good = base(id="fine")
    path = write(tmp_path, good, base(**changes))
    with pytest.raises(AgreementError) as info:
        load_agreements([path])
    shown = "" if case == "agreement id" else " (west-to-central)"
    assert info.value.where == f"{path}:agreement 2{shown}" + (f": {key}" if key else "")
    assert words in str(info.value)
    assert isinstance(info.value, ConfigError)


def test_missing_keys_and_file_level_mistakes(tmp_path: Path) -> None:
    doc = base()
    del doc["fields"]
    with pytest.raises(AgreementError, match="missing 'fields'"):
        load_agreements([write(tmp_path, doc)])
    bad = tmp_path / "bad.yaml"
    for text, words in [("", "empty"), ("agreements: {id: x}", "must be a list"),
                        ("- a\n- b\n", "top level"), ("agreements: [\n", "not valid YAML"),
                        ("agreements: []\nextra: 1\n", "no other top-level key"),
                        ("id: a\nfields: [position]\nfields: [position, identity]\n",
                         r"the key 'fields' is given twice in one mapping; keep one \(line 3")]:
        bad.write_text(text)
        with pytest.raises(AgreementError, match=words):
            load_agreements([bad])
    with pytest.raises(AgreementError, match="no such file"):
        load_agreements([tmp_path / "missing.yaml"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(AgreementError, match=r"no \*\.yaml"):
        load_agreements([tmp_path / "empty"])


def test_set_rejects_duplicate_ids_and_ambiguous_overlaps(tmp_path: Path) -> None:
    first = write(tmp_path, base(), name="1.yaml")
    second = write(tmp_path, base(**{"from": "east"}), name="2.yaml")
    with pytest.raises(AgreementError, match=f"used twice.*{first}") as info:
        load_agreements([first, second])
    assert info.value.where == f"{second}:agreement 1 (west-to-central): id"
    later = base(id="renewal", valid={"from": "2027-06-01"})
    with pytest.raises(AgreementError, match="both cover west -> central at the same time"):
        load_agreements([write(tmp_path, base(), later)])
    # one ending where the other begins, a revoked one kept for the record, the other
    # direction: all fine
    successor = base(id="renewal", valid={"from": "2027-12-31T23:59:59Z"})
    old = base(id="old", revoked=True)
    back = base(id="back", **{"from": "central", "to": "west"})
    terms = load_agreements([write(tmp_path, base(), successor, old, back)])
    assert terms.between("west", "central", utc("2027-12-31T23:59:58")).id == (  # type: ignore[union-attr]
        "west-to-central")
    assert terms.between("west", "central", utc("2028-06-01T00:00:00")).id == "renewal"  # type: ignore[union-attr]
    assert terms.between("central", "east", utc("2027-01-01T00:00:00")) is None


def test_folder_reads_yaml_and_yml_sorted(tmp_path: Path) -> None:
    write(tmp_path, base(id="b", **{"from": "east"}), name="b.yml")
    write(tmp_path, base(id="a"), name="a.yaml")
    (tmp_path / "notes.txt").write_text("not an agreement")
    terms = load_agreements([tmp_path])
    assert [a.id for a in terms] == ["a", "b"]
    assert terms.partners == ("central", "east", "west")
    assert [a.id for a in terms.incoming("central")] == ["a", "b"]
    assert [a.id for a in terms.outgoing("east")] == ["b"] and terms["b"].giver == "east"


# --------------------------------------------------------------------------- properties
PARTNERS = st.from_regex(r"\A[a-z][a-z0-9-]{0,8}\Z")


@st.composite
def agreement_docs(draw: st.DrawFn) -> dict[str, Any]:
    giver, receiver = draw(st.lists(PARTNERS, min_size=2, max_size=2, unique=True))
    lat, lon = draw(st.floats(-60, 60)), draw(st.floats(-170, 170))
    size = draw(st.floats(0.01, 5.0))
    lower = draw(st.one_of(st.none(), st.integers(-2000, 40000)))
    upper = draw(st.one_of(st.none(), st.integers(41000, 60000)))
    region: dict[str, Any] = {"name": draw(st.text(min_size=1, max_size=8).filter(str.strip)),
                              "polygon": [[lat, lon], [lat + size, lon],
                                          [lat + size, lon + size]]}
    if lower is not None:
        region["lower_ft"] = lower
    if upper is not None:
        region["upper_ft"] = upper
    extra = draw(st.sets(st.sampled_from(FIELD_GROUPS[1:])))
    return {
        "id": draw(st.from_regex(r"\A[a-z0-9._-]{1,20}\Z")), "from": giver, "to": receiver,
        "regions": [region], "fields": ["position", *sorted(extra)],
        "sources": draw(st.sampled_from(["own", "all"])),
        "min_delay_s": draw(st.floats(0, 300)), "max_rate_hz": draw(st.floats(0.01, 20)),
        "exclude": {"addresses": [f"{a:06x}" for a in draw(st.lists(st.integers(0, 2**24 - 1),
                                                                     max_size=3))],
                    "categories": draw(st.lists(st.from_regex(r"\A[A-D][0-7]\Z"),
                                                max_size=3)),
                    "exercise": draw(st.booleans())},
        "alerts": draw(st.booleans()), "handover": draw(st.booleans()),
        "revoked": draw(st.booleans()),
    }


@settings(max_examples=150, deadline=None)
@given(agreement_docs())
def test_round_trip_of_random_agreements(doc: dict[str, Any]) -> None:
    (a,) = parse_agreements(yaml.safe_dump({"agreements": [doc]}), "random.yaml")
    assert (a.id, a.giver, a.receiver, a.sources) == (doc["id"], doc["from"], doc["to"],
                                                      doc["sources"])
    assert set(a.fields) == set(doc["fields"])
    assert (a.min_delay_s, a.max_rate_hz) == (doc["min_delay_s"], doc["max_rate_hz"])
    assert a.exclude.addresses == tuple(sorted({int(x, 16)
                                                for x in doc["exclude"]["addresses"]}))
    assert a.exclude.categories == tuple(sorted({int(x, 16)
                                                 for x in doc["exclude"]["categories"]}))
    (region,) = a.regions
    assert region.lower_ft == doc["regions"][0].get("lower_ft")
    assert region.upper_ft == doc["regions"][0].get("upper_ft")
    lat, lon = doc["regions"][0]["polygon"][0]
    assert region.geometry.bounds[:2] == (lon, lat)
    assert (a.alerts, a.handover, a.revoked) == (doc["alerts"], doc["handover"],
                                                 doc["revoked"])


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(),
              st.text(max_size=12), st.dates()),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)
PATHS = [("id",), ("from",), ("valid",), ("valid", "from"), ("regions",), ("regions", 0),
         ("regions", 0, "polygon"), ("regions", 0, "polygon", 1), ("regions", 0, "lower_ft"),
         ("regions", 0, "name"), ("fields",), ("exclude",), ("exclude", "addresses"),
         ("exclude", "categories", 0), ("max_rate_hz",), ("min_delay_s",), ("alerts",), ()]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(PATHS), JSONISH)
def test_any_value_anywhere_is_accepted_or_an_agreement_error(path: tuple[Any, ...],
                                                              value: object) -> None:
    doc: Any = copy.deepcopy(base())
    if path:
        *parents, last = path
        target = doc
        for key in parents:
            target = target[key]
        target[last] = value
    else:
        doc = value
    try:
        parse_agreements(yaml.safe_dump({"agreements": [doc]}), "fuzz.yaml")
    except AgreementError as exc:
        assert str(exc).startswith("fuzz.yaml")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_accepted_or_an_agreement_error(text: str) -> None:
    try:
        parse_agreements(text, "fuzz.yaml")
    except AgreementError as exc:
        assert str(exc).startswith("fuzz.yaml")


# --------------------------------------------------------------------------- demo and CLI
def test_demo_set_has_six_different_agreements() -> None:
    terms = load_agreements([DEMO])
    assert terms.partners == ("central", "east", "west")
    assert len(terms) == 6
    at = utc("2026-06-01T00:00:00")
    for giver in terms.partners:
        for receiver in terms.partners:
            if giver != receiver:
                active = terms.between(giver, receiver, at)
                assert (active is None) == ((giver, receiver) == ("east", "west"))
    assert terms["east-to-west"].revoked
    assert terms["west-to-east"].regions[0].lower_ft == 24500
    assert terms["east-to-central"].min_delay_s == 5
    assert terms["central-to-west"].fields == ("position",)
    assert terms["central-to-east"].fields == FIELD_GROUPS
    assert not terms.active(utc("2028-01-01T00:00:00"))
    terms_set = {(a.fields, a.sources, a.min_delay_s, a.max_rate_hz) for a in terms}
    assert len(terms_set) == 6  # visibly different terms


def test_check_prints_what_each_partner_receives(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, base(), base(id="c2e", **{"from": "central", "to": "east"}))
    assert main(["agreements", "check", str(path), "--at", "2026-06-01"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("2 agreements between 3 partners (2 active at 2026-06-01)")
    central = lines[lines.index("central receives:") + 1:lines.index("east receives:")]
    assert central[0] == "  from east: nothing"
    assert central[1].startswith("  from west: west-to-central: valid 2026-01-01 until "
                                 "2027-12-31T23:59:59Z (active)")
    area = load_agreements([path])["west-to-central"].regions[0].area_km2()
    assert f"strip ({area:,.0f} km², 0-45,000 ft)" in out
    assert "exclude: addresses 3c6444, 4b1805; categories A7, B4" in out
    west = lines[lines.index("west receives:") + 1:]
    assert west[:2] == ["  from central: nothing", "  from east: nothing"]


def test_check_json_and_another_time(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agreements", "check", str(DEMO), "--json",
                 "--at", "2025-06-01T12:00:00Z"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["at"] == "2025-06-01T12:00:00Z"
    assert doc["partners"] == ["central", "east", "west"]
    assert {a["state"] for a in doc["agreements"]} == {"not yet valid", "revoked"}
    assert all(p["active"] is None for p in doc["pairs"])
    assert len(doc["pairs"]) == 6
    assert main(["agreements", "check", str(DEMO), "--json", "--at", "2026-06-01"]) == 0
    pairs = json.loads(capsys.readouterr().out)["pairs"]
    active = {(p["from"], p["to"]): p["active"] for p in pairs}
    assert active[("west", "central")] == "west-to-central"
    assert active[("east", "west")] is None


def test_check_errors_exit_2_with_the_place(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, base(max_rate_hz=50))
    assert main(["agreements", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skyshare: error: {path}:agreement 1 (west-to-central): "
                          "max_rate_hz: 50 is out of range")
    assert main(["agreements", "check", str(path), "--at", "2026-06-01T12:00"]) == 2
    assert "--at: 2026-06-01T12:00:00 has no time zone" in capsys.readouterr().err


def test_set_is_iterable_and_sized() -> None:
    terms = AgreementSet([])
    assert len(terms) == 0 and terms.partners == () and terms.active(0.0) == ()


def test_check_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["agreements", "check", "--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "--at" in text and "--json" in text


def test_agreement_files_notice_edits_additions_and_removals(tmp_path: Path) -> None:
    from skyshare.share.agreements import AgreementFiles

    folder = tmp_path / "agreements"
    folder.mkdir()
    first = folder / "a.yaml"
    first.write_text("agreements: []\n")
    before = AgreementFiles.of([folder])
    assert AgreementFiles.of([folder]) == before  # nothing changed
    first.write_text("agreements: []  # edited\n")
    edited = AgreementFiles.of([folder])
    assert edited != before
    (folder / "b.yml").write_text("agreements: []\n")
    added = AgreementFiles.of([folder])
    assert added != edited
    (folder / "b.yml").unlink()
    first.unlink()
    assert AgreementFiles.of([folder]) not in (before, edited, added)  # an empty folder
