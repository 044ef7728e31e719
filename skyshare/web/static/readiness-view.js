// The readiness page's decisions as pure functions: values of GET /api/readiness (see
// skyshare/web/readiness_api.py) in, strings, numbers and SVG path data out; no DOM, no
// fetch, no state.  Tested by tests/js/readiness.test.js.  A missing or null field
// reads as '–' (or says what is missing) rather than failing.

import * as fmt from './format.js';
import { trackRate } from './partners.js';

export const DASH = '–';
const MINUS = '−';

export const SENSOR_STATES = Object.freeze(['ok', 'degraded', 'silent', 'waiting']);
export const NODE_STATES = Object.freeze(['ok', 'degraded', 'impaired']);
export const LINK_STATES = Object.freeze(['connected', 'lagging', 'down']);

// the state on a badge: 'OK', 'SILENT'; 'UNKNOWN' for none
export function stateLabel(state) {
  return typeof state === 'string' && state ? state.toUpperCase() : 'UNKNOWN';
}

// the colour of a sensor, partner or node state (settings.readiness.colours); a state
// this page does not know gets the `unknown` colour
export function stateColour(state, colours) {
  return typeof state === 'string' && Object.hasOwn(colours, state) ? colours[state]
    : colours.unknown;
}

// '2 ok · 1 silent': the sensors in each state, the empty states left out
export function stateCounts(counts) {
  const parts = SENSOR_STATES.filter((s) => fmt.isNum(counts?.[s]) && counts[s] > 0)
    .map((s) => `${counts[s]} ${s}`);
  return parts.length ? parts.join(' · ') : 'no sensors';
}

// a share as a percentage: '0%', '2.5%', '12%', '100%'; '< 0.1%' and '> 99.9%' near
// the ends, so that a few errors never read as none (nor almost all as all)
export function percent(ratio) {
  if (!fmt.isNum(ratio)) return DASH;
  const p = ratio * 100;
  if (p === 0 || p === 100) return `${p}%`;
  if (p > 0 && p < 0.1) return '< 0.1%';
  if (p > 99.9 && p < 100) return '> 99.9%';
  return `${p < 9.95 ? p.toFixed(1) : Math.round(p)}%`;
}

// messages per second: '0.4/s', '218/s'
export const rateText = trackRate;

// the sensor's usual rate, which readiness compares the current one with
export function baselineText(baseline) {
  return fmt.isNum(baseline) ? `usual ${trackRate(baseline)}` : 'no usual rate yet';
}

