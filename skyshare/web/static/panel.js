// The detail panel of the selected aircraft: a track record in, a definition list out.

import * as fmt from './format.js';
import { provenanceText } from './partners.js';

// [section, [[label, value(track, settings), shown(context)?], …]] — the panel's layout
// as data; a row with `shown` appears only when it says so (federation rows on a node
// that has a federation)
const SECTIONS = [
  ['Identity', [
    ['Callsign', (t) => fmt.text(t.callsign)],
    ['ICAO address', (t) => fmt.text(t.icao24)],
    ['Category', (t) => fmt.text(t.category)],
    ['Squawk', (t) => fmt.text(t.squawk)],
    ['Emergency', (t, s) => fmt.text(fmt.emergencyOf(t, s.emergencySquawks) ?? 'none')],
  ]],
  ['Position', [
    ['Position', (t) => fmt.position(t.lat, t.lon)],
    ['Altitude (baro)', (t) => fmt.altitude(t.alt, t.on_ground)],
    ['Altitude (GNSS)', (t) => fmt.altitude(t.alt_geo)],
  ]],
  ['Motion', [
    ['Ground speed', (t) => fmt.speed(t.groundspeed)],
    ['Track', (t) => fmt.heading(t.track)],
    ['Vertical rate', (t) => fmt.verticalRate(t.vertical_rate)],
  ]],
  ['Accuracy', [
    ['NIC', (t) => fmt.text(t.nic)],
    ['NACp', (t) => fmt.text(t.nacp)],
    ['SIL', (t) => fmt.text(t.sil)],
    ['Position σ', (t) => fmt.metres(t.pos_sigma)],
  ]],
  ['Reception', [
    ['Sensors', (t) => fmt.list(t.sensors)],
    ['Sources', (t) => fmt.list(t.sources)],
    ['Partners', (t) => fmt.list(t.partners), (context) => context.federation],
    ['RSSI', (t) => (fmt.isNum(t.rssi) ? `${t.rssi.toFixed(1)} dBFS` : fmt.text(null))],
    ['Messages', (t) => fmt.count(t.messages)],
    ['Track age', (t) => fmt.seconds(t.age)],
    ['Last message', (t) => `${fmt.seconds(t.seen)} ago`],
    ['Last position', (t) => `${fmt.seconds(t.seen_pos)} ago`],
    ['State', (t) => [t.coasting ? 'coasting' : 'tracked',
      t.primary_only ? 'primary radar only, transponder silent' : '',
      t.exercise ? 'exercise' : ''].filter(Boolean).join(', ')],
  ]],
];

function section(title, rows) {
  const h = document.createElement('h3');
  h.textContent = title;
  const dl = document.createElement('dl');
  for (const [label, text] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = text;
    dl.append(dt, dd);
  }
  return [h, dl];
}

// context: {federation: the node has one, provenance: the track's provenance entries
// (GET /api/tracks/{id}/provenance) or null, now: the node's clock, UNIX s}
export function renderPanel(root, track, settings, context = {}) {
  const title = root.querySelector('[data-role=title]');
  const body = root.querySelector('[data-role=body]');
  const emergency = fmt.emergencyOf(track, settings.emergencySquawks);
  title.textContent = track.callsign ?? track.icao24 ?? `track ${track.id}`;
  root.classList.toggle('emergency', emergency !== null);
  root.dataset.trackId = String(track.id);
  const nodes = [];
  for (const [heading, rows] of SECTIONS) {
    nodes.push(...section(heading, rows.filter(([, , shown]) => !shown || shown(context))
      .map(([label, value]) => [label, value(track, settings)])));
  }
  if (context.provenance?.length) {
    nodes.push(...section('Provenance', context.provenance.map((entry) => [
      String(entry.partner), provenanceText(entry, context.now)])));
  }
  body.replaceChildren(...nodes);
  root.hidden = false;
}

export function hidePanel(root) {
  root.hidden = true;
  delete root.dataset.trackId;
}
