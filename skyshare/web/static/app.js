// Entry point of the live map: wires the stream, the store, the map and the widgets.
// All state lives in `main`'s closure; nothing is put on `window`.

import { SETTINGS } from './settings.js';
import { startAlerts } from './alerts.js';
import { startCoverage } from './coverage.js';
import { altitude, isNum, rate, speed } from './format.js';
import { makeFilter, visibleSlots } from './filters.js';
import { formatHash, parseHash } from './hash.js';
import {
  buildSymbols, buildTrails, emergencySquawkSet, isEmergency, mercator, slotsInBounds,
} from './instances.js';
import { LabelOverlay } from './labels.js';
import { AircraftLayer, addBasemap, addOverlayLayers, baseStyle, pick, sensorFeatures } from './map.js';
import { MeasureTool } from './measure.js';
import { hidePanel, renderPanel } from './panel.js';
import { partnerRates, provenancePath, renderPartners } from './partners.js';
import { TrackStore } from './store.js';
import { StreamClient, streamUrl } from './stream.js';
import { buildLegend, buildSourceFilter, renderSensors, renderStatus, showBanner } from './ui.js';
import { decodeFrame } from './wire.js';

const VENDOR = {
  maplibre: '/static/vendor/maplibre-gl/maplibre-gl.mjs',
  topojson: '/static/vendor/topojson-client/index.js',
};
const MISSING_LIBRARY = 'map library not installed: run make';
const NO_WEBGL2 = 'this browser has no WebGL 2, which the map needs';
const PICK_RADIUS_PX = 10;

async function loadLibraries() {
  try {
    const [maplibregl, topojson] = await Promise.all([
      import(VENDOR.maplibre), import(VENDOR.topojson)]);
    return { maplibregl, topojson };
  } catch (error) {
    console.warn('map libraries missing', error);
    return null;
  }
}

