// The Partners panel and a track's provenance: what each federation partner sends and
// gets, and under which agreements.  Pure functions first (values in, strings out;
// tested by tests/js/partners.test.js), then the one function that builds the DOM.
// A partner row is one element of GET /api/partners' `partners` (documented in
// skyshare/web/federation_view.py); text from the API goes in through textContent only.

import * as fmt from './format.js';

export const STATES = Object.freeze(['connected', 'lagging', 'down']);

// the row's state, or 'down' when the node sent one this page does not know
export const stateOf = (row) => (STATES.includes(row?.state) ? row.state : 'down');

// the dot's colour for a state (settings.partners.colours)
export function stateColour(state, colours) {
  return colours[STATES.includes(state) ? state : 'down'];
}

// {at: UNIX s of the poll, partners: rows} -> Map partner -> {received, sent} in track
// rows per second between two polls; null where unknown (first poll, a partner new
// since the last poll, or a counter that went back: the node restarted)
export function partnerRates(previous, current) {
  const out = new Map();
  const dt = previous ? current.at - previous.at : NaN;
  const before = new Map((previous?.partners ?? []).map((row) => [row.partner, row]));
  const rate = (was, now) => (dt > 0 && fmt.isNum(was) && fmt.isNum(now) && now >= was
    ? (now - was) / dt : null);
  for (const row of current.partners) {
    const old = before.get(row.partner);
    out.set(row.partner, {
      received: rate(old?.received?.tracks, row.received?.tracks),
      sent: rate(old?.sent?.tracks, row.sent?.tracks),
    });
  }
  return out;
}

// tracks per second, one decimal below 10: '0.5/s', '12/s'; '–' when unknown
export function trackRate(perSecond) {
  if (!fmt.isNum(perSecond)) return '–';
  return perSecond < 9.95 ? `${perSecond.toFixed(1)}/s` : `${fmt.count(perSecond)}/s`;
}

// 'in 12/s · out 0.5/s': track rows received from and sent to the partner
export function flowText(rates) {
  return `in ${trackRate(rates?.received)} · out ${trackRate(rates?.sent)}`;
}

// 'heard 3 s ago', or 'never heard'
export function heardText(row) {
  if (!fmt.isNum(row.heard)) return 'never heard';
  return `heard ${fmt.age(row.silent_s)} ago`;
}

// {count, text}: messages refused from the partner, with the reasons for a tooltip
// ('bad-signature: 3, no-agreement: 1', by count then name); null when none were
export function droppedSummary(dropped) {
  const entries = Object.entries(dropped ?? {}).filter(([, n]) => fmt.isNum(n) && n > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  if (!entries.length) return null;
  const count = entries.reduce((sum, [, n]) => sum + n, 0);
  return { count, text: entries.map(([reason, n]) => `${reason}: ${fmt.count(n)}`).join(', ') };
}

// 'agreements: 1 out · 2 in', counting the active ones ('none' when there are none)
export function agreementsSummary(agreements) {
  const active = (list) => (list ?? []).filter((a) => a.active).length;
  const out = active(agreements?.outgoing);
  const incoming = active(agreements?.incoming);
  if (!out && !incoming) return 'agreements: none active';
  return `agreements: ${out} out · ${incoming} in`;
}

// one agreement as a line: 'a-to-west: position, identity · own sources · ≤ 1 Hz ·
// delayed 5 s · until 2026-12-31T00:00:00Z', and ' (inactive)' when it is not in force
export function agreementText(agreement) {
  const parts = [`${agreement.id}: ${(agreement.fields ?? []).join(', ') || 'no fields'}`];
  if (agreement.sources === 'own') parts.push('own sources');
  else if (agreement.sources === 'all') parts.push('all sources');
  if (fmt.isNum(agreement.max_rate_hz)) parts.push(`≤ ${agreement.max_rate_hz} Hz`);
  if (fmt.isNum(agreement.min_delay_s) && agreement.min_delay_s > 0) {
    parts.push(`delayed ${fmt.seconds(agreement.min_delay_s)}`);
  }
  if (agreement.until) parts.push(`until ${agreement.until}`);
  return parts.join(' · ') + (agreement.active ? '' : ' (inactive)');
}

// the path of a track's provenance from settings.partners.provenancePath ('{id}')
export function provenancePath(template, trackId) {
  return template.replace('{id}', encodeURIComponent(String(trackId)));
}

// what one partner contributed to a track, after its name in the detail panel:
// 'track 12 · adsb, mlat · 3 s ago' (its own track id, its sources, when it last
// updated it; `now`: the node's clock, UNIX s)
export function provenanceText(entry, now) {
  const seen = fmt.isNum(entry.last_seen) && fmt.isNum(now)
    ? `${fmt.age(now - entry.last_seen)} ago` : 'not seen';
  return [`track ${entry.remote_track_id ?? '?'}`, fmt.list(entry.sources), seen].join(' · ');
}

function element(tag, className, text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== null) node.textContent = text;
  return node;
}

function agreementList(agreements) {
  const list = element('ul', 'agreement-list');
  for (const direction of ['outgoing', 'incoming']) {
    for (const agreement of agreements?.[direction] ?? []) {
      const li = element('li', agreement.active ? 'active' : 'inactive');
      li.dataset.direction = direction;
      li.dataset.agreement = String(agreement.id);
      li.append(element('span', 'direction', direction === 'outgoing' ? 'out' : 'in'),
        document.createTextNode(` ${agreementText(agreement)}`));
      list.append(li);
    }
  }
  return list;
}

// the Partners list: one <li> per partner (data-partner, data-state) with its coloured
// state dot, when it was last heard, tracks in and out per second, what was dropped
// (reasons in the tooltip) and its agreements folded in a <details> that stays open
// across refreshes when the user opened it
export function renderPartners(root, rows, rates, settings) {
  const open = new Set([...root.querySelectorAll('details[open]')]
    .map((d) => d.closest('li')?.dataset.partner));
  const items = rows.map((row) => {
    const state = stateOf(row);
    const li = element('li', 'partner');
    li.dataset.partner = row.partner;
    li.dataset.state = state;
    const dot = element('span', 'dot', '●');
    dot.style.color = stateColour(state, settings.partners.colours);
    const head = element('div', 'partner-head');
    head.append(dot, element('span', 'name', row.partner),
      element('span', 'state', state), element('span', 'heard', heardText(row)));
    const flow = element('div', 'partner-flow');
    const rate = element('span', 'flow', flowText(rates.get(row.partner)));
    rate.title = `track rows per second received from and sent to ${row.partner}`;
    flow.append(rate);
    const dropped = droppedSummary(row.dropped);
    if (dropped) {
      const span = element('span', 'dropped', `${fmt.count(dropped.count)} dropped`);
      span.title = dropped.text;
      flow.append(span);
    }
    const details = element('details', 'agreements');
    details.open = open.has(row.partner);
    details.append(element('summary', null, agreementsSummary(row.agreements)),
      agreementList(row.agreements));
    li.append(head, flow, details);
    return li;
  });
  root.replaceChildren(...items);
}
