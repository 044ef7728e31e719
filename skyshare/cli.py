"""The ``skyshare`` command line.

Subcommands: ``run`` (a node), ``demo`` (a node fed by synthetic traffic), ``audit``
(verify or export the audit log), ``users`` (who may log in), ``decode`` and ``track``
(offline, file to CSV/Parquet/JSON lines), ``synth`` (write or serve synthetic receiver
data), ``agreements`` (check the bilateral sharing agreements).  Errors a user can fix
are printed as one line saying what to do, with exit status 2; no traceback.

Each command imports its stages when it runs, so ``--help`` and argument errors
answer at once instead of after numba and pyarrow load.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal, TextIO

from skyshare import __version__
from skyshare.cli_exercise import add_exercise_parser
from skyshare.cli_federation import add_federation_parser
from skyshare.config import (
    DEFAULT_PORTS,
    MapConfig,
    NodeConfig,
    SyntheticConfig,
    check_tile_url,
    load_config,
    parse_hostport,
)
from skyshare.errors import ConfigError, SkyshareError
from skyshare.radar.plots import RadarSite
from skyshare.sources.base import SensorSpec

log = logging.getLogger("skyshare")

SYNTH_EXTENSIONS: dict[str, Literal["beast", "avr", "jsonl"]] = {
    ".beast": "beast", ".avr": "avr", ".jsonl": "jsonl"}

EPILOG_RUN = """\
examples:
  skyshare run --beast-connect 127.0.0.1:30005          # a local dump1090/readsb
  skyshare run --beast-connect rx1:30005 --sbs-connect rx2:30003 --http 0.0.0.0:8080
  skyshare run node.yaml                                 # sensors, ports and data dir from YAML
  skyshare run node.yaml --http 127.0.0.1:9090          # flags override the file
then open the printed URL; the API is under /api (see README), each sensor's and
partner's health at /readiness (thresholds: the YAML readiness: section).
ASTERIX radars (format: asterix, udp: PORT, position, radar noise) and the picture as
CAT062 (outputs:) are set in the YAML file: see "Radars (ASTERIX)" in the README.
"""

EPILOG_DECODE = """\
examples:
  skyshare decode ../shared/data/modes/tutorial_17ac.jsonl.gz -o frames.parquet
  skyshare decode capture.beast --reference 43.63,1.37 -o frames.csv
  skyshare decode feed.txt --format avr -o frames.jsonl
  skyshare decode radar.pcap -o plots.csv                # ASTERIX, placed by its CAT034
  skyshare decode radar.ast --format asterix --radar 43.6,1.4,180 -o plots.parquet
