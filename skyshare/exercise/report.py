"""The exercise report: one self-contained HTML file and the JSON summary beside it.

The HTML is read by duty officers and exercise planners after a run, on screen or on
paper, often away from the network: so it fetches nothing (inline CSS and SVG, no
script), says EXERCISE in its title, header and print footer, and keeps every value
of the summary in a table as well as in a chart.  The summary is checked first
(:mod:`.report_check`); a malformed one is a :class:`SummaryError` naming the field.

:func:`render_html` is pure; :func:`write_report` writes ``report.html`` and
``summary.json`` atomically (a temporary file renamed into place), so a reader never
sees half a report.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from skyshare.exercise.report_charts import latency, timeline, traffic
from skyshare.exercise.report_check import (
    Event,
    Summary,
    SummaryError,
    check_summary,
    read_summary,
)
from skyshare.exercise.report_map import exercise_map
from skyshare.exercise.report_svg import (
    DASH,
    OUTCOME_STYLE,
    clock,
    defs,
    esc,
    kind_label,
    partner_colours,
    secs,
    utc,
)

__all__ = ["SummaryError", "check_summary", "render_html", "write_report"]

CSS: Final = """
:root{--ink:#1b1b1b;--muted:#555;--line:#ccc;--band:#fff3cd}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);
 margin:0 auto;max-width:1100px;padding:0 1.2rem 3rem}
.banner{background:repeating-linear-gradient(-45deg,#ffd84d 0 14px,#1b1b1b 14px 28px);
 padding:6px;margin:1rem 0}
.banner p{margin:0;background:#fff;text-align:center;font-weight:800;letter-spacing:.35em;
 font-size:1.6rem;padding:.2rem}
h1{font-size:1.6rem;margin:.6rem 0 .2rem}h2{font-size:1.25rem;margin:2rem 0 .5rem;
 border-bottom:2px solid var(--ink)}
.lead{color:var(--muted);margin:.2rem 0 1rem;white-space:pre-line}
dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:.4rem;
 margin:0}
dl.facts div{border:1px solid var(--line);padding:.35rem .6rem}
dt{font-size:.75rem;text-transform:uppercase;color:var(--muted)}dd{margin:0;font-weight:600}
.score dd{font-size:1.5rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.3rem 0}
caption{text-align:left;font-weight:600;padding:.3rem 0;caption-side:top}
th,td{border:1px solid var(--line);padding:.25rem .4rem;vertical-align:top;text-align:left}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.desc{color:var(--muted);font-size:.8rem}
.outcome{display:inline-block;padding:0 .4rem;border:2px solid;border-radius:3px;
 font-weight:700;white-space:nowrap}
