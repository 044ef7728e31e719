import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  DASH, LINK_STATES, NODE_STATES, SENSOR_STATES, agoText, bandLabel, baselineText, clockText,
  coverageText, driftText, exerciseRows, gapText, heardText, jitterText, nm, outcomesText,
  outlineMax, partnerExerciseText, percent, polarPath, rateText, readinessAlerts, recentGaps,
  scaleNm, scoreText, sensorSource, sinceText, span, sparkline, stateColour, stateCounts,
  stateLabel, utcDateTime, utcTime,
} from '../../skyshare/web/static/readiness-view.js';
import { SETTINGS } from '../../skyshare/web/static/settings.js';
import { prng } from './frames.js';

const MINUS = '−';
const NOW = 1_780_000_000; // 2026-05-28T20:26:40Z

// pieces of GET /api/readiness as skyshare/readiness/monitor.py sends them
const clock = (over = {}) => ({ drift_ppm: 12.34, jitter_ms: 0.421, offset_s: 1.5, resets: 0,
  samples: 200, span_s: 600, ...over });
const gaps = (over = {}) => ({ count: 0, longest_s: 0, recent: [], span_s: 3600, min_s: 10,
  ...over });
const caseOf = (over = {}) => ({ id: 'n-1', rule: 'sensor_silent', label: 'Sensor silent',
  state: 'new', raised_at: NOW - 30, sensor: 'rx', detail: 'nothing received for 30 s',
  exercise: false, condition_active: true, ...over });

// the point [x, y] of every vertex of an SVG path made of M/L commands
const vertices = (d) => d.replace(/Z$/, '').slice(1).split('L')
  .map((p) => p.split(' ').map(Number));