formats: beast (binary, 0x1a escaped), avr (*HEX; / @CLOCKHEX;), sbs (BaseStation
CSV), jsonl (JSON lines with timestamp and hex frame; .gz accepted), asterix (CAT048,
CAT034, CAT021 in a pcap capture or a raw block file). The output format follows the
extension: .csv, .parquet or .jsonl.
"""


class Progress:
    """A one-line progress report on stderr for long files (about once a second)."""

    def __init__(self, total_bytes: int, out: TextIO = sys.stderr, label: str = "") -> None:
        self.total = max(total_bytes, 1)
        self.out = out
        self.label = label
        self.started = time.monotonic()
        self._last = 0.0
        self.tty = out.isatty()

    def update(self, done_bytes: int, items: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < (0.5 if self.tty else 5.0):
            return
        self._last = now
        elapsed = max(now - self.started, 1e-9)
        pct = min(100.0, 100.0 * done_bytes / self.total)
        line = (f"{self.label} {pct:5.1f}%  {items:,} frames  {items / elapsed:,.0f}/s  "
                f"{elapsed:.1f} s")
        if self.tty:
            self.out.write("\r" + line + ("\n" if final else ""))
        else:
            self.out.write(line + "\n")
        self.out.flush()


# ----------------------------------------------------------------------------- run
def _flag_sensors(args: argparse.Namespace, start: int) -> list[SensorSpec]:
    specs: list[SensorSpec] = []
    for fmt in ("beast", "avr", "sbs"):
        for text in getattr(args, f"{fmt}_connect") or []:
            host, port = parse_hostport(text)
            specs.append(SensorSpec(name=f"{fmt}-{host}:{port}",
                                    index=start + len(specs), format=fmt, mode="connect",
                                    host=host, port=port))
    for text in args.beast_listen or []:
        host, port = parse_hostport(text, default_host="0.0.0.0")
        specs.append(SensorSpec(name=f"beast-in-{port}", index=start + len(specs),
                                format="beast", mode="listen", host=host, port=port))
    return specs


def config_from_args(args: argparse.Namespace) -> NodeConfig:
    config = load_config(args.config) if args.config else NodeConfig()
    extra = _flag_sensors(args, len(config.sensors))
    changes: dict[str, object] = {}
    if extra:
        changes["sensors"] = (*config.sensors, *extra)
    if args.http:
        changes["http_host"], changes["http_port"] = parse_hostport(args.http)
    if args.data_dir:
        changes["data_dir"] = Path(args.data_dir)
    if args.synthetic is not None:
        changes["synthetic"] = SyntheticConfig(aircraft=args.synthetic)
    if args.name:
        changes["name"] = args.name
    if args.tile_url:
        changes["map"] = MapConfig(check_tile_url(args.tile_url, "--tile-url"),
                                   config.map.attribution)
    return replace(config, **changes)  # type: ignore[arg-type]


async def _run_node(config: NodeConfig, announce: bool = True) -> None:
    from skyshare.node import Node

    node = Node(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = asyncio.create_task(node.run(stop))
    ready = asyncio.create_task(node.ready.wait())
    await asyncio.wait({runner, ready}, return_when=asyncio.FIRST_COMPLETED)
    if runner.done():
        ready.cancel()
        runner.result()
        return
    if announce:
        sensors = ", ".join(f"{s.name} ({s.format} {s.mode} {s.address})"
                            for s in node.config.sensors)
        print(f"skyshare node {config.name!r} is up: open {node.url}", flush=True)
        print(f"  sensors: {sensors or 'none (add --beast-connect HOST:PORT)'}", flush=True)
        print("  API: /api/picture /data/aircraft.json /api/sensors /metrics "
              "(WebSocket /api/stream); Ctrl-C stops", flush=True)
    await runner


def cmd_run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    asyncio.run(_run_node(config))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from skyshare.demo import demo_config, ensure_demo_users

    config = NodeConfig(name="demo", http_host=args.http_host, http_port=args.port,
                        data_dir=Path(args.data_dir),
                        synthetic=SyntheticConfig(aircraft=args.aircraft, seed=args.seed),
                        map=MapConfig(check_tile_url(args.tile_url, "--tile-url"))
                        if args.tile_url else MapConfig())
    config = demo_config(config, incident_every_s=args.incident_every)
    logins, created = ensure_demo_users(config.data_dir)
    print(f"demo log-ins {'written to' if created else 'are in'} {logins}:", flush=True)
    print(logins.read_text(encoding="utf-8"), end="", flush=True)
    asyncio.run(_run_node(config))
    return 0


# ----------------------------------------------------------------------------- offline
def _file_sensor(path: str, fmt: str | None) -> SensorSpec:
    return SensorSpec(name=Path(path).name, index=0, format=fmt or "beast",  # type: ignore[arg-type]
                      mode="file", path=path)


def _parse_reference(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    try:
        lat, lon = (float(v) for v in text.split(","))
    except ValueError:
        raise SkyshareError(f"--reference {text!r}: expected LAT,LON such as 43.63,1.37") from None
    return lat, lon


def _parse_radar(text: str | None) -> RadarSite | None:
    if not text:
        return None
    try:
        values = [float(v) for v in text.split(",")]
        if len(values) not in (2, 3):
            raise ValueError
        return RadarSite(*values)
    except (ValueError, ConfigError):
        raise SkyshareError(f"--radar {text!r}: expected LAT,LON[,HEIGHT_M] of the radar "
                            "antenna, such as 43.63,1.37,180") from None


def _offline(args: argparse.Namespace, tracks: bool) -> int:
    from skyshare.badinput import BadInput
    from skyshare.fusion.radar_tracker import RadarTrackerConfig, placed_reports
    from skyshare.pipeline import Pipeline, concat_reports
    from skyshare.radar.plots import FT
    from skyshare.sources.base import SourceOutput
    from skyshare.sources.files import iter_file
    from skyshare.store.export import (
        TableWriter,
        output_format,
        reports_table,
        track_updates_table,
    )

    output_format(args.output)  # fail before reading anything
    path = Path(args.input)
    if not path.is_file():
        raise SkyshareError(f"{path}: no such file")
    bad = BadInput(sensor=path.name)
    spec = _file_sensor(str(path), args.format)
    ref = _parse_reference(args.reference)
    radar = _parse_radar(args.radar)
    pipeline = Pipeline([spec], [bad], reference=ref)
    names = [spec.name]
    progress = Progress(path.stat().st_size, label="track" if tracks else "decode")
    nominal = RadarTrackerConfig().nominal_alt_ft * FT
    with TableWriter(args.output) as writer:
        for chunk in iter_file(str(path), args.format, 0, bad, clock_epoch=args.clock_epoch,
                               radar=radar):
            out = chunk.output
            if not tracks and len(out.plots):  # decode: each plot as it is
                out = SourceOutput(out.frames, concat_reports(
                    [out.reports, placed_reports(out.plots, nominal)]))
            reports = pipeline.decode([out])
            if tracks:
                updates = pipeline.fuse(reports)
                if len(updates):
                    writer.write(track_updates_table(updates, names))
            elif len(reports):
                writer.write(reports_table(reports, names))
            progress.update(chunk.bytes_done, pipeline.frames)
        progress.update(progress.total, pipeline.frames, final=True)
    kind = "track updates" if tracks else "reports"
    print(f"{pipeline.frames:,} frames -> {writer.rows:,} {kind} in {args.output}",
          file=sys.stderr)
    skipped = ", ".join(f"{k}: {v:,}" for k, v in sorted(bad.counts.items()))
    if skipped:
        print(f"skipped: {skipped}", file=sys.stderr)
    return 0


def cmd_decode(args: argparse.Namespace) -> int:
    return _offline(args, tracks=False)


def cmd_track(args: argparse.Namespace) -> int:
    return _offline(args, tracks=True)


# ----------------------------------------------------------------------------- synth
def cmd_synth(args: argparse.Namespace) -> int:
    from skyshare.synth.feed import SyntheticFeed, serve_beast, write_recording
    from skyshare.synth.traffic import Traffic

    traffic = Traffic(args.aircraft, seed=args.seed, start_time=time.time())
    feed = SyntheticFeed(traffic)
    if args.output:
        fmt = args.format or SYNTH_EXTENSIONS.get(Path(args.output).suffix.lower())
        if fmt is None:
            raise SkyshareError(f"{args.output}: name the file .beast, .avr or .jsonl, "
                                "or give --format")
        write_recording(feed, args.output, args.duration, fmt)
        print(f"wrote {args.duration:g} s of {args.aircraft} aircraft to {args.output} ({fmt})",
              file=sys.stderr)
        return 0
    host, port = parse_hostport(args.beast_listen or f"127.0.0.1:{DEFAULT_PORTS['beast']}")

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"serving {args.aircraft} synthetic aircraft as Beast on {host}:{port}; "
              "Ctrl-C stops", file=sys.stderr, flush=True)
        await serve_beast(feed, host, port, stop=stop)

    asyncio.run(serve())
    return 0


# ----------------------------------------------------------------------------- audit
EPILOG_AUDIT = """\
examples:
  skyshare audit verify --data-dir var/toulouse     # var/toulouse/audit.sqlite + its heads
  skyshare audit verify --log audit.sqlite --heads heads-from-partner.jsonl
  skyshare audit verify --log audit-export.jsonl    # an export re-verified on its own
  skyshare audit verify --log west/audit.sqlite --partner-heads central/audit.sqlite
                                                    # against the heads central recorded
  skyshare audit export --data-dir var/toulouse -o audit.csv --since-seq 1000
  skyshare audit export --log audit.sqlite -o acks.jsonl --kind alert.acknowledged