async function getJson(path) {
  const response = await fetch(path, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function elements(doc) {
  const $ = (id) => doc.getElementById(id);
  return { banner: $('banner'), map: $('map'), labels: $('labels'), search: $('search'),
    legend: $('legend'), sources: $('sources'), measure: $('measure'),
    measureReadout: $('measure-readout'), coverage: $('coverage'), sensors: $('sensors'),
    panel: $('panel'),
    partnersSection: $('partners-section'), partners: $('partners'),
    status: $('status'), nodeName: $('node-name'),
    alerts: { root: $('alerts'), count: $('alert-count'), login: $('login'),
      allRow: $('alerts-all-row'), all: $('alerts-all'), note: $('alerts-note'),
      list: $('alert-list') } };
}

function boundsOf(map) {
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
}

function fitTo(map, store, slots) {
  let [w, s, e, n] = [180, 90, -180, -90];
  const { lat, lon } = store.columns;
  for (const k of slots) {
    w = Math.min(w, lon[k]); e = Math.max(e, lon[k]);
    s = Math.min(s, lat[k]); n = Math.max(n, lat[k]);
  }
  if (w > e) return;
  map.fitBounds([[w, s], [e, n]], { padding: 40, maxZoom: SETTINGS.maxFitZoom, animate: false });
}

async function createMap(libs, els, initialView, tiles) {
  const { Map, AttributionControl, NavigationControl, ScaleControl } = libs.maplibregl;
  const view = initialView ?? SETTINGS.defaultView;
  const settings = { ...SETTINGS, basemap: { ...SETTINGS.basemap,
    tileAttribution: tiles.attribution || SETTINGS.basemap.tileAttribution } };
  const map = new Map({ container: els.map, style: baseStyle(settings, tiles.url),
    center: view.center, zoom: view.zoom, attributionControl: false,
    renderWorldCopies: false, fadeDuration: 0, maxPitch: 0 });
  map.addControl(new NavigationControl({ visualizePitch: false }), 'top-right');
  map.addControl(new ScaleControl({ unit: 'nautical' }), 'bottom-left');
  if (tiles.url) map.addControl(new AttributionControl({ compact: true }));
  await new Promise((resolve) => map.once('load', resolve));
  addOverlayLayers(map, SETTINGS);
  const aircraft = new AircraftLayer(SETTINGS);
  map.addLayer(aircraft);
  try {
    addBasemap(map, await getJson(SETTINGS.basemap.topology), libs.topojson, SETTINGS, !tiles.url);
  } catch (error) {
    console.info('offline basemap missing', error);
  }
  const labels = new LabelOverlay(map, els.labels, SETTINGS);
  return { map, aircraft, labels };
}

function aircraftLabel(store, slot, always) {
  const { lat, lon } = store.columns;
  return { lon: lon[slot], lat: lat[slot], always, lines: () => {
    const t = store.record(slot);
    return [t.callsign ?? t.icao24 ?? `#${t.id}`,
      `${altitude(t.alt, t.on_ground)} ${speed(t.groundspeed)}`];
  } };
}

function sensorLabels(sensors) {
  return sensors.filter((s) => Number.isFinite(s.lat) && Number.isFinite(s.lon))
    .map((s) => ({ lon: s.lon, lat: s.lat, always: true, colour: SETTINGS.sensors.labelColour,
      lines: () => [s.name, s.connected ? rate(s.rate) : 'down'] }));
}

async function main() {
  const els = elements(document);
  const store = new TrackStore(SETTINGS.trail.points, 1024, SETTINGS.trail.everyS);
  const squawks = emergencySquawkSet(SETTINGS.emergencySquawks);
  const fromHash = parseHash(window.location.hash);
  const state = { filter: makeFilter(null, ''), selectedId: fromHash.selected, visible: [],
    sensors: [], connection: 'connecting', rate: null, lastStatus: null,
    fitted: fromHash.view !== null, alerted: new Set(),
    partners: null, // the last poll of /api/partners: {at, partners}
    provenance: { id: null, key: null, at: 0, rows: null } }; // of the selected track
  let view = null; // {map, aircraft, labels} once the map is up
  let measure = null;
  let alerts = null;

  const selectedSlot = () => (state.selectedId === null ? null
    : store.slot(state.selectedId) ?? null);
  const updateHash = () => {
    if (!view) return;
    const c = view.map.getCenter();
    const hash = formatHash({ center: [c.lng, c.lat], zoom: view.map.getZoom() },
      state.selectedId);
    window.history.replaceState(null, '', hash);
  };
  // the provenance of a track partners contributed to: asked for on selection, again
  // when its set of partners changes, and every partners.pollMs while it stays selected
  const fetchProvenance = async (track) => {
    const key = track.partners.join(',');
    const known = state.provenance;
    const at = performance.now();
    if (known.id === track.id && known.key === key
        && (!key || at - known.at < SETTINGS.partners.pollMs)) return;
    state.provenance = { id: track.id, key, at,
      rows: key && known.id === track.id ? known.rows : null };
    if (!key) return;
    let rows = null;
    try {
      rows = (await getJson(provenancePath(SETTINGS.partners.provenancePath, track.id)))
        .provenance;
    } catch (error) {
      rows = null; // the track ended meanwhile: the panel shows none
    }
    if (state.provenance.id !== track.id || state.provenance.key !== key) return;
    state.provenance.rows = rows;
    updatePanel();
  };
  const updatePanel = () => {
    const slot = selectedSlot();
    if (slot === null) {
      hidePanel(els.panel);
      return;
    }
    const track = store.record(slot);
    const federation = store.meta.partners.length > 0;
    if (federation) fetchProvenance(track);
    const known = state.provenance;
    renderPanel(els.panel, track, SETTINGS, { federation, now: store.now(),
      provenance: known.id === track.id ? known.rows : null });
  };
  // the WebGL layer's symbols and trails, and the label candidates, for the current view
  const draw = () => {
    if (!view) return;
    const { map } = view;
    const inView = slotsInBounds(store, state.visible, boundsOf(map));
    const selected = selectedSlot();
    const c = map.getCenter();
    const anchor = mercator(c.lng, c.lat);
    const style = { bands: SETTINGS.altitudeBands, unknownColour: SETTINGS.unknownAltitudeColour,
      emergencyColour: SETTINGS.emergencyColour, selectedColour: SETTINGS.selectedColour,
      emergencySquawks: SETTINGS.emergencySquawks, size: SETTINGS.symbol.size,
      emergencyScale: SETTINGS.symbol.emergencyScale,
      dense: inView.length > SETTINGS.maxSymbolsInView };
    const trailSlots = inView.length <= SETTINGS.trail.maxAircraft ? inView
      : inView.filter((k) => k === selected);
    view.aircraft.setData(
      buildSymbols(store, state.visible, style, selected, anchor, state.alerted),
      buildTrails(store, trailSlots, anchor), anchor);
    // label candidates, most important first: the selected aircraft, emergencies,
    // sensors, then the others when few enough are in view to label them all
    const first = selected !== null && store.live[selected] ? [selected] : [];
    const everyone = inView.length <= SETTINGS.labels.maxShown
      && map.getZoom() >= SETTINGS.labels.minZoom;
    const emergencies = [];
    const others = [];
    for (const k of inView) {
      if (k === selected) continue;
      if (isEmergency(store, k, squawks, state.alerted)) emergencies.push(k);
      else if (everyone) others.push(k);
    }
    view.labels.setItems([
      ...[...first, ...emergencies].map((k) => aircraftLabel(store, k, true)),
      ...sensorLabels(state.sensors),
      ...others.map((k) => aircraftLabel(store, k, false)),
    ]);
  };
  const redraw = () => {
    state.visible = visibleSlots(store, state.filter, SETTINGS.altitudeBands);
    if (view && !state.fitted && state.visible.length && SETTINGS.fitFirstSnapshot) {
      fitTo(view.map, store, state.visible);
      state.fitted = true;
    }
    draw();
    if (state.selectedId !== null) updatePanel();
    renderStatus(els.status, { tracks: store.size, shown: state.visible.length,
      rate: state.rate, connection: state.connection });
  };
  const select = (id, centre = false) => {
    state.selectedId = id;
    const slot = selectedSlot();
    if (view && centre && slot !== null) {
      view.map.jumpTo({ center: [store.columns.lon[slot], store.columns.lat[slot]] });
    }
    updatePanel();
    updateHash();
    alerts?.markSelected(id);
    draw();
  };
  // an alert clicked in the panel: its aircraft, or where it was last seen when gone
  const showAlert = (alert) => {
    if (store.slot(alert.track_id) !== undefined) {
      select(alert.track_id, true);
      return;
    }
    select(null);
    if (view && isNum(alert.lat) && isNum(alert.lon)) {
      view.map.jumpTo({ center: [alert.lon, alert.lat] });
    }
  };

  buildLegend(els.legend, SETTINGS, (bands) => {
    state.filter = makeFilter(bands, state.filter.query, state.filter.sources);
    redraw();
  });
  buildSourceFilter(els.sources, SETTINGS, (sources) => {
    state.filter = makeFilter(state.filter.bands, state.filter.query, sources);
    redraw();
  });
  els.search.addEventListener('input', () => {
    state.filter = makeFilter(state.filter.bands, els.search.value, state.filter.sources);
    redraw();
  });
  els.search.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    const first = state.visible[0];
    if (first !== undefined) select(store.ids[first], true);
  });
  els.panel.querySelector('[data-role=close]').addEventListener('click', () => select(null));

  const client = new StreamClient(streamUrl(window.location, SETTINGS.stream.path), {
    decode: (data) => decodeFrame(data),
    minDelayMs: SETTINGS.stream.reconnectMinMs, maxDelayMs: SETTINGS.stream.reconnectMaxMs,
    onMessage: (frame) => {
      store.apply(frame);
    },
    onState: (connection) => {
      state.connection = connection;
      redraw();
    },
  });
  client.start();
  window.setInterval(redraw, SETTINGS.redrawMs);
  pollStatus(els, state);
  pollSensors(els, state, () => view);
  pollPartners(els, state);
  alerts = startAlerts(els.alerts, SETTINGS, { now: () => store.now(), onSelect: showAlert,
    onAlerted: (tracks) => {
      const same = tracks.size === state.alerted.size
        && [...tracks].every((id) => state.alerted.has(id));
      state.alerted = tracks;
      if (!same) draw();
    } });

  const libs = await loadLibraries();
  if (!libs) {
    showBanner(els.banner, MISSING_LIBRARY);
    document.body.dataset.map = 'missing';
    return;
  }
  if (!document.createElement('canvas').getContext('webgl2')) {
    showBanner(els.banner, NO_WEBGL2);
    document.body.dataset.map = 'missing';
    return;
  }
  const meta = (name) => document.querySelector(`meta[name=${name}]`)?.content;
  const tiles = { url: meta('skyshare-tile-url') || SETTINGS.basemap.tileUrl,
    attribution: meta('skyshare-tile-attribution') };
  view = await createMap(libs, els, fromHash.view, tiles);
  startCoverage(view.map, els.coverage, SETTINGS);
  measure = new MeasureTool(view.map, els.measureReadout, SETTINGS.units.distance);
  els.measure.addEventListener('click', () => {
    els.measure.setAttribute('aria-pressed', String(measure.toggle()));
  });
  view.map.on('click', (event) => {
    if (measure.active) {
      measure.add(event.lngLat);
      return;
    }
    const slot = pick(view.map, store, state.visible, [event.point.x, event.point.y],
      PICK_RADIUS_PX);
    select(slot === null ? null : store.ids[slot]);
  });
  let hover = null;
  view.map.on('mousemove', (event) => {
    if (hover !== null) return; // one pick per animation frame at most
    hover = window.requestAnimationFrame(() => {
      hover = null;
      if (measure.active) return;
      const slot = pick(view.map, store, state.visible, [event.point.x, event.point.y],
        PICK_RADIUS_PX);
      view.map.getCanvas().style.cursor = slot === null ? '' : 'pointer';
    });
  });
  view.map.on('moveend', () => {
    updateHash();
    draw();
  });
  window.addEventListener('hashchange', () => {
    const h = parseHash(window.location.hash);
    if (h.view) view.map.jumpTo(h.view);
    if (h.selected !== state.selectedId) select(h.selected);
  });
  redraw();
  select(state.selectedId);
  document.body.dataset.map = 'ready';
}