// '12 s', '10 min', '1 h': a span of configuration (windows, history)
export function span(s) {
  if (!fmt.isNum(s)) return DASH;
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600} h`;
  if (s >= 60 && s % 60 === 0) return `${s / 60} min`;
  return fmt.seconds(s);
}

// how long ago the sensor last delivered a byte
export function heardText(silentS) {
  return fmt.isNum(silentS) ? `heard ${fmt.age(silentS)} ago` : 'never heard';
}

// 'silent for 4 min': the state and how long it has held (node clock, UNIX s)
export function sinceText(state, since, now) {
  if (!fmt.isNum(since) || !fmt.isNum(now)) return fmt.text(state);
  return `${fmt.text(state)} for ${fmt.age(now - since)}`;
}

// the receiver clock's drift against the node's: '+12.3 ppm', '−0.8 ppm'; 'measuring'
// while too few timestamps were seen, 'no receiver clock' for a sensor without one
export function driftText(clock) {
  if (!clock) return 'no receiver clock';
  const d = clock.drift_ppm;
  if (!fmt.isNum(d)) return 'measuring';
  const sign = d > 0 ? '+' : d < 0 ? MINUS : '';
  const size = Math.abs(d);
  return `${sign}${size < 99.95 ? size.toFixed(1) : fmt.count(size)} ppm`;
}

// the clock's jitter: '0.42 ms', '12.5 ms', '140 ms'
export function jitterText(clock) {
  const j = clock?.jitter_ms;
  if (!fmt.isNum(j)) return DASH;
  return `${j < 9.995 ? j.toFixed(2) : j < 99.95 ? j.toFixed(1) : fmt.count(j)} ms`;
}

// the whole clock line: 'drift +1.2 ppm · jitter 0.42 ms · 0 resets'
export function clockText(clock) {
  if (!clock) return 'no receiver clock';
  if (!fmt.isNum(clock.drift_ppm)) {
    return `measuring (${fmt.count(clock.samples ?? 0)} timestamps over `
      + `${fmt.seconds(clock.span_s ?? 0)})`;
  }
  const resets = fmt.isNum(clock.resets) ? clock.resets : 0;
  return `drift ${driftText(clock)} · jitter ${jitterText(clock)} · `
    + `${fmt.count(resets)} ${resets === 1 ? 'reset' : 'resets'}`;
}

// '3 gaps ≥ 10 s in 1 h, longest 2 min 5 s'; 'no gaps ≥ 10 s in 1 h'
export function gapText(gaps) {
  if (!gaps || !fmt.isNum(gaps.count)) return DASH;
  const what = `≥ ${span(gaps.min_s)} in ${span(gaps.span_s)}`;
  if (gaps.count === 0) return `no gaps ${what}`;
  const n = `${fmt.count(gaps.count)} ${gaps.count === 1 ? 'gap' : 'gaps'}`;
  return `${n} ${what}, longest ${fmt.seconds(gaps.longest_s)}`;
}

// the recent gaps, newest first: ['45 s, going on', '2 min 0 s, 12 min ago']
export function recentGaps(gaps, now) {
  const recent = Array.isArray(gaps?.recent) ? gaps.recent : [];
  return recent.filter((g) => Array.isArray(g) && fmt.isNum(g[0]) && fmt.isNum(g[1]))
    .map(([start, end]) => {
      const when = fmt.isNum(now) && now - end >= 1.5 ? `${fmt.age(now - end)} ago`
        : 'going on';
      return `${fmt.seconds(end - start)}, ${when}`;
    }).reverse();
}

// a range: '8.5 NM', '184 NM'
export function nm(value) {
  if (!fmt.isNum(value)) return DASH;
  return `${value < 9.95 ? value.toFixed(1) : fmt.count(value)} NM`;
}

// 'max 184 NM · median 91 NM · 32% of bearings'
export function coverageText(coverage) {
  if (!coverage) return 'no position configured';
  if (!fmt.isNum(coverage.max_range_nm) || coverage.max_range_nm <= 0) {
    return 'no position seen yet';
  }
  return `max ${nm(coverage.max_range_nm)} · median ${nm(coverage.median_range_nm)} · `
    + `${percent(coverage.bearings_seen)} of bearings`;
}

// an altitude band of the outline: 'all altitudes', 'below 10,000 ft',
// '10,000–25,000 ft', 'above 25,000 ft'
export function bandLabel(band) {
  const lo = band?.lower_ft;
  const hi = band?.upper_ft;
  if (!fmt.isNum(lo) && !fmt.isNum(hi)) return 'all altitudes';
  if (!fmt.isNum(lo)) return `below ${fmt.altitude(hi)}`;
  if (!fmt.isNum(hi)) return `above ${fmt.altitude(lo)}`;
  return `${fmt.count(lo)}–${fmt.altitude(hi)}`;
}

// the outer ring of a polar plot that reaches `maxNm`: a round number of NM
const SCALES = [5, 10, 25, 50, 100, 150, 200, 250, 300, 400, 500];
export function scaleNm(maxNm) {
  if (!fmt.isNum(maxNm) || maxNm <= 0) return SCALES[2];
  return SCALES.find((s) => s >= maxNm) ?? Math.ceil(maxNm / 100) * 100;
}

const round1 = (v) => Math.round(v * 10) / 10;

// the SVG path of a coverage outline: `ranges` NM per bearing bin clockwise from north
// (0: nothing seen there), each seen bin at the middle of its bin, `scale` NM at `radius`
// px from (cx, cy), joined in bearing order as the map's polygons are (with the centre
// too while fewer than three bins are seen); '' when nothing was seen
export function polarPath(ranges, { cx, cy, radius, scale }) {
  if (!Array.isArray(ranges) || !ranges.length || !(scale > 0)) return '';
  const width = (2 * Math.PI) / ranges.length;
  const points = [];
  ranges.forEach((r, i) => {
    if (!(fmt.isNum(r) && r > 0)) return;
    const d = (Math.min(r, scale) / scale) * radius;
    const a = (i + 0.5) * width;
    points.push(`${round1(cx + d * Math.sin(a))} ${round1(cy - d * Math.cos(a))}`);
  });
  if (!points.length) return '';
  if (points.length < 3) points.push(`${round1(cx)} ${round1(cy)}`);
  return `M${points.join('L')}Z`;
}

// the largest range of any band (what the polar plot must hold)
export function outlineMax(coverage) {
  const bands = Array.isArray(coverage?.bands) ? coverage.bands : [];
  return bands.reduce((m, b) => Math.max(m, ...(b.ranges_nm ?? []).filter(fmt.isNum)), 0);
}

// {messages, errors, peak}: SVG paths of a sensor's series ([t, messages/s, errors/s],
// oldest first) in a `width` × `height` box on one scale (its peak, per second), time
// along x; '' paths for fewer than two points
export function sparkline(series, width, height) {
  const rows = (Array.isArray(series) ? series : [])
    .filter((r) => Array.isArray(r) && fmt.isNum(r[0]));
  const value = (v) => (fmt.isNum(v) && v > 0 ? v : 0);
  const peak = rows.reduce((m, r) => Math.max(m, value(r[1]), value(r[2])), 0);
  if (rows.length < 2) return { messages: '', errors: '', peak };
  const t0 = rows[0][0];
  const dt = rows[rows.length - 1][0] - t0;
  const pad = 1;
  const x = (t, i) => round1(dt > 0 ? ((t - t0) / dt) * width : (i / (rows.length - 1)) * width);
  const y = (v) => round1(peak > 0 ? pad + (1 - value(v) / peak) * (height - 2 * pad)
    : height - pad);
  const path = (k) => `M${rows.map((r, i) => `${x(r[0], i)} ${y(r[k])}`).join('L')}`;
  return { messages: path(1), errors: path(2), peak };
}

// the open readiness alerts (settings.readiness.alertRules) of GET /api/alerts, newest
// first (ties by id)
export function readinessAlerts(alerts, rules) {
  return (Array.isArray(alerts) ? alerts : [])
    .filter((a) => a && a.state !== 'resolved' && rules.includes(a.rule))
    .sort((a, b) => (b.raised_at - a.raised_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// 'raised 12 s ago'
export function agoText(then, now, verb = '') {
  if (!fmt.isNum(then) || !fmt.isNum(now)) return DASH;
  return `${verb ? `${verb} ` : ''}${fmt.age(now - then)} ago`;
}

// '14:02:31Z' and '2026-03-01 14:02Z': UNIX s in UTC, as operations rooms read time
export function utcTime(t) {
  return fmt.isNum(t) ? `${new Date(t * 1000).toISOString().slice(11, 19)}Z` : DASH;
}

export function utcDateTime(t) {
  return fmt.isNum(t) ? `${new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ')}Z`
    : DASH;
}