verify exits 0 when the chain is intact and matches the published heads (and, with
--partner-heads, those partners recorded), 1 when an entry was altered or removed (the
first one is named, and the head that shows it), 2 when the log cannot be read.
"""


def _audit_log_path(args: argparse.Namespace) -> Path:
    from skyshare.store.audit import AUDIT_FILE

    if args.log:
        return Path(args.log)
    return Path(args.data_dir or NodeConfig().data_dir) / AUDIT_FILE


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from skyshare.store.audit import AuditError, verify
    from skyshare.store.audit.verification import log_nodes, partner_heads

    path = _audit_log_path(args)
    recorded = []
    if args.partner_heads:
        nodes = args.node or log_nodes(path)
        if not nodes:
            raise AuditError("the log is empty, so whose heads to compare is unknown: name "
                             "its node with --node", path=path)
        recorded = partner_heads(args.partner_heads, nodes, partner=args.partner)
    report = verify(path, args.heads, partner_heads=recorded)
    print(report.describe())
    return 0 if report.ok else 1


def cmd_audit_export(args: argparse.Namespace) -> int:
    from skyshare.store.audit import export

    rows = export(_audit_log_path(args), args.output, since_seq=args.since_seq,
                  until_seq=args.until_seq, kind=args.kind)
    print(f"{rows:,} audit entries -> {args.output}", file=sys.stderr)
    return 0


def _add_audit_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    audit = sub.add_parser("audit", help="verify or export the tamper-evident audit log",
                           description="Check the node's hash-chained audit log, or export "
                                       "it for a reviewer.",
                           epilog=EPILOG_AUDIT, formatter_class=raw)
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="recompute the hash chain, compare published heads",
        description="Recompute every entry's hash in order, name the first entry altered or "
                    "missing, and check that the log still holds the last published head.",
        epilog=EPILOG_AUDIT, formatter_class=raw)
    export = actions.add_parser(
        "export", help="write entries with their hashes (JSON lines or CSV)",
        description="Write entries with their prev_hash and hash, so that a reviewer can "
                    "re-verify them without the node ('skyshare audit verify --log FILE').",
        epilog=EPILOG_AUDIT, formatter_class=raw)
    for sp in (verify, export):
        sp.add_argument("--data-dir", metavar="DIR", help="the node's data dir; the log is "
                        f"DIR/audit.sqlite (default {NodeConfig().data_dir})")
        sp.add_argument("--log", metavar="FILE", help="the log itself (overrides --data-dir); "
                        "verify also reads an export (.jsonl, .csv)")
    verify.add_argument("--heads", metavar="FILE", help="published heads to compare "
                        "(default: LOG.heads.jsonl when it exists)")
    verify.add_argument("--partner-heads", nargs="+", action="extend", metavar="LOG",
                        help="audit logs (or exports) of partner nodes: compare the heads "
                        "of this log's node that they recorded (audit.partner_head "
                        "entries); verify those logs on their own too")
    verify.add_argument("--node", action="append", metavar="NAME",
                        help="with --partner-heads: the node name(s) the heads carry "
                        "(default: the nodes that wrote the log's first and last entries)")
    verify.add_argument("--partner", metavar="NAME", help="with --partner-heads: only heads "
                        "recorded for this partner (needed when node names repeat)")
    verify.set_defaults(func=cmd_audit_verify)
    export.add_argument("-o", "--output", required=True, help="output file: .jsonl or .csv")
    export.add_argument("--since-seq", type=int, default=1, metavar="N",
                        help="first entry (default 1)")
    export.add_argument("--until-seq", type=int, metavar="N", help="last entry (default: all)")
    export.add_argument("--kind", metavar="K", help="only entries of this kind, e.g. "
                        "alert.raised (such an export has gaps: not re-verifiable as a chain)")
    export.set_defaults(func=cmd_audit_export)


# ----------------------------------------------------------------------------- users
EPILOG_USERS = """\
examples:
  skyshare users add alice --partner DSNA --role duty_officer    # asks for the password twice
  skyshare users add wall --partner DSNA --role read_only --password-stdin < password.txt
  skyshare users list --data-dir var/toulouse                     # var/toulouse/users.sqlite
  skyshare users passwd alice                                     # a new password
  skyshare users role alice supervisor
  skyshare users disable alice                                    # 'enable' undoes it
  skyshare users remove alice --store /srv/skyshare/users.sqlite
