"""``skyshare exercise run SCENARIO``: play a scenario through a live network, score it.

1. The scenario is loaded and checked (:mod:`.scenario`), its traffic flown
   (:mod:`.traffic`) and what it expects derived (:mod:`.expect`) before anything starts.
2. A NATS server and one node per partner start (:mod:`.nodes`), each with an
   ``exercise: true`` sensor per simulated sensor.
3. Once every node answers, exercise time starts: the :class:`~.inject.Injector` sends
   each sensor's frames over the sockets, the :class:`~.observe.Observer` watches every
   node's alerts and picture (and, with ``respond_after_s``, plays the duty officers).
4. After ``duration_s`` (plus ``settle_s`` for the last alerts to travel) the network
   stops, the run is scored (:mod:`.score`) and the report written: ``report.html``
   and ``summary.json`` in the run folder, and the summary in every node's
   ``data/exercises/`` (readiness shows each partner's last result).

The nodes' folders stay behind (``node.log``, audit logs, history) for inspection.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from skyshare.errors import SkyshareError
from skyshare.exercise.expect import expectations
from skyshare.exercise.inject import Injector, warm_up
from skyshare.exercise.nodes import Network, PartnerNode, prepare
from skyshare.exercise.observe import Observer
from skyshare.exercise.report import write_report
from skyshare.exercise.scenario import Scenario
from skyshare.exercise.score import summary
from skyshare.exercise.traffic import ScenarioTraffic

START_DELAY_S = 2.0  # between the nodes answering and exercise time 0


@dataclass(frozen=True)
class RunOptions:
    out: Path
    respond_after_s: float | None = 20.0
    """The scripted responder's delay; None: duty officers act themselves."""
    settle_s: float = 20.0
    keep_open_s: float = 0.0
    """Keep the network up this long after scoring (to look at the maps)."""


class Progress:
    """One line redrawn in place on a terminal (every few seconds in a log)."""

    def __init__(self, out: TextIO, total_s: float) -> None:
        self.out = out
        self.total_s = total_s
        self.tty = out.isatty()
        self._last = -1e9

    def show(self, elapsed_s: float, text: str) -> None:
        now = time.monotonic()
        if not self.tty and now - self._last < 10.0 and elapsed_s < self.total_s:
            return
        self._last = now
        width = 30
        done = min(1.0, elapsed_s / self.total_s) if self.total_s > 0 else 1.0
        bar = "#" * round(done * width) + "." * (width - round(done * width))
        line = f"[{bar}] {elapsed_s:5.0f}/{self.total_s:.0f} s  {text}"
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n",
              file=self.out, flush=True)

    def end(self) -> None:
        if self.tty:
            print(file=self.out, flush=True)


def run_exercise(scenario: Scenario, options: RunOptions, out: TextIO = sys.stdout
                 ) -> dict[str, Any]:
    """Run ``scenario`` (see the module docstring); returns the summary."""
    root = options.out
    print(f"exercise {scenario.name}: {scenario.title}", file=out, flush=True)
    layout, nodes = prepare(scenario, root)
    network = Network(layout, nodes)
    try:
        network.start()
        print(f"starting {len(nodes)} node(s) and a NATS server (first run: kernels "
              "compile, a minute or two) ...", file=out, flush=True)
        network.wait_ready()
        for node in nodes:
            print(f"  {node.partner:10} {node.url}/  (log-ins: {node.data_dir}/"
                  "exercise-logins.txt)", file=out, flush=True)
        warm_up(scenario)  # the simulators' kernels compile before time 0, not at it
        start = time.time() + START_DELAY_S
        traffic = ScenarioTraffic(scenario, start)
        expected = expectations(scenario, traffic)
        targets = {name: where for n in nodes for name, where in n.targets.items()}
        injector = Injector(scenario, traffic, targets)
        observer = Observer(nodes, {a.address for a in expected if a.address},
                            options.respond_after_s)
        observer.start()
        asyncio.run(_play(injector, observer, network, scenario, options, start, out))
        seen = observer.stop()
        end = time.time()
        notes = _notes(options, seen.unmarked_tracks, seen.errors)
        result = summary(scenario, traffic, expected, seen, injector.logs, start, end, notes)
        html, js = write_report(result, root)
        _file_with_nodes(result, nodes)
        totals = result["totals"]
        print(f"score {totals['score']:.0f}/100: {totals['detected']} detected, "
              f"{totals['late']} late, {totals['missed']} missed of {totals['events']}; "
              f"{totals['false_alerts']} false alert(s)", file=out, flush=True)
        print(f"report: {html}\nsummary: {js}", file=out, flush=True)
        if options.keep_open_s > 0:
            print(f"the nodes stay up {options.keep_open_s:.0f} s (Ctrl-C stops)", file=out,
                  flush=True)
            time.sleep(options.keep_open_s)
        return result
    finally:
        network.stop()


async def _play(injector: Injector, observer: Observer, network: Network, scenario: Scenario,
                options: RunOptions, start: float, out: TextIO) -> None:
    stop = asyncio.Event()
    await asyncio.sleep(max(0.0, start - time.time()))
    task = asyncio.create_task(injector.run(stop))
    progress = Progress(out, scenario.duration_s + options.settle_s)
    try:
        while True:
            elapsed = time.time() - start
            progress.show(min(elapsed, progress.total_s),
                          f"alerts {observer.alert_count():3d}  "
                          f"messages {sum(x.messages for x in injector.logs):,}")
            if elapsed >= progress.total_s:
                break
            dead = network.stopped()
            if dead:
                raise SkyshareError(f"node(s) {', '.join(dead)} stopped during the exercise; "
                                    "see their node.log")
            await asyncio.sleep(1.0)
    finally:
        progress.end()
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


def _notes(options: RunOptions, unmarked: Any, errors: Any) -> list[str]:
    notes = []
    if options.respond_after_s is not None:
        notes.append(f"Acknowledgements and hand-over acceptances were made by the scripted "
                     f"responder, {options.respond_after_s:g} s after each case appeared "
                     "(skyshare exercise run --respond people leaves them to duty officers).")
    else:
        notes.append("Acknowledgements and hand-overs were left to the duty officers.")
    if unmarked:
        notes.append("Tracks not marked EXERCISE were seen during the run on: "
                     + ", ".join(sorted(unmarked)) + " (there should be none).")
    if errors:
        notes.append("Observation errors: " + ", ".join(f"{k} x{v}" for k, v
                                                         in sorted(errors.items())))
    return notes


def _file_with_nodes(result: dict[str, Any], nodes: list[PartnerNode]) -> None:
    """The summary into each node's ``data/exercises/`` (readiness reads the newest)."""
    stamp = datetime.fromtimestamp(result["ended_at"], UTC).strftime("%Y%m%dT%H%M%S")
    for node in nodes:
        folder = node.data_dir / "exercises"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stamp}-{result['scenario']}.json").write_text(
            json.dumps(result, indent=1, sort_keys=True), encoding="utf-8")


def default_out(scenario: Scenario, root: Path = Path("var/exercises")) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return root / f"{scenario.name}-{stamp}"
