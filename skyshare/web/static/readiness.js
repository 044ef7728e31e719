// Entry point of the readiness page (/readiness): every settings.readiness.pollMs it
// reads GET /api/readiness and the open alerts, and shows the node's sensors (state,
// rates, errors, gaps, clock, traffic and coverage plots), its readiness alerts, its
// last exercise and its partners.  Decisions and formatting come from readiness-view.js;
// this module only builds the DOM.  Text from the API goes in through textContent only;
// nothing is put on `window`.  The body's data-state (the node's), data-connection and
// data-polls say what the page shows.

import { failure } from './alertlist.js';
import { age, isNum } from './format.js';
import { partnerRates } from './partners.js';
import { SETTINGS } from './settings.js';
import * as view from './readiness-view.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

// GET `path` -> {ok, status, data}; never throws (status 0: no answer)
async function getJson(path) {
  try {
    const response = await fetch(path, { cache: 'no-store', credentials: 'same-origin' });
    const data = await response.json().catch(() => null);
    return { ok: response.ok && data !== null, status: response.status, data };
  } catch (error) {
    return { ok: false, status: 0, data: null };
  }
}

function el(tag, className = null, text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== null) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function svgTitle(node, text) {
  const title = svg('title');
  title.textContent = text;
  node.append(title);
  return node;
}

function setBadge(badge, state, colours) {
  badge.textContent = view.stateLabel(state);
  badge.dataset.state = String(state ?? 'unknown');
  badge.style.background = view.stateColour(state, colours);
  return badge;
}

const stateBadge = (state, colours) => setBadge(el('span', 'badge state'), state, colours);

