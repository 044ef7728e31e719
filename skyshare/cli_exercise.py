"""``skyshare exercise``: list, check and run exercise scenarios."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from skyshare.errors import ConfigError

EPILOG = """\
A scenario (YAML) names the partners' regions, their simulated sensors, background
traffic and scripted events (transponder off, 7500/7600/7700, deviations, descents,
sensors failing or degraded).  'run' starts a NATS server and one node per partner,
sends every simulated sensor's frames to its node as a real sensor would (all marked
EXERCISE), watches the alerts and pictures, and writes report.html and summary.json.

examples:
  skyshare exercise list
  skyshare exercise check lost-transponder-crossing
  skyshare exercise run lost-transponder-crossing
  skyshare exercise run my-scenario.yaml --out var/exercises/today --respond people
"""


def shipped_dir() -> Path:
    return Path(str(resources.files("skyshare") / "data" / "scenarios"))


def scenario_path(name: str) -> Path:
    """A scenario file by path, or a shipped scenario by name."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = shipped_dir() / f"{name}.yaml"
    if shipped.is_file():
        return shipped
    names = ", ".join(sorted(p.stem for p in shipped_dir().glob("*.yaml")))
    raise ConfigError(f"no scenario file {name!r}, and no shipped scenario of that name "
                      f"(shipped: {names})", where="SCENARIO")


def cmd_list(args: argparse.Namespace) -> int:
    from skyshare.exercise.scenario import load_scenario

    for path in sorted(shipped_dir().glob("*.yaml")):
        sc = load_scenario(path)
        print(f"{path.stem:28} {sc.duration_s:5.0f} s  {sc.title}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Load the scenario, fly it, and print what it expects of the network."""
    import time

    from skyshare.exercise.expect import expectations
    from skyshare.exercise.scenario import load_scenario
    from skyshare.exercise.traffic import ScenarioTraffic

    sc = load_scenario(scenario_path(args.scenario))
    traffic = ScenarioTraffic(sc, time.time())
    print(f"{sc.name}: {sc.title}\n  partners {', '.join(sc.partners)}; "
          f"{len(sc.sensors)} sensor(s); {sc.background.aircraft} background aircraft; "
          f"{len(sc.aircraft)} scripted; {sc.duration_s:.0f} s")
    for x in expectations(sc, traffic):
        wanted = x.rule or "on the picture"
        hand = f"; hand-over {x.handover[0]} -> {x.handover[1]}" if x.handover else ""
        print(f"  {x.id:4} {x.at_s:6.0f} s  {x.description}\n"
              f"         expects {wanted} for {', '.join(x.responsible)} within "
              f"{x.deadline_s:.0f} s{hand}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from skyshare.exercise.run import RunOptions, default_out, run_exercise
    from skyshare.exercise.scenario import load_scenario

    sc = load_scenario(scenario_path(args.scenario))
    respond = None if args.respond == "people" else args.respond_after
    out = Path(args.out) if args.out else default_out(sc)
    run_exercise(sc, RunOptions(out=out, respond_after_s=respond, settle_s=args.settle,
                                keep_open_s=args.keep_open), sys.stdout)
    return 0


def add_exercise_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ex = sub.add_parser("exercise", help="rehearse the network: run and score a scenario",
                        description="Play a scenario through live nodes as real sensor "
                                    "frames, marked EXERCISE from end to end, and score "
                                    "how the network responded.",
                        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    esub = ex.add_subparsers(dest="exercise_command", required=True, metavar="ACTION")
    lst = esub.add_parser("list", help="the shipped scenarios")
    lst.set_defaults(func=cmd_list)
    check = esub.add_parser("check", help="check a scenario and print what it expects",
                            description="Load and check a scenario, fly its scripted "
                                        "aircraft, and print each event with the reaction "
                                        "expected, who must get it and by when.")
    check.add_argument("scenario", help="a scenario file, or the name of a shipped one")
    check.set_defaults(func=cmd_check)
    run = esub.add_parser("run", help="run a scenario through live nodes and score it",
                          description="Start a NATS server and one node per partner of the "
                                      "scenario, inject its sensors' frames in real time, "
                                      "watch alerts, acknowledgements and hand-overs, and "
                                      "write report.html and summary.json.")
    run.add_argument("scenario", help="a scenario file, or the name of a shipped one")
    run.add_argument("--out", metavar="DIR",
                     help="the run folder (default var/exercises/SCENARIO-TIME)")
    run.add_argument("--respond", choices=("auto", "people"), default="auto",
                     help="auto: a scripted duty officer acknowledges and accepts hand-overs "
                          "(default); people: left to whoever logs in to the nodes' maps")
    run.add_argument("--respond-after", type=float, default=20.0, metavar="S",
                     help="the scripted duty officer's delay (default 20 s)")
    run.add_argument("--settle", type=float, default=20.0, metavar="S",
                     help="keep watching this long after the last event (default 20 s)")
    run.add_argument("--keep-open", type=float, default=0.0, metavar="S",
                     help="keep the nodes up this long after scoring (default 0)")
    run.set_defaults(func=cmd_run)