roles: read_only sees the picture and alerts; duty_officer also acknowledges, resolves,
hands over and accepts its partner's alerts; supervisor can also reopen resolved alerts
and receives escalations.  Nobody acts for another partner.  Passwords have at least 10
characters.  A running node applies changes at once: a user removed, disabled, or given
a new role or password is logged out.
"""


def _users_path(args: argparse.Namespace) -> Path:
    from skyshare.auth import USERS_FILE

    if args.store:
        return Path(args.store)
    return Path(args.data_dir or NodeConfig().data_dir) / USERS_FILE


def _new_password(args: argparse.Namespace) -> str:
    """From the first line of stdin (scripts), or typed twice at a hidden prompt."""
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise SkyshareError("--password-stdin: standard input is empty; pipe the "
                                "password in, e.g. skyshare users passwd NAME "
                                "--password-stdin < password.txt")
        return line.rstrip("\r\n")
    import getpass

    try:
        first = getpass.getpass("new password: ")
        second = getpass.getpass("the same again: ")
    except EOFError:
        raise SkyshareError("no password typed: type it at the prompt, or give "
                            "--password-stdin and pipe it in") from None
    if first != second:
        raise SkyshareError("the two passwords differ: nothing changed, try again")
    return first


def cmd_users_add(args: argparse.Namespace) -> int:
    from skyshare.auth import UserStore

    store = UserStore(_users_path(args))
    store.add(args.name, args.partner, args.role, _new_password(args))
    print(f"added {args.name} ({args.role} of {args.partner}) to {store.path}")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from skyshare.auth import UserStore

    store = UserStore(_users_path(args))
    users = store.users()
    if not users:
        print(f"no users in {store.path}: add one with 'skyshare users add NAME "
              "--partner PARTNER --role duty_officer'", file=sys.stderr)
        return 0

    def utc(t: float) -> str:
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M")

    rows = [("USER", "PARTNER", "ROLE", "CREATED (UTC)", "PASSWORD SET (UTC)", "")]
    rows += [(u.user, u.partner, u.role.value, utc(u.created), utc(u.password_changed),
              "disabled" if u.disabled else "") for u in users]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_users_change(args: argparse.Namespace) -> int:
    from skyshare.auth import UserStore

    store = UserStore(_users_path(args))
    what = args.users_command
    if what == "passwd":
        store.set_password(args.name, _new_password(args))
        done = "has a new password"
    elif what == "role":
        store.set_role(args.name, args.role)
        done = f"is now {args.role}"
    elif what in ("disable", "enable"):
        store.set_disabled(args.name, what == "disable")
        done = f"is {what}d"
    else:
        store.remove(args.name)
        done = "was removed"
    ended = "" if what == "enable" else "; their sessions on a running node end"
    print(f"{args.name} {done}{ended}")
    return 0


def _users_action(actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
                  summary: str, description: str,
                  func: Callable[[argparse.Namespace], int] = cmd_users_change,
                  ) -> argparse.ArgumentParser:
    sp = actions.add_parser(name, help=summary, description=description,
                            epilog=EPILOG_USERS,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    if name != "list":
        sp.add_argument("name", metavar="NAME",
                        help="user name: 1 to 64 letters, digits, '_', '.' or '-'")
    where = sp.add_mutually_exclusive_group()
    where.add_argument("--data-dir", metavar="DIR", help="the node's data dir; users are in "
                       f"DIR/users.sqlite (default {NodeConfig().data_dir})")
    where.add_argument("--store", metavar="FILE", help="the user store itself "
                       "(instead of --data-dir)")
    if name in ("add", "passwd"):
        sp.add_argument("--password-stdin", action="store_true", help="read the password "
                        "from the first line of standard input (for scripts) instead of "
                        "asking twice")
    sp.set_defaults(func=func)
    return sp


def _add_users_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from skyshare.auth import Role

    roles = [role.value for role in Role]
    users = sub.add_parser("users", help="add, list, change or remove who may log in",
                           description="Manage the node's users: each one works for a "
                                       "partner and has a role.",
                           epilog=EPILOG_USERS,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = _users_action(actions, "add", "add a user (asks for its password)",
                        "Add a user who works for PARTNER with ROLE.", cmd_users_add)
    add.add_argument("--partner", required=True, help="the partner (air navigation "
                     "service) the user works for, e.g. DSNA")
    add.add_argument("--role", required=True, choices=roles, metavar="ROLE",
                     help=f"what the user may do: {', '.join(roles)} (see below)")
    _users_action(actions, "list", "list users with partner, role and dates",
                  "List the users: partner, role, when added, when the password was set.",
                  cmd_users_list)
    _users_action(actions, "passwd", "set a new password (logs the user out)",
                  "Give a user a new password; the user's sessions on a node end.")
    role = _users_action(actions, "role", "change a user's role (logs the user out)",
                         "Give a user another role; the user's sessions on a node end.")
    role.add_argument("role", choices=roles, metavar="ROLE",
                      help=f"the new role: {', '.join(roles)}")
    _users_action(actions, "disable", "refuse a user's logins, keeping the user",
                  "Refuse a user's logins and end its sessions; 'enable' undoes it.")
    _users_action(actions, "enable", "allow a disabled user to log in again",
                  "Allow a disabled user to log in again.")
    _users_action(actions, "remove", "delete a user (logs the user out)",
                  "Delete a user; the user's sessions on a node end.")


# ----------------------------------------------------------------------------- agreements
EPILOG_AGREEMENTS = """\
examples:
  skyshare agreements check skyshare/data/agreements/     # every *.yaml / *.yml of a folder
  skyshare agreements check west.yaml east.yaml --at 2027-06-01T12:00:00Z
  skyshare agreements check agreements/ --json > terms.json