// messages/s and errors/s of the last ten minutes, on one scale
function sparklineFigure(series, settings) {
  const { width, height, messages, errors } = settings.readiness.sparkline;
  const line = view.sparkline(series, width, height);
  const chart = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`,
    'data-role': 'sparkline', 'data-peak': line.peak });
  chart.append(
    svg('path', { d: line.messages, fill: 'none', stroke: messages, 'stroke-width': 1.5,
      class: 'messages' }),
    svg('path', { d: line.errors, fill: 'none', stroke: errors, 'stroke-width': 1.2,
      class: 'errors' }));
  svgTitle(chart, `peak ${view.rateText(line.peak)} in the last 10 min`);
  const caption = el('figcaption');
  const key = (cls, colour, text) => {
    const span = el('span', cls, text);
    span.style.color = colour;
    return span;
  };
  caption.append(key('legend-messages', messages, 'messages'), ' · ',
    key('legend-errors', errors, 'errors'), ` /s, 10 min, peak ${view.rateText(line.peak)}`);
  const figure = el('figure', 'spark');
  figure.append(chart, caption);
  return figure;
}

// the observed coverage outline seen from above, north up: band 0 (every altitude)
// bold and lightly filled, the altitude bands thin and dashed
function polarFigure(coverage, settings) {
  const { size, ring } = settings.readiness.polar;
  const style = settings.readiness.coverage;
  const c = size / 2;
  const radius = c - 6;
  const scale = view.scaleNm(view.outlineMax(coverage));
  const chart = svg('svg', { width: size, height: size, viewBox: `0 0 ${size} ${size}`,
    'data-role': 'polar', 'data-scale-nm': scale });
  chart.append(
    svg('circle', { cx: c, cy: c, r: radius, fill: 'none', stroke: ring }),
    svg('circle', { cx: c, cy: c, r: radius / 2, fill: 'none', stroke: ring,
      'stroke-dasharray': '2 2' }),
    svg('path', { d: `M${c} ${c - radius}V${c + radius}M${c - radius} ${c}H${c + radius}`,
      stroke: ring, 'stroke-width': 0.5 }));
  const north = svg('text', { x: c + 3, y: 14 });
  north.textContent = 'N';
  const label = svg('text', { x: size - 3, y: size - 3, 'text-anchor': 'end' });
  label.textContent = `${scale} NM`;
  chart.append(north, label);
  const bands = Array.isArray(coverage.bands) ? coverage.bands : [];
  const colour = (k) => style.bands[Math.min(k, style.bands.length - 1)];
  // the altitude bands under band 0, the highest first
  for (let k = bands.length - 1; k >= 0; k -= 1) {
    const d = view.polarPath(bands[k].ranges_nm, { cx: c, cy: c, radius, scale });
    if (!d) continue;
    const all = k === 0;
    const path = svg('path', { d, 'data-band': k, stroke: colour(k),
      'stroke-width': all ? style.width : style.bandWidth, 'stroke-linejoin': 'round',
      fill: all ? colour(k) : 'none', 'fill-opacity': all ? 0.12 : 0 });
    if (!all) path.setAttribute('stroke-dasharray', style.bandDash.join(' '));
    chart.append(svgTitle(path,
      `${view.bandLabel(bands[k])}: up to ${view.nm(bands[k].max_range_nm)}`));
  }
  chart.append(svg('circle', { cx: c, cy: c, r: 2, fill: settings.readiness.colours.ok }));
  const figure = el('figure', 'polar');
  figure.append(chart, el('figcaption', null, `coverage, ${scale} NM ring`));
  return figure;
}

function row(dl, label, value, role) {
  const dd = el('dd', null, value);
  dd.dataset.role = role;
  dl.append(el('dt', null, label), dd);
  return dd;
}

// one sensor as a card (data-sensor, data-state, data-exercise)
function sensorCard(s, now, settings) {
  const { colours } = settings.readiness;
  const card = el('article', 'sensor');
  card.dataset.sensor = String(s.name);
  card.dataset.state = String(s.state);
  card.dataset.exercise = String(Boolean(s.exercise));
  card.style.borderLeftColor = view.stateColour(s.state, colours);
  const head = el('header');
  head.append(stateBadge(s.state, colours), el('h3', null, String(s.name)));
  if (s.exercise) head.append(el('span', 'badge exercise', 'EXERCISE'));
  head.append(el('span', 'source', view.sensorSource(s)),
    el('span', 'since', view.sinceText(s.state, s.since, now)));
  card.append(head);
  const reasons = Array.isArray(s.reasons) ? s.reasons : [];
  if (reasons.length) {
    const list = el('ul', 'reasons');
    list.dataset.role = 'reasons';
    list.append(...reasons.map((r) => el('li', null, String(r))));
    card.append(list);
  }
  const dl = el('dl');
  const rate = row(dl, 'rate', `${view.rateText(s.rate)} · ${view.baselineText(s.baseline_rate)}`,
    'rate');
  rate.dataset.rate = String(s.rate ?? '');
  row(dl, 'heard', view.heardText(s.silent_s), 'heard');
  const over = view.span(s.window_s);
  const share = (ratio, of) => (isNum(ratio) ? `${view.percent(ratio)} of ${of}` : view.DASH);
  row(dl, 'errors', share(s.error_ratio, 'input'), 'errors').title =
    `${s.errors ?? '?'} erroneous of ${(s.messages ?? 0) + (s.errors ?? 0)} in ${over}`;
  row(dl, 'decoded', share(s.decoded_ratio, 'messages'), 'decoded').title =
    `${s.decoded ?? '?'} reports from ${s.messages ?? '?'} messages in ${over}`;
  const gaps = row(dl, 'gaps', view.gapText(s.gaps), 'gaps');
  const recent = view.recentGaps(s.gaps, now);
  if (recent.length) {
    const list = el('ul', 'gap-list');
    list.append(...recent.map((g) => el('li', null, g)));
    gaps.append(list);
  }
  row(dl, 'clock', view.clockText(s.clock), 'clock');
  row(dl, 'coverage', view.coverageText(s.coverage), 'coverage');
  const charts = el('div', 'charts');
  charts.append(sparklineFigure(s.series, settings));
  if (s.coverage) charts.append(polarFigure(s.coverage, settings));
  const body = el('div', 'body');
  body.append(dl, charts);
  card.append(body);
  return card;
}

function renderHead(els, data, settings) {
  const partner = String(data.partner ?? '');
  els.partner.textContent = partner;
  document.title = `skyshare readiness ${partner}`.trim();
  setBadge(els.overall, data.state, settings.readiness.colours);
  els.counts.textContent = view.stateCounts(data.sensor_states);
  const up = isNum(data.started) && isNum(data.now) ? ` · node up ${age(data.now - data.started)}`
    : '';
  els.updated.textContent = `updated ${view.utcTime(data.now)}${up}`;
  document.body.dataset.state = String(data.state ?? 'unknown');
}

function renderSensors(els, sensors, now, settings) {
  els.sensorsNote.hidden = sensors.length > 0;
  els.sensorsNote.textContent = 'this node has no sensors configured';
  els.sensors.replaceChildren(...sensors.map((s) => sensorCard(s, now, settings)));
}

// got: the answer of GET /api/alerts (see alerts.js); the open readiness alerts
function renderAlerts(els, got, now, settings) {
  if (!got.ok) {
    els.alertsNote.textContent = got.status === 401 ? 'log in on the live map to see alerts'
      : `alerts: ${failure(got.status, got.data).text}`;
    els.alerts.replaceChildren();
    return;
  }
  const alerts = view.readinessAlerts(got.data.alerts, settings.readiness.alertRules);
  els.alertsNote.textContent = alerts.length ? '' : 'no open readiness alerts';
  els.alerts.replaceChildren(...alerts.map((a) => {
    const li = el('li', `readiness-alert${a.exercise ? ' exercise' : ''}`);
    Object.assign(li.dataset, { alertId: String(a.id), rule: String(a.rule),
      sensor: String(a.sensor ?? ''), state: String(a.state) });
    const head = el('div');
    head.append(el('span', 'label', String(a.label ?? a.rule)), ' ',
      el('span', 'sensor-name', String(a.sensor ?? '?')));
    if (a.exercise) head.append(' ', el('span', 'badge exercise', 'EXERCISE'));
    if (a.condition_active === false) head.append(' ', el('span', 'badge ended',
      'condition ended'));
    li.append(head);
    if (a.detail) li.append(el('div', 'detail', String(a.detail)));
    const meta = el('div', 'meta', `${a.state} · ${a.partner ?? view.DASH} · `
      + `${view.agoText(a.raised_at, now, 'raised')}`);
    meta.title = `${a.id}; act on it on the live map`;
    li.append(meta);
    return li;
  }));
}

function renderExercise(els, exercise, now) {
  const rows = view.exerciseRows(exercise, now);
  els.exerciseNote.hidden = rows.length > 0;
  els.exercise.replaceChildren(...rows.flatMap(([label, value]) => {
    const dd = el('dd', null, value);
    dd.dataset.role = label.replaceAll(' ', '-');
    return [el('dt', null, label), dd];
  }));
  els.exercise.title = exercise?.file ? `summary: ${exercise.file}` : '';
}

function renderPartners(els, rows, rates, settings) {
  els.partnersNote.hidden = rows.length > 0;
  els.partnersTable.hidden = !rows.length;
  els.partners.replaceChildren(...rows.map((p) => {
    const tr = el('tr');
    tr.dataset.partner = String(p.partner);
    tr.dataset.state = String(p.state);
    const rate = rates.get(p.partner);
    const cell = (text, role) => {
      const td = el('td', role, text);
      td.dataset.role = role;
      return td;
    };
    const state = cell('', 'state');
    state.append(stateBadge(p.state, settings.readiness.colours));
    tr.append(cell(String(p.partner), 'name'), state, cell(view.heardText(p.silent_s), 'heard'),
      cell(view.span(p.lag_s), 'lag'), cell(view.span(p.latency_p99_s), 'latency'),
      cell(view.rateText(rate?.received), 'in'), cell(view.rateText(rate?.sent), 'out'),
      cell(String(p.dropped ?? view.DASH), 'dropped'),
      cell(view.partnerExerciseText(p.last_exercise), 'exercise'));
    return tr;
  }));
}

function elements(doc) {
  const $ = (id) => doc.getElementById(id);
  return { banner: $('banner'), partner: $('partner'), overall: $('overall'),
    counts: $('counts'), updated: $('updated'), sensors: $('sensors'),
    sensorsNote: $('sensors-note'), alerts: $('alerts'), alertsNote: $('alerts-note'),
    exercise: $('exercise'), exerciseNote: $('exercise-note'),
    partnersTable: $('partners'), partners: $('partners').querySelector('tbody'),
    partnersNote: $('partners-note') };
}

function main() {
  const settings = SETTINGS;
  const paths = settings.readiness;
  const els = elements(document);
  // offset: the node's clock minus the browser's, s (the alerts' ages are the node's)
  const state = { previous: null, polls: 0, lastOk: null, offset: 0, timer: null,
    busy: false };

  const showFailure = (problems) => {
    els.banner.hidden = !problems.length;
    const since = state.lastOk === null ? '' : ` (last update ${view.utcTime(state.lastOk)})`;
    els.banner.textContent = problems.length ? `${problems.join('; ')}; retrying every `
      + `${paths.pollMs / 1000} s${since}` : '';
    document.body.dataset.connection = problems.length ? 'failed' : 'ok';
  };

  const poll = async () => {
    state.timer = null;
    if (document.hidden || state.busy) return; // visibilitychange polls again
    state.busy = true;
    const [ready, alerts] = await Promise.all([getJson(paths.path), getJson(paths.alertsPath)]);
    state.busy = false;
    const problems = [];
    if (ready.ok) {
      const data = ready.data;
      const now = isNum(data.now) ? data.now : Date.now() / 1000;
      const partners = Array.isArray(data.partners) ? data.partners : [];
      const current = { at: now, partners };
      renderHead(els, data, settings);
      renderSensors(els, Array.isArray(data.sensors) ? data.sensors : [], now, settings);
      renderPartners(els, partners, partnerRates(state.previous, current), settings);
      renderExercise(els, data.exercise, now);
      state.previous = current;
      state.lastOk = now;
      state.offset = now - Date.now() / 1000;
      state.polls += 1;
      document.body.dataset.polls = String(state.polls);
    } else {
      problems.push(`readiness: ${failure(ready.status, ready.data).text}`);
    }
    if (alerts.ok || alerts.status === 401) {
      renderAlerts(els, alerts, Date.now() / 1000 + state.offset, settings);
    } else {
      problems.push(`alerts: ${failure(alerts.status, alerts.data).text}`);
    }
    showFailure(problems);
    state.timer = window.setTimeout(poll, paths.pollMs);
  };

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    window.clearTimeout(state.timer);
    poll();
  });
  poll();
}

main();