// an exercise score out of 100: '48 / 100', '72.5 / 100'
export function scoreText(score) {
  return fmt.isNum(score) ? `${Number.isInteger(score) ? score : score.toFixed(1)} / 100`
    : DASH;
}

// '3 events: 1 detected, 1 late, 1 missed'
export function outcomesText(ex) {
  if (!ex || !fmt.isNum(ex.events)) return DASH;
  const n = (k) => fmt.count(ex[k] ?? 0);
  return `${n('events')} ${ex.events === 1 ? 'event' : 'events'}: ${n('detected')} detected, `
    + `${n('late')} late, ${n('missed')} missed`;
}

// a partner's (or this node's) part of an exercise: 'reached 2 of 3 · 1 missed · 1 false
// alert · 2 acknowledged · median 12.5 s to alert'
export function partnerExerciseText(part) {
  if (!part || typeof part !== 'object') return DASH;
  const n = (k) => (fmt.isNum(part[k]) ? fmt.count(part[k]) : DASH);
  const falseAlerts = part.false_alerts === 1 ? 'false alert' : 'false alerts';
  const parts = [`reached ${n('reached')} of ${n('expected')}`, `${n('missed')} missed`,
    `${n('false_alerts')} ${falseAlerts}`, `${n('acknowledged')} acknowledged`];
  if (fmt.isNum(part.median_time_to_alert_s)) {
    parts.push(`median ${fmt.seconds(part.median_time_to_alert_s)} to alert`);
  }
  return parts.join(' · ');
}

// [label, value] rows of the Last exercise box (empty: no exercise yet); `now`: the
// node's clock
export function exerciseRows(ex, now) {
  if (!ex || typeof ex !== 'object') return [];
  const title = ex.title && ex.scenario && ex.title !== ex.scenario
    ? `${ex.title} (${ex.scenario})` : fmt.text(ex.title || ex.scenario);
  const ended = fmt.isNum(ex.ended_at)
    ? `${utcDateTime(ex.ended_at)} (${agoText(ex.ended_at, now)})` : DASH;
  return [['scenario', title], ['score', scoreText(ex.score)], ['events', outcomesText(ex)],
    ['false alerts', fmt.count(ex.false_alerts)], ['ended', ended],
    ['this node', partnerExerciseText(ex.partner)]];
}

// 'beast · listen 0.0.0.0:30005'
export function sensorSource(sensor) {
  return [sensor?.format, [sensor?.mode, sensor?.address].filter(Boolean).join(' ')]
    .filter(Boolean).join(' · ') || DASH;
}
