// Entry point of the live map: wires the stream, the store, the map and the widgets.
// All state lives in `main`'s closure; nothing is put on `window`.

import { SETTINGS } from './settings.js';
import { bandIndex, emergencyOf, altitude, speed } from './format.js';
import { makeFilter, matches } from './filters.js';
import { formatHash, parseHash } from './hash.js';
import { TrackStore } from './store.js';
import { StreamClient, streamUrl } from './stream.js';
import { renderPanel, hidePanel } from './panel.js';
import { buildLegend, renderSensors, renderStatus, showBanner } from './ui.js';
import { MeasureTool } from './measure.js';
import {
  AIRCRAFT_LAYERS, LabelOverlay, addAircraftLayers, addBasemap, aircraftFeature, baseStyle, setDense,
  setSelected,
  trailFeature,
} from './map.js';

const VENDOR = {
  maplibre: '/static/vendor/maplibre-gl/maplibre-gl.mjs',
  topojson: '/static/vendor/topojson-client/index.js',
};
const MISSING_LIBRARY = 'map library not installed: run make';

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
    legend: $('legend'), measure: $('measure'), measureReadout: $('measure-readout'),
    sensors: $('sensors'), panel: $('panel'), status: $('status'), nodeName: $('node-name') };
}

// the features, labels and counts of what the filter lets through
function visibleAircraft(store, state) {
  const bands = SETTINGS.altitudeBands;
  const features = [];
  const labels = [];
  const shown = [];
  for (const t of store.tracks.values()) {
    if (!matches(t, state.filter, bands)) continue;
    const emergency = emergencyOf(t, SETTINGS.emergencySquawks) !== null;
    shown.push(t);
    features.push(aircraftFeature(t, bandIndex(bands, t.alt, t.on_ground), emergency));
    labels.push({ lon: t.lon, lat: t.lat, always: t.id === state.selected || emergency, track: t });
  }
  return { features, labels, shown };
}

function labelLines({ track: t }) {
  return [t.callsign ?? t.icao24 ?? '', `${altitude(t.alt, t.on_ground)} ${speed(t.groundspeed)}`];
}

function trailFeatures(shown, state) {
  const many = shown.length > SETTINGS.trail.maxAircraft;
  return shown.filter((t) => t.trail.length > 1 && (!many || t.id === state.selected))
    .map(trailFeature);
}

function countInView(map, features) {
  const b = map.getBounds();
  const [w, s, e, n] = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
  let count = 0;
  for (const f of features) {
    const [lon, lat] = f.geometry.coordinates;
    if (lon >= w && lon <= e && lat >= s && lat <= n) count += 1;
  }
  return count;
}

function updateDensity(view, features) {
  const dense = countInView(view.map, features) > SETTINGS.maxSymbolsInView;
  if (dense !== view.dense) setDense(view.map, dense);
  view.dense = dense;
}

function fitTo(map, tracks) {
  let [w, s, e, n] = [180, 90, -180, -90];
  for (const t of tracks) {
    w = Math.min(w, t.lon); e = Math.max(e, t.lon);
    s = Math.min(s, t.lat); n = Math.max(n, t.lat);
  }
  if (w > e) return;
  map.fitBounds([[w, s], [e, n]], { padding: 40, maxZoom: SETTINGS.maxFitZoom, animate: false });
}

async function createMap(libs, els, initialView, tileUrl) {
  const { Map, AttributionControl, NavigationControl, ScaleControl } = libs.maplibregl;
  const view = initialView ?? SETTINGS.defaultView;
  const map = new Map({ container: els.map, style: baseStyle(SETTINGS, tileUrl),
    center: view.center, zoom: view.zoom, attributionControl: false,
    renderWorldCopies: false, fadeDuration: 0 });
  map.addControl(new NavigationControl({ visualizePitch: false }), 'top-right');
  map.addControl(new ScaleControl({ unit: 'nautical' }), 'bottom-left');
  if (tileUrl) map.addControl(new AttributionControl({ compact: true }));
  await new Promise((resolve) => map.once('load', resolve));
  addAircraftLayers(map, SETTINGS);
  try {
    addBasemap(map, await getJson(SETTINGS.basemap.topology), libs.topojson, SETTINGS, !tileUrl);
  } catch (error) {
    console.warn('offline basemap missing', error);
  }
  const labels = new LabelOverlay(map, els.labels, SETTINGS, labelLines);
  return { map, labels, dense: false, features: [] };
}

