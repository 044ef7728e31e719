"""The offline commands on real recordings, run as a user runs them (a subprocess)."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from skyshare.cli import main

DECODE_COLUMNS = {"time", "icao24", "df", "typecode", "callsign", "squawk", "lat", "lon",
                  "alt_baro", "alt_geo", "groundspeed", "track", "vertical_rate"}
TRACK_COLUMNS = {"time", "track_id", "icao24", "callsign", "squawk", "lat", "lon", "alt",
                 "groundspeed", "track", "vertical_rate", "sensors"}


def skyshare(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skyshare.cli", *args], capture_output=True,
                          text=True, timeout=600, check=False)


def test_decode_recording_to_parquet_matches_the_recorded_decode(data_dir: Path,
                                                                 tmp_path: Path) -> None:
    src = data_dir / "modes" / "tutorial_17ac.jsonl.gz"
    out = tmp_path / "frames.parquet"
    proc = skyshare("decode", str(src), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "100.0%" in proc.stderr  # progress reaches the end
    table = pq.read_table(out)
    assert set(table.column_names) >= DECODE_COLUMNS
    assert table.schema.field("alt_baro").metadata == {b"unit": b"ft"}
    with gzip.open(src, "rt") as f:
        oracle = [json.loads(line) for line in f]
    # rs1090 shows characters outside the ICAO set as '#'; we give no callsign then
    callsigns = {(o["icao24"], o["callsign"]) for o in oracle
                 if "#" not in o.get("callsign", "#")}
    callsigns |= {(o["icao24"], o["bds20"]["callsign"]) for o in oracle
                  if "#" not in o.get("bds20", {}).get("callsign", "#")}
    rows = table.to_pydict()
    ours = {(i, c) for i, c in zip(rows["icao24"], rows["callsign"], strict=True) if c}
    assert ours == callsigns
    assert table.num_rows >= 0.95 * len(oracle)


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_track_recording(data_dir: Path, tmp_path: Path, ext: str) -> None:
    src = data_dir / "modes" / "tutorial_17ac.jsonl.gz"
    out = tmp_path / f"tracks.{ext}"
    assert main(["track", str(src), "-o", str(out)]) == 0
    if ext == "csv":
        table = pacsv.read_csv(out)
        assert set(table.column_names) >= TRACK_COLUMNS
        icao = set(table.column("icao24").to_pylist())
    else:
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert TRACK_COLUMNS - {"callsign", "squawk", "lat", "lon", "alt", "groundspeed",
                                "track", "vertical_rate"} <= set(rows[0])
        icao = {r["icao24"] for r in rows}
        assert all(r["sensors"] == ["tutorial_17ac.jsonl.gz"] for r in rows)
    with gzip.open(src, "rt") as f:
        heard = Counter(json.loads(line)["icao24"] for line in f)
    # never a track from one message; every aircraft heard for a while is tracked
    assert icao <= {a for a, n in heard.items() if n >= 2}
    assert icao >= {a for a, n in heard.items() if n >= 10}


def test_decode_beast_file(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "beast.csv"
    assert main(["decode", str(data_dir / "modes" / "sample_dump1090.beast"), "-o", str(out),
                 "--clock-epoch", "1700000000"]) == 0
    table = pacsv.read_csv(out)
    assert table.num_rows > 100
    t = table.column("time").to_pylist()
    assert min(t) >= 1700000000 and max(t) < 1700000000 + 30  # 23.9 s of 12 MHz clock


def test_errors_are_one_line_with_what_to_do(tmp_path: Path) -> None:
    proc = skyshare("decode", str(tmp_path / "missing.beast"), "-o", str(tmp_path / "x.csv"))
    assert proc.returncode == 2
    assert "no such file" in proc.stderr and "Traceback" not in proc.stderr
    src = tmp_path / "x.beast"
    src.write_bytes(b"\x1a2" + bytes(14))
    proc = skyshare("decode", str(src), "-o", str(tmp_path / "x.xlsx"))
    assert proc.returncode == 2 and ".csv, .parquet or .jsonl" in proc.stderr
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello world, not a receiver format\n" * 10)
    proc = skyshare("decode", str(junk), "-o", str(tmp_path / "y.csv"))
    assert proc.returncode == 2 and "--format" in proc.stderr
    proc = skyshare("run", "--beast-connect", "localhost:notaport")
    assert proc.returncode == 2 and "expected HOST:PORT" in proc.stderr
    proc = skyshare("demo", "--tile-url", "https://tiles.example.org/{z}/{x}.png")
    assert proc.returncode == 2 and "--tile-url" in proc.stderr and "lacks {y}" in proc.stderr


def test_busy_http_port_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = skyshare("run", "--http", f"127.0.0.1:{port}")
    assert proc.returncode == 2, proc.stderr
    assert f"cannot serve HTTP on 127.0.0.1:{port}" in proc.stderr and "--http" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    assert "--beast-connect" in text and "examples:" in text and "30005" in text


def test_asyncio_tls_eof_note_is_dropped_and_other_asyncio_warnings_kept() -> None:
    import logging

    from skyshare.cli import _quiet_tls_eof

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.WARNING, __file__, 1, msg, None, None)

    assert not _quiet_tls_eof(record("returning true from eof_received() has no effect "
                                      "when using ssl"))
    assert _quiet_tls_eof(record("Task was destroyed but it is pending!"))
