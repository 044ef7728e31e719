// Side-bar and status-bar widgets: data in, DOM out; callbacks report user choices.

import * as fmt from './format.js';

// the altitude legend, whose rows are also the altitude band filter (checkboxes)
export function buildLegend(root, settings, onChange) {
  const rows = settings.altitudeBands.map((band, i) => {
    const label = document.createElement('label');
    label.className = 'legend-row';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = true;
    box.dataset.band = String(i);
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = band.colour;
    label.append(box, swatch, document.createTextNode(band.label));
    return label;
  });
  const emergency = document.createElement('div');
  emergency.className = 'legend-row';
  const swatch = document.createElement('span');
  swatch.className = 'swatch emergency';
  swatch.style.background = settings.emergencyColour;
  emergency.append(swatch, document.createTextNode('emergency / 7500 · 7600 · 7700'));
  root.replaceChildren(...rows, emergency);
  root.addEventListener('change', () => {
    const boxes = [...root.querySelectorAll('input[data-band]')];
    const chosen = boxes.filter((b) => b.checked).map((b) => Number(b.dataset.band));
    onChange(chosen.length === boxes.length ? null : new Set(chosen));
  });
}

export function renderSensors(root, sensors) {
  const items = sensors.map((s) => {
    const li = document.createElement('li');
    li.className = s.connected ? 'up' : 'down';
    li.title = `${s.format} ${s.mode} ${s.address ?? ''}`.trim();
    li.textContent = `${s.name}: ${s.connected ? fmt.rate(s.rate) : 'down'}`;
    return li;
  });
  root.replaceChildren(...items);
}

export function renderStatus(root, s) {
  root.dataset.trackCount = String(s.tracks);
  root.dataset.shownCount = String(s.shown);
  root.dataset.connection = s.connection;
  root.querySelector('[data-role=tracks]').textContent =
    s.shown === s.tracks ? `${fmt.count(s.tracks)} tracks`
      : `${fmt.count(s.shown)} of ${fmt.count(s.tracks)} tracks shown`;
  root.querySelector('[data-role=rate]').textContent = `${fmt.rate(s.rate)} messages`;
  const conn = root.querySelector('[data-role=connection]');
  conn.textContent = s.connection;
  conn.className = `conn ${s.connection}`;
}

export function showBanner(root, message) {
  root.textContent = message;
  root.hidden = false;
}
