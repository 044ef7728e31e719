// Side-bar and status-bar widgets: data in, DOM out; callbacks report user choices.

import * as fmt from './format.js';

// a list of checked checkboxes, one per label; `onChange` gets the indices checked, or
// null when all are (no filter). `key` names the boxes' data attribute (data-KEY=i);
// `swatches` (optional) colours a swatch before each label.
function checkboxRows(root, labels, key, onChange, swatches = null) {
  const rows = labels.map((text, i) => {
    const label = document.createElement('label');
    label.className = 'legend-row';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = true;
    box.dataset[key] = String(i);
    label.append(box);
    if (swatches) label.append(swatch(swatches[i]));
    label.append(document.createTextNode(text));
    return label;
  });
  root.addEventListener('change', () => {
    const boxes = [...root.querySelectorAll(`input[data-${key}]`)];
    const chosen = boxes.filter((b) => b.checked).map((b) => Number(b.dataset[key]));
    onChange(chosen.length === boxes.length ? null : chosen);
  });
  return rows;
}

function swatch(colour, extraClass = '') {
  const span = document.createElement('span');
  span.className = `swatch ${extraClass}`.trim();
  span.style.background = colour;
  return span;
}

// the altitude legend, whose rows are also the altitude band filter
export function buildLegend(root, settings, onChange) {
  const bands = settings.altitudeBands;
  const rows = checkboxRows(root, bands.map((b) => b.label), 'band',
    (chosen) => onChange(chosen && new Set(chosen)), bands.map((b) => b.colour));
  const emergency = document.createElement('div');
  emergency.className = 'legend-row';
  emergency.append(swatch(settings.emergencyColour, 'emergency'),
    document.createTextNode('emergency / 7500 · 7600 · 7700 / open alert'));
  root.replaceChildren(...rows, emergency);
}

// one checkbox per source kind (settings.sourceKinds); onChange gets the set of kind
// names chosen, or null for all
export function buildSourceFilter(root, settings, onChange) {
  const choices = settings.sourceKinds;
  root.replaceChildren(...checkboxRows(root, choices.map((c) => c.label), 'source',
    (chosen) => onChange(chosen && new Set(chosen.flatMap((i) => choices[i].kinds)))));
}

export function renderSensors(root, sensors) {
  const items = sensors.map((s) => {
    const li = document.createElement('li');
    li.className = s.connected ? 'up' : 'down';
    li.title = `${s.format} ${s.mode} ${s.address ?? ''}`.trim();
    li.textContent = `${s.name}: ${s.connected ? fmt.rate(s.rate) : 'down'}`;
    if (!Number.isFinite(s.lat)) li.title += ' (no position configured: not on the map)';
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