.outcome-missed{border-style:double;border-width:3px}
.outcome-late{border-style:dashed}
figure{margin:.6rem 0 1.4rem;break-inside:avoid}
figcaption{color:var(--muted);font-size:.85rem;margin-top:.2rem}
svg.chart{width:100%;height:auto;display:block;font:11px system-ui,sans-serif}
svg .small{font-size:10px}svg .axis-label{fill:#555}
svg .region-label{font-size:15px;font-weight:700}svg .ac-label,svg .ev-label{font-weight:700}
svg .missed-label{fill:#A33D00;font-weight:700}svg .bar-none{fill:#A33D00}
svg .band-label{font-size:9px;fill:#444}
svg.defs{position:absolute;width:0;height:0;overflow:hidden}
nav ul{display:flex;flex-wrap:wrap;gap:.2rem 1rem;list-style:none;padding:0;margin:.4rem 0}
footer{margin-top:2rem;color:var(--muted);font-size:.8rem}
@media print{body{max-width:none;font-size:10.5pt;padding:0}nav{display:none}
 .banner{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 h2{break-after:avoid}tr{break-inside:avoid}
 @page{margin:14mm;@bottom-center{content:"EXERCISE \\2014  not real traffic"}}}
"""


def render_html(summary: Mapping[str, Any]) -> str:
    """The report for ``summary``; raises :class:`SummaryError` (a ``ValueError``)
    naming the field when the summary is malformed."""
    s = read_summary(summary)
    names = [p.name for p in s.partners] + [n for n, _ in s.regions]
    names += [x.partner for x in s.sensors if x.partner]
    names += [p for e in s.events for p, _ in e.reached]
    colours = partner_colours(names)
    title = f"EXERCISE \u2014 {s.title or s.scenario}"
    sections = [
        ("partners", "Partners", _partners_table(s)),
        ("events", "Events", _events_table(s)),
        ("timeline", "Timeline", _figure(timeline(s, colours), (
            "One row per scripted event: when it was scripted, detected, on each "
            "responsible partner's node, acknowledged and handed over. Hatched bands: "
            "missed events (to the end) and sensor outages (across all rows)."))),
        ("map", "Map", _figure(exercise_map(s, colours), (
            "Partner regions (cut at the map's edge), restricted volumes (hatched), "
            "sensors (coloured by partner), the scripted "
            "aircraft's paths (dashed, labelled at their last position) and the events "
            "(numbered as in the events table)."))),
        ("latency", "Detection latency", _figure(latency(s, colours), (
            "Seconds from each scripted moment to the first alert and to the case "
            "reaching each responsible partner."))),
        ("traffic", "Sensor traffic", _figure(traffic(s), (
            "Messages per second of each sensor (own scale per row); hatched: outages."))
         + _sensors_table(s)),
        ("false-alerts", "False alerts", _false_alerts_table(s)),
        ("notes", "Notes", _notes(s)),
    ]
    nav = "".join(f'<li><a href="#{sid}">{name}</a></li>' for sid, name, _ in sections)
    body = "".join(f'<section id="{sid}" aria-labelledby="{sid}-h">'
                   f'<h2 id="{sid}-h">{name}</h2>{html}</section>'
                   for sid, name, html in sections)
    return ("<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:\">"
            f"<style>{CSS}</style></head><body>{defs(colours)}"
            f"{_header(s)}<nav aria-label=\"Sections\"><ul>{nav}</ul></nav><main>{body}</main>"
            f"<footer>EXERCISE report of scenario {esc(s.scenario)}, generated by skyshare "
            "(summary schema skyshare-exercise/1). Nothing in it is real traffic."
            "</footer></body></html>\n")


def _header(s: Summary) -> str:
    t = s.totals
    facts = [("Scenario", esc(s.scenario)), ("Started", utc(s.started_at)),
             ("Ended", utc(s.ended_at)), ("Duration", f"{clock(s.duration_s)} (m:ss)"),
             ("Seed", esc(s.seed)), ("Events", esc(t.events)), ("Detected", esc(t.detected)),
             ("Late", esc(t.late)), ("Missed", esc(t.missed)),
             ("False alerts", esc(t.false_alerts)),
             ("Median detection", secs(t.median_detection_s))]
    score = DASH if t.score is None else f"{t.score:.0f}\u00a0/\u00a0100"
    cells = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    return ('<header><div class="banner" role="note"><p>EXERCISE \u2014 NOT REAL TRAFFIC</p>'
            f"</div><h1>EXERCISE: {esc(s.title or s.scenario)}</h1>"
            f'<p class="lead">{esc(s.description)}</p><dl class="facts">'
            f'<div class="score"><dt>Score</dt><dd>{score}</dd></div>{cells}</dl></header>')


def _table(caption: str, head: list[str], rows: list[list[str]], empty: str,
           numeric: frozenset[int] = frozenset()) -> str:
    """A captioned table; cells are HTML already (escaped by the caller); the
    ``numeric`` columns are right-aligned so seconds and counts line up."""
    if not rows:
        return f"<p>{esc(empty)}</p>"
    th = "".join(f'<th scope="col">{h}</th>' for h in head)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric
                                    else f"<td>{c}</td>" for i, c in enumerate(row))
                   + "</tr>" for row in rows)
    return (f"<table><caption>{esc(caption)}</caption><thead><tr>{th}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _partners_table(s: Summary) -> str:
    rows = [[esc(p.name), esc(p.expected), esc(p.reached), esc(p.missed), esc(p.acknowledged),
             esc(p.false_alerts), secs(p.median_time_to_alert_s)] for p in s.partners]
    return _table("What reached each partner", ["Partner", "Expected", "Reached", "Missed",
                                                "Acknowledged", "False alerts",
                                                "Median time to alert"],
                  rows, "No partners in the summary.", frozenset(range(1, 7)))


def outcome_badge(outcome: str) -> str:
    colour, symbol, _ = OUTCOME_STYLE[outcome]
    return (f'<span class="outcome outcome-{outcome}" style="color:{colour}">'
            f"{symbol} {outcome}</span>")


def _event_row(i: int, e: Event) -> list[str]:
    reached = "<br>".join(f"{esc(p)}: {secs(t)}" for p, t in e.reached) or DASH
    ack = secs(e.acknowledged_s) + (f" by {esc(e.acknowledged_by)}" if e.acknowledged_by
                                    else "")
    h = e.handover
    handover = DASH if h is None else (
        f"{esc(h.source)} \u2192 {esc(h.target)}<br>offered {secs(h.offered_s)}"
        f"<br>accepted {secs(h.accepted_s)}")
    detection = secs(e.detection_s) + (f" by {esc(e.detected_by)}" if e.detected_by else "")
    desc = f'<div class="desc">{esc(e.description)}</div>' if e.description else ""
    return [str(i + 1), clock(e.at_s), esc(kind_label(e.kind)), esc(e.subject) + desc,
            esc(e.expected_rule), outcome_badge(e.outcome), detection, reached, ack,
            handover, esc(e.alert_id)]


def _events_table(s: Summary) -> str:
    return _table("Scripted events and the network's response (times in seconds after "
                  "each event)",
                  ["#", "Time", "Kind", "Subject", "Expected alert", "Outcome", "Detection",
                   "Time to partner", "Acknowledged", "Hand-over", "Alert id"],
                  [_event_row(i, e) for i, e in enumerate(s.events)],
                  "The scenario scripted no events.", frozenset({0, 1}))


def _sensors_table(s: Summary) -> str:
    rows = [[esc(x.name), esc(x.partner), esc(x.kind), esc(x.format), esc(x.frames),
             "<br>".join(f"{esc(o.kind)} {clock(o.from_s)}\u2013{clock(o.to_s)}"
                         for o in x.outages) or DASH] for x in s.sensors]
    return _table("Sensors", ["Sensor", "Partner", "Kind", "Format", "Messages", "Outages"],
                  rows, "No sensors in the summary.", frozenset({4}))


def _false_alerts_table(s: Summary) -> str:
    rows = [[clock(f.at_s), esc(f.rule), esc(f.subject), esc(f.node), esc(f.alert_id)]
            for f in s.false_alerts]
    return _table("Alerts that answered no scripted event",
                  ["Time", "Rule", "Subject", "Raised by", "Alert id"], rows,
                  "No false alerts.")


def _notes(s: Summary) -> str:
    if not s.notes:
        return "<p>No notes.</p>"
    return "<ul>" + "".join(f"<li>{esc(n)}</li>" for n in s.notes) + "</ul>"


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by null (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def write_report(summary: Mapping[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``report.html`` and ``summary.json`` into ``out_dir`` (created); returns
    (report, summary) paths.  Both are rendered before either is written, so a
    malformed summary leaves nothing behind."""
    page = render_html(summary)
    try:
        text = json.dumps(json_safe(summary), indent=1, sort_keys=True, allow_nan=False,
                          ensure_ascii=False) + "\n"
    except (TypeError, ValueError) as exc:  # an extra key holding a non-JSON value
        raise SummaryError([f"summary: not JSON-serialisable ({exc})"]) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    report, js = out_dir / "report.html", out_dir / "summary.json"
    _atomic_write(js, text)
    _atomic_write(report, page)
    return report, js


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
