// The detail panel of the selected aircraft: a track record in, a definition list out.

import * as fmt from './format.js';

// [section, [[label, value(track, settings)], …]] — the panel's layout as data
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
    ['RSSI', (t) => (fmt.isNum(t.rssi) ? `${t.rssi.toFixed(1)} dBFS` : fmt.text(null))],
    ['Messages', (t) => fmt.count(t.messages)],
    ['Track age', (t) => fmt.seconds(t.age)],
    ['Last message', (t) => `${fmt.seconds(t.seen)} ago`],
    ['Last position', (t) => `${fmt.seconds(t.seen_pos)} ago`],
    ['State', (t) => [t.coasting ? 'coasting' : 'tracked', t.exercise ? 'exercise' : '']
      .filter(Boolean).join(', ')],
  ]],
];

export function renderPanel(root, track, settings) {
  const title = root.querySelector('[data-role=title]');
  const body = root.querySelector('[data-role=body]');
  const emergency = fmt.emergencyOf(track, settings.emergencySquawks);
  title.textContent = track.callsign ?? track.icao24 ?? `track ${track.id}`;
  root.classList.toggle('emergency', emergency !== null);
  root.dataset.trackId = String(track.id);
  const nodes = [];
  for (const [section, rows] of SECTIONS) {
    const h = document.createElement('h3');
    h.textContent = section;
    const dl = document.createElement('dl');
    for (const [label, value] of rows) {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = value(track, settings);
      dl.append(dt, dd);
    }
    nodes.push(h, dl);
  }
  body.replaceChildren(...nodes);
  root.hidden = false;
}

export function hidePanel(root) {
  root.hidden = true;
  delete root.dataset.trackId;
}