async function main() {
  const els = elements(document);
  const store = new TrackStore(SETTINGS.trail.points);
  const fromHash = parseHash(window.location.hash);
  const state = { filter: makeFilter(null, ''), selected: fromHash.selected,
    connection: 'connecting', rate: null, lastStatus: null, fitted: fromHash.view !== null };
  let view = null; // {map, labels} once the map is up
  let measure = null;

  const updateHash = () => {
    if (!view) return;
    const c = view.map.getCenter();
    const hash = formatHash({ center: [c.lng, c.lat], zoom: view.map.getZoom() }, state.selected);
    window.history.replaceState(null, '', hash);
  };
  const updatePanel = () => {
    const track = state.selected === null ? undefined : store.get(state.selected);
    if (track) renderPanel(els.panel, track, SETTINGS);
    else hidePanel(els.panel);
  };
  const select = (id, centre = false) => {
    state.selected = id;
    const track = id === null ? undefined : store.get(id);
    if (view) {
      setSelected(view.map, id);
      if (centre && track && track.lat !== null) view.map.jumpTo({ center: [track.lon, track.lat] });
    }
    updatePanel();
    updateHash();
    redraw();
  };
  const redraw = () => {
    const { features, labels, shown } = visibleAircraft(store, state);
    if (view) {
      view.map.getSource('aircraft').setData({ type: 'FeatureCollection', features });
      view.features = features;
      view.map.getSource('trails').setData(
        { type: 'FeatureCollection', features: trailFeatures(shown, state) });
      view.labels.setItems(labels);
      updateDensity(view, features);
      if (!state.fitted && shown.length && SETTINGS.fitFirstSnapshot) {
        fitTo(view.map, shown);
        state.fitted = true;
      }
    }
    renderStatus(els.status, { tracks: store.size, shown: shown.length, rate: state.rate,
      connection: state.connection });
  };

  buildLegend(els.legend, SETTINGS, (bands) => {
    state.filter = makeFilter(bands, state.filter.query);
    redraw();
  });
  els.search.addEventListener('input', () => {
    state.filter = makeFilter(state.filter.bands, els.search.value);
    redraw();
  });
  els.search.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    const first = visibleAircraft(store, state).shown[0];
    if (first) select(first.id, true);
  });
  els.panel.querySelector('[data-role=close]').addEventListener('click', () => select(null));

  const client = new StreamClient(streamUrl(window.location, SETTINGS.stream.path), {
    minDelayMs: SETTINGS.stream.reconnectMinMs, maxDelayMs: SETTINGS.stream.reconnectMaxMs,
    onMessage: (message) => {
      store.apply(message);
      if (state.selected !== null) updatePanel();
    },
    onState: (connection) => {
      state.connection = connection;
      redraw();
    },
  });
  client.start();
  window.setInterval(redraw, SETTINGS.redrawMs);
  pollStatus(els, state);
  pollSensors(els);

  const libs = await loadLibraries();
  if (!libs) {
    showBanner(els.banner, MISSING_LIBRARY);
    document.body.dataset.map = 'missing';
    return;
  }
  const tileUrl = document.querySelector('meta[name=skyshare-tile-url]')?.content
    || SETTINGS.basemap.tileUrl;
  view = await createMap(libs, els, fromHash.view, tileUrl);
  measure = new MeasureTool(view.map, els.measureReadout, SETTINGS.units.distance);
  els.measure.addEventListener('click', () => {
    els.measure.setAttribute('aria-pressed', String(measure.toggle()));
  });
  view.map.on('click', (event) => {
    if (measure.active) {
      measure.add(event.lngLat);
      return;
    }
    const { x, y } = event.point;
    const hits = view.map.queryRenderedFeatures([[x - 8, y - 8], [x + 8, y + 8]],
      { layers: AIRCRAFT_LAYERS });
    select(hits.length ? hits[0].properties.id : null);
  });
  view.map.on('mouseenter', AIRCRAFT_LAYERS, () => {
    view.map.getCanvas().style.cursor = 'pointer';
  });
  view.map.on('mouseleave', AIRCRAFT_LAYERS, () => {
    view.map.getCanvas().style.cursor = measure.active ? 'crosshair' : '';
  });
  view.map.on('moveend', () => {
    updateHash();
    updateDensity(view, view.features);
  });
  window.addEventListener('hashchange', () => {
    const h = parseHash(window.location.hash);
    if (h.view) view.map.jumpTo(h.view);
    if (h.selected !== state.selected) select(h.selected);
  });
  select(state.selected);
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

async function pollSensors(els) {
  try {
    renderSensors(els.sensors, (await getJson(SETTINGS.sensorsPath)).sensors);
  } catch (error) {
    els.sensors.replaceChildren();
  }
  window.setTimeout(() => pollSensors(els), SETTINGS.sensorsPollMs);
}

main();