describe('states', () => {
  test('labels are the states in capitals; none reads UNKNOWN', () => {
    assert.equal(stateLabel('ok'), 'OK');
    assert.equal(stateLabel('impaired'), 'IMPAIRED');
    for (const v of [null, undefined, '', 3]) assert.equal(stateLabel(v), 'UNKNOWN');
  });

  test('every state of sensors, partners and the node has a colour from the settings', () => {
    const { colours } = SETTINGS.readiness;
    for (const state of [...SENSOR_STATES, ...NODE_STATES, ...LINK_STATES]) {
      assert.match(stateColour(state, colours), /^#[0-9a-f]{6}$/, state);
    }
    assert.notEqual(stateColour('ok', colours), stateColour('silent', colours));
    assert.notEqual(stateColour('ok', colours), stateColour('degraded', colours));
    // unknown states, and names that are properties of every object, get `unknown`
    for (const state of ['gone', null, 'constructor', '__proto__', 'toString']) {
      assert.equal(stateColour(state, colours), colours.unknown, String(state));
    }
  });

  test('counts: the states with sensors, in the API\'s order', () => {
    assert.equal(stateCounts({ ok: 2, degraded: 0, silent: 1, waiting: 0 }), '2 ok · 1 silent');
    assert.equal(stateCounts({ ok: 0, degraded: 0, silent: 0, waiting: 0 }), 'no sensors');
    assert.equal(stateCounts(null), 'no sensors');
  });

  test('since: the state and how long it has held', () => {
    assert.equal(sinceText('silent', NOW - 250, NOW), 'silent for 4 min');
    assert.equal(sinceText('ok', null, NOW), 'ok');
    assert.equal(sinceText(null, null, null), DASH);
  });
});

describe('numbers', () => {
  test('percent: whole above 10%, one decimal below, the ends never rounded away', () => {
    assert.equal(percent(0), '0%');
    assert.equal(percent(1), '100%');
    assert.equal(percent(0.025), '2.5%');
    assert.equal(percent(0.1234), '12%');
    assert.equal(percent(0.0995), '10%');
    assert.equal(percent(0.0004), '< 0.1%');
    assert.equal(percent(0.9996), '> 99.9%');
    for (const v of [null, undefined, NaN, '0.5']) assert.equal(percent(v), DASH);
  });

  test('rates and the usual rate', () => {
    assert.equal(rateText(218.52), '219/s');
    assert.equal(rateText(9.32), '9.3/s');
    assert.equal(rateText(0), '0.0/s');
    assert.equal(rateText(null), DASH);
    assert.equal(baselineText(200), 'usual 200/s');
    assert.equal(baselineText(null), 'no usual rate yet');
  });

  test('spans of configuration read in their unit', () => {
    assert.equal(span(3600), '1 h');
    assert.equal(span(7200), '2 h');
    assert.equal(span(600), '10 min');
    assert.equal(span(10), '10 s');
    assert.equal(span(0.25), '0.3 s');
    assert.equal(span(90), '1 min 30 s');
    assert.equal(span(null), DASH);
  });

  test('heard: how long ago, or never', () => {
    assert.equal(heardText(0), 'heard 0 s ago');
    assert.equal(heardText(125), 'heard 2 min ago');
    assert.equal(heardText(null), 'never heard');
  });

  test('ranges in NM', () => {
    assert.equal(nm(183.6), '184 NM');
    assert.equal(nm(8.52), '8.5 NM');
    assert.equal(nm(null), DASH);
  });
});

describe('clock', () => {
  test('drift is signed, with a real minus sign', () => {
    assert.equal(driftText(clock()), '+12.3 ppm');
    assert.equal(driftText(clock({ drift_ppm: -0.84 })), `${MINUS}0.8 ppm`);
    assert.equal(driftText(clock({ drift_ppm: 0 })), '0.0 ppm');
    assert.equal(driftText(clock({ drift_ppm: 12500 })), '+12,500 ppm');
    assert.equal(driftText(clock({ drift_ppm: null })), 'measuring');
    assert.equal(driftText(null), 'no receiver clock');
  });

  test('jitter in ms, fewer decimals as it grows', () => {
    assert.equal(jitterText(clock()), '0.42 ms');
    assert.equal(jitterText(clock({ jitter_ms: 12.46 })), '12.5 ms');
    assert.equal(jitterText(clock({ jitter_ms: 140.2 })), '140 ms');
    assert.equal(jitterText(clock({ jitter_ms: null })), DASH);
    assert.equal(jitterText(null), DASH);
  });

  test('the clock line; a sensor without a receiver clock says so', () => {
    assert.equal(clockText(clock()), 'drift +12.3 ppm · jitter 0.42 ms · 0 resets');
    assert.equal(clockText(clock({ resets: 1 })), 'drift +12.3 ppm · jitter 0.42 ms · 1 reset');
    assert.equal(clockText(clock({ drift_ppm: null, jitter_ms: null, samples: 13, span_s: 12 })),
      'measuring (13 timestamps over 12 s)');
    assert.equal(clockText(null), 'no receiver clock');
    assert.equal(clockText(undefined), 'no receiver clock');
  });
});

describe('gaps', () => {
  test('count, threshold and span; the longest when there were some', () => {
    assert.equal(gapText(gaps()), 'no gaps ≥ 10 s in 1 h');
    assert.equal(gapText(gaps({ count: 1, longest_s: 45 })), '1 gap ≥ 10 s in 1 h, longest 45 s');
    assert.equal(gapText(gaps({ count: 3, longest_s: 125 })),
      '3 gaps ≥ 10 s in 1 h, longest 2 min 5 s');
    assert.equal(gapText(null), DASH);
    assert.equal(gapText({}), DASH);
  });

  test('recent gaps newest first; the one going on says so', () => {
    const g = gaps({ count: 2, recent: [[NOW - 900, NOW - 780], [NOW - 45, NOW]] });
    assert.deepEqual(recentGaps(g, NOW), ['45 s, going on', '2 min 0 s, 13 min ago']);
    assert.deepEqual(recentGaps(gaps(), NOW), []);
    assert.deepEqual(recentGaps(null, NOW), []);
    assert.deepEqual(recentGaps(gaps({ recent: [[null, 3], 'x', [1]] }), NOW), []);
  });
});

describe('coverage', () => {
  const band = (lower, upper, ranges) => ({ lower_ft: lower, upper_ft: upper,
    max_range_nm: Math.max(0, ...ranges), ranges_nm: ranges });

  test('the summary line, and what a sensor without one lacks', () => {
    assert.equal(coverageText({ max_range_nm: 183.6, median_range_nm: 91, bearings_seen: 0.317,
      bands: [] }), 'max 184 NM · median 91 NM · 32% of bearings');
    assert.equal(coverageText({ max_range_nm: 0, median_range_nm: null, bearings_seen: 0 }),
      'no position seen yet');
    assert.equal(coverageText(null), 'no position configured');
  });

  test('band labels from their edges', () => {
    assert.equal(bandLabel(band(null, null, [])), 'all altitudes');
    assert.equal(bandLabel(band(null, 10000, [])), 'below 10,000 ft');
    assert.equal(bandLabel(band(10000, 25000, [])), '10,000–25,000 ft');
    assert.equal(bandLabel(band(25000, null, [])), 'above 25,000 ft');
    assert.equal(bandLabel(undefined), 'all altitudes');
  });

  test('the plot\'s ring is a round number at least the furthest range', () => {
    assert.equal(scaleNm(183.6), 200);
    assert.equal(scaleNm(200), 200);
    assert.equal(scaleNm(3), 5);
    assert.equal(scaleNm(612), 700);
    assert.equal(scaleNm(0), 25);
    assert.equal(scaleNm(null), 25);
    const cov = { bands: [band(null, null, [0, 120, 30]), band(25000, null, [0, 130, 0])] };
    assert.equal(outlineMax(cov), 130);
    assert.equal(outlineMax(null), 0);
    assert.equal(outlineMax({ bands: [{ ranges_nm: null }] }), 0);
  });

  test('polar outline: north up, clockwise, each bin at its middle bearing', () => {
    const box = { cx: 50, cy: 50, radius: 40, scale: 100 };
    // four 90° bins: their middles point NE, SE, SW, NW
    const points = vertices(polarPath([100, 50, 100, 0], box));
    const r = 40 * Math.SQRT1_2;
    const expect = [[50 + r, 50 - r], [50 + r / 2, 50 + r / 2], [50 - r, 50 + r]];
    assert.equal(points.length, 3); // the bin with nothing seen is left out
    points.forEach(([x, y], i) => {
      assert.ok(Math.abs(x - expect[i][0]) <= 0.06 && Math.abs(y - expect[i][1]) <= 0.06,
        `vertex ${i}: ${x} ${y}`);
    });
    assert.match(polarPath([100, 50, 100, 0], box), /^M.*Z$/);
  });

  test('polar outline: nothing seen is no path; ranges past the ring stay on it', () => {
    const box = { cx: 0, cy: 0, radius: 10, scale: 50 };
    assert.equal(polarPath([0, 0, 0], box), '');
    assert.equal(polarPath([], box), '');
    assert.equal(polarPath(null, box), '');
    assert.equal(polarPath([10, 20], { ...box, scale: 0 }), '');
    const [[x, y]] = vertices(polarPath([500, 0], box)); // a bin of 180°: middle east
    assert.ok(Math.abs(x - 10) < 0.06 && Math.abs(y) < 0.06, `${x} ${y}`);
  });

  test('randomised: every vertex lies at its range and bearing from the centre', () => {
    const rand = prng(4242);
    for (let i = 0; i < 100; i += 1) {
      const n = rand.int(1, 180);
      const scale = 50 + rand() * 300;
      const ranges = Array.from({ length: n }, () => (rand() < 0.2 ? 0 : rand() * scale));
      if (!ranges.some((r) => r > 0)) ranges[0] = scale / 2;
      const box = { cx: 66, cy: 66, radius: 60, scale };
      const seen = ranges.map((r, k) => [r, k]).filter(([r]) => r > 0);
      const points = vertices(polarPath(ranges, box));
      assert.equal(points.length, seen.length < 3 ? seen.length + 1 : seen.length);
      if (seen.length < 3) assert.deepEqual(points.pop(), [66, 66]); // the centre closes it
      points.forEach(([x, y], j) => {
        const k = seen[j][1];
        const dist = Math.hypot(x - 66, y - 66);
        assert.ok(Math.abs(dist - (ranges[k] / scale) * 60) < 0.1, `range of bin ${k}`);
        if (dist > 10) { // far enough from the centre for 0.1 px rounding not to matter
          const bearing = ((Math.atan2(x - 66, 66 - y) * 180) / Math.PI + 360) % 360;
          const middle = ((k + 0.5) * 360) / n;
          const off = Math.abs(((bearing - middle + 540) % 360) - 180);
          assert.ok(off < 1.5, `bin ${k} of ${n}: bearing ${bearing} not ${middle}`);
        }
      });
    }
  });
});

describe('sparkline', () => {
  const series = [[0, 0, 0], [10, 50, 5], [20, 100, 0], [30, 25, 0]];

  test('time along x, one scale (the peak) for messages and errors', () => {
    const line = sparkline(series, 90, 22);
    assert.equal(line.peak, 100);
    const m = vertices(line.messages);
    assert.deepEqual(m.map(([x]) => x), [0, 30, 60, 90]);
    assert.deepEqual(m.map(([, y]) => y), [21, 11, 1, 16]); // 1 px inside the box
    const e = vertices(line.errors);
    assert.deepEqual(e.map(([, y]) => y), [21, 20, 21, 21]);
  });

  test('no path for fewer than two points; a flat line when all is zero', () => {
    assert.deepEqual(sparkline([], 90, 20), { messages: '', errors: '', peak: 0 });
    assert.deepEqual(sparkline(null, 90, 20), { messages: '', errors: '', peak: 0 });
    assert.deepEqual(sparkline([[0, 5, 0]], 90, 20), { messages: '', errors: '', peak: 5 });
    const flat = sparkline([[0, 0, 0], [10, 0, 0]], 90, 20);
    assert.equal(flat.messages, 'M0 19L90 19');
    assert.equal(flat.peak, 0);
  });

  test('missing, negative or broken values read as zero; broken rows are left out', () => {
    const line = sparkline([[0, null, 1], 'x', [10, -5, 2], [20, 4, NaN]], 40, 12);
    assert.equal(line.peak, 4);
    assert.equal(vertices(line.messages).length, 3);
    assert.ok(!line.messages.includes('NaN') && !line.errors.includes('NaN'));
  });

  test('randomised: every point inside the box, x increasing', () => {
    const rand = prng(99);
    for (let i = 0; i < 100; i += 1) {
      const n = rand.int(2, 60);
      const rows = Array.from({ length: n }, (_, k) => [1e9 + k * 10, rand() * 500, rand() * 5]);
      const line = sparkline(rows, 180, 36);
      for (const d of [line.messages, line.errors]) {
        const points = vertices(d);
        assert.equal(points.length, n);
        points.forEach(([x, y], k) => {
          assert.ok(x >= 0 && x <= 180 && y >= 0 && y <= 36, `${x} ${y}`);
          if (k) assert.ok(x > points[k - 1][0]);
        });
      }
    }
  });
});

describe('alerts', () => {
  const rules = SETTINGS.readiness.alertRules;

  test('the open readiness alerts, newest first; track alerts and resolved ones left out', () => {
    const alerts = [caseOf({ id: 'n-1', raised_at: NOW - 60 }),
      caseOf({ id: 'n-2', rule: 'sensor_degraded', raised_at: NOW - 10 }),
      caseOf({ id: 'n-3', rule: 'squawk_7700', sensor: null }),
      caseOf({ id: 'n-4', state: 'resolved' }),
      caseOf({ id: 'n-5', state: 'acknowledged', raised_at: NOW - 60 })];
    assert.deepEqual(readinessAlerts(alerts, rules).map((a) => a.id), ['n-2', 'n-1', 'n-5']);
    assert.deepEqual(readinessAlerts(null, rules), []);
    assert.deepEqual(readinessAlerts([null, caseOf()], rules).map((a) => a.id), ['n-1']);
  });

  test('how long ago', () => {
    assert.equal(agoText(NOW - 30, NOW, 'raised'), 'raised 30 s ago');
    assert.equal(agoText(NOW - 7200, NOW), '2 h 00 min ago');
    assert.equal(agoText(null, NOW), DASH);
  });
});

describe('times and the exercise', () => {
  const exercise = { scenario: 'lost-transponder', title: 'Lost transponder',
    ended_at: NOW - 3600, score: 48, events: 3, detected: 1, late: 1, missed: 1,
    false_alerts: 1, file: '/var/x.json',
    partner: { expected: 3, reached: 2, missed: 1, false_alerts: 1, acknowledged: 2,
      median_time_to_alert_s: 12.5 } };

  test('UTC time of day and date', () => {
    assert.equal(utcTime(NOW), '20:26:40Z');
    assert.equal(utcDateTime(NOW), '2026-05-28 20:26Z');
    assert.equal(utcTime(null), DASH);
    assert.equal(utcDateTime(undefined), DASH);
  });

  test('score out of 100 and the outcomes', () => {
    assert.equal(scoreText(48), '48 / 100');
    assert.equal(scoreText(72.5), '72.5 / 100');
    assert.equal(scoreText(null), DASH);
    assert.equal(outcomesText(exercise), '3 events: 1 detected, 1 late, 1 missed');
    assert.equal(outcomesText({ events: 1, detected: 1 }), '1 event: 1 detected, 0 late, 0 missed');
    assert.equal(outcomesText(null), DASH);
  });

  test('a partner\'s part', () => {
    assert.equal(partnerExerciseText(exercise.partner),
      'reached 2 of 3 · 1 missed · 1 false alert · 2 acknowledged · median 13 s to alert');
    assert.equal(partnerExerciseText({ expected: 2, reached: 0, missed: 2, false_alerts: 0,
      acknowledged: 0, median_time_to_alert_s: null }),
    'reached 0 of 2 · 2 missed · 0 false alerts · 0 acknowledged');
    assert.equal(partnerExerciseText({}), `reached ${DASH} of ${DASH} · ${DASH} missed · `
      + `${DASH} false alerts · ${DASH} acknowledged`);
    assert.equal(partnerExerciseText(null), DASH);
  });

  test('the box\'s rows; none before the first exercise', () => {
    assert.deepEqual(exerciseRows(exercise, NOW), [
      ['scenario', 'Lost transponder (lost-transponder)'], ['score', '48 / 100'],
      ['events', '3 events: 1 detected, 1 late, 1 missed'], ['false alerts', '1'],
      ['ended', '2026-05-28 19:26Z (1 h 00 min ago)'],
      ['this node', 'reached 2 of 3 · 1 missed · 1 false alert · 2 acknowledged · '
        + 'median 13 s to alert']]);
    const bare = exerciseRows({ scenario: 'drill' }, NOW);
    assert.deepEqual(bare.map(([, v]) => v),
      ['drill', DASH, DASH, DASH, DASH, DASH]);
    assert.deepEqual(exerciseRows(null, NOW), []);
  });

  test('where a sensor\'s data comes from', () => {
    assert.equal(sensorSource({ format: 'beast', mode: 'listen', address: '0.0.0.0:30005' }),
      'beast · listen 0.0.0.0:30005');
    assert.equal(sensorSource({ format: 'sbs' }), 'sbs');
    assert.equal(sensorSource({}), DASH);
  });
});