prints, for each receiving partner, what it gets from every other partner (agreement,
validity, regions with area and altitude band, fields, sources, delay, rate, exclusions,
alerts and hand-over), or "nothing".  Exit status 0 when the whole set is valid, 2 with
the first mistake as file:agreement N (id): key and what to write instead.
"""


def cmd_agreements_check(args: argparse.Namespace) -> int:
    from skyshare.share.agreements import load_agreements, parse_utc
    from skyshare.share.report import describe, to_json

    at = parse_utc(args.at, "--at") if args.at else time.time()
    agreements = load_agreements(args.paths)
    print(to_json(agreements, at) if args.json else describe(agreements, at))
    return 0


def _add_agreements_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    agreements = sub.add_parser("agreements", help="check the bilateral sharing agreements",
                                description="Validate bilateral sharing agreements (YAML) "
                                            "and show what each partner receives.",
                                epilog=EPILOG_AGREEMENTS, formatter_class=raw)
    actions = agreements.add_subparsers(dest="agreements_command", required=True,
                                        metavar="ACTION")
    check = actions.add_parser(
        "check", help="validate agreement files and show who receives what",
        description="Load every agreement of the files and folders given, as one set (all "
                    "or nothing), and show what each partner receives from each other.",
        epilog=EPILOG_AGREEMENTS, formatter_class=raw)
    check.add_argument("paths", nargs="+", metavar="PATH",
                       help="agreement YAML files, or folders of them")
    check.add_argument("--at", metavar="TIME", help="evaluate validity at this UTC time, "
                       "e.g. 2027-06-01 or 2027-06-01T12:00:00Z (default: now)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(func=cmd_agreements_check)


# ----------------------------------------------------------------------------- parser
TILE_HELP = ("online raster tiles under the map, an XYZ template such as "
             "https://tile.openstreetmap.org/{z}/{x}/{y}.png (default: the offline "
             "basemap only)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="skyshare",
        description="Federated airspace surveillance: receiver feeds fused into one air "
                    "picture, served to a browser and an API.",
        epilog="Start with 'skyshare federation demo' (three partners) or 'skyshare demo' "
               "(one node) and open the URLs they print. "
               "'skyshare COMMAND --help' explains each command.",
    )
    p.add_argument("--version", action="version", version=f"skyshare {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="more log output (-vv: debug)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a node on real receivers",
                         description="Run a node: connect to receivers, fuse, serve the picture.",
                         epilog=EPILOG_RUN, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("config", nargs="?", help="YAML node configuration (optional)")
    for fmt, port in (("beast", 30005), ("avr", 30002), ("sbs", 30003)):
        run.add_argument(f"--{fmt}-connect", action="append", metavar="HOST:PORT",
                         help=f"connect to a receiver's {fmt.upper()} output "
                              f"(usually port {port}); repeatable")
    run.add_argument("--beast-listen", action="append", metavar="[HOST:]PORT",
                     help="accept Beast pushed by receivers on this port; repeatable")
    run.add_argument("--http", metavar="HOST:PORT", help="where to serve the map and API "
                     "(default 127.0.0.1:8080)")
    run.add_argument("--data-dir", metavar="DIR", help="where the node keeps its files "
                     "(default var/skyshare)")
    run.add_argument("--name", help="node name shown in the API")
    run.add_argument("--synthetic", type=int, metavar="N",
                     help="also feed N synthetic aircraft (for trying things out)")
    run.add_argument("--tile-url", metavar="URL", help=TILE_HELP)
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="a node fed by synthetic traffic, no receiver needed",
                          description="Start a node on embedded defaults, fed by a synthetic "
                                      "Beast receiver on loopback, and print its URL. The demo "
                                      "node belongs to partner 'central' among three fictional "
                                      "partners (west, central, east), has restricted volumes "
                                      "under busy routes, makes an aircraft squawk an emergency "
                                      "now and then, and creates a log-in per partner (printed, "
                                      "and kept in DATA_DIR/demo-logins.txt) for the alerts "
                                      "panel.")
    demo.add_argument("--aircraft", type=int, default=300, help="number of aircraft (default 300)")
    demo.add_argument("--seed", type=int, default=1, help="traffic seed (default 1)")
    demo.add_argument("--http-host", default="127.0.0.1", help="default 127.0.0.1")
    demo.add_argument("--port", type=int, default=8080, help="HTTP port (default 8080)")
    demo.add_argument("--data-dir", default="var/demo", help="default var/demo")
    demo.add_argument("--tile-url", metavar="URL", help=TILE_HELP)
    demo.add_argument("--incident-every", type=float, default=60.0, metavar="S",
                      help="an emergency squawk every S seconds (default 60; 0: none)")
    demo.set_defaults(func=cmd_demo)

    add_federation_parser(sub)
    add_exercise_parser(sub)

    for name, func, what in (("decode", cmd_decode, "one row per decoded frame"),
                             ("track", cmd_track, "one row per track update")):
        sp = sub.add_parser(name, help=f"file -> {what} (CSV/Parquet/JSON lines)",
                            description=f"Read a recording and write {what}. Progress goes "
                                        "to stderr.",
                            epilog=EPILOG_DECODE.replace("skyshare decode", f"skyshare {name}"),
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        sp.add_argument("input", help="recording: .beast, AVR text, SBS CSV, .jsonl(.gz), "
                                      "or ASTERIX (.pcap capture or raw data blocks)")
        sp.add_argument("-o", "--output", required=True,
                        help="output file: .csv, .parquet or .jsonl")
        sp.add_argument("--format", choices=["beast", "avr", "sbs", "jsonl", "asterix"],
                        help="input format (default: detected from the content; a pcap "
                             "capture is read as ASTERIX; raw ASTERIX needs --format)")
        sp.add_argument("--radar", metavar="LAT,LON[,H]",
                        help="ASTERIX: where the radar is (antenna height in metres above "
                             "WGS-84) to place its plots; default: from its CAT034 I034/120")
        sp.add_argument("--reference", metavar="LAT,LON",
                        help="receiver position for surface positions (optional)")
        sp.add_argument("--clock-epoch", type=float, metavar="UNIX_S",
                        help="time of the first frame of a Beast or AVR '@' recording, "
                             "whose clock is relative (default: the file's mtime)")
        sp.set_defaults(func=func)

    syn = sub.add_parser("synth", help="write or serve synthetic receiver data",
                         description="Generate flights between real airports and encode them "
                                     "as true DF17 frames.")
    syn.add_argument("-o", "--output", help="write a recording (.beast, .avr, .jsonl)")
    syn.add_argument("--format", choices=["beast", "avr", "jsonl"])
    syn.add_argument("--duration", type=float, default=60.0, help="seconds to write (default 60)")
    syn.add_argument("--aircraft", type=int, default=300)
    syn.add_argument("--seed", type=int, default=1)
    syn.add_argument("--beast-listen", metavar="[HOST:]PORT",
                     help="serve Beast on this port instead (default 127.0.0.1:30005)")
    syn.set_defaults(func=cmd_synth)
    _add_audit_parser(sub)
    _add_users_parser(sub)
    _add_agreements_parser(sub)
    return p


def _quiet_tls_eof(record: logging.LogRecord) -> bool:
    """Drop asyncio's note that a TLS peer closed (nats-py's protocol answers True to
    eof_received, which asyncio's TLS transport ignores and mentions at WARNING on every
    disconnect): it says nothing an operator can act on."""
    return not record.getMessage().startswith("returning true from eof_received()")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("asyncio").addFilter(_quiet_tls_eof)
    try:
        return int(args.func(args))
    except SkyshareError as exc:
        print(f"skyshare: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # ports in use, unreadable files: say it in one line
        print(f"skyshare: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