async function pollStatus(els, state) {
  try {
    const st = await getJson(SETTINGS.statusPath);
    const now = performance.now();
    if (state.lastStatus) {
      const dt = (now - state.lastStatus.at) / 1000;
      state.rate = dt > 0 ? Math.max(0, st.frames - state.lastStatus.frames) / dt : null;
    }
    state.lastStatus = { at: now, frames: st.frames };
    els.nodeName.textContent = st.node;
    document.title = `skyshare ${st.node}`;
  } catch (error) {
    state.rate = null;
  }
  window.setTimeout(() => pollStatus(els, state), SETTINGS.statusPollMs);
}

async function pollSensors(els, state, currentView) {
  try {
    state.sensors = (await getJson(SETTINGS.sensorsPath)).sensors;
  } catch (error) {
    state.sensors = [];
  }
  renderSensors(els.sensors, state.sensors);
  currentView()?.map.getSource('sensors').setData(sensorFeatures(state.sensors));
  window.setTimeout(() => pollSensors(els, state, currentView), SETTINGS.sensorsPollMs);
}

// the Partners panel, shown only on a node in a federation (one that lists partners);
// the rates it shows are the difference of two polls
async function pollPartners(els, state) {
  let rows = [];
  try {
    const data = await getJson(SETTINGS.partners.path);
    rows = data.partners ?? [];
    const current = { at: data.now ?? Date.now() / 1000, partners: rows };
    renderPartners(els.partners, rows, partnerRates(state.partners, current), SETTINGS);
    state.partners = current;
  } catch (error) {
    state.partners = null;
  }
  els.partnersSection.hidden = !rows.length;
  window.setTimeout(() => pollPartners(els, state), SETTINGS.partners.pollMs);
}

main();
