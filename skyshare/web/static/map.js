// The MapLibre map: offline basemap, aircraft symbols, trails, halos and the label overlay.
// Everything the map shows comes from arguments; nothing here fetches or keeps app state.

const EMPTY = Object.freeze({ type: 'FeatureCollection', features: [] });

// the layers a click on an aircraft can hit
export const AIRCRAFT_LAYERS = ['aircraft', 'aircraft-dots', 'aircraft-emergency'];

// an aircraft silhouette pointing north, `size` px square, as MapLibre image data
export function aircraftImage(colour, size, outline = '#0b1a2b') {
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  const s = size / 24;
  ctx.scale(s, s);
  ctx.beginPath();
  // fuselage, wings and tailplane in a 24×24 box (nose at the top)
  const outlinePoints = [[12, 1], [13.6, 4], [13.6, 9], [22, 14], [22, 16], [13.6, 13.5],
    [13.2, 19], [16.5, 21.5], [16.5, 23], [12, 21.8], [7.5, 23], [7.5, 21.5], [10.8, 19],
    [10.4, 13.5], [2, 16], [2, 14], [10.4, 9], [10.4, 4]];
  outlinePoints.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  ctx.closePath();
  ctx.fillStyle = colour;
  ctx.fill();
  ctx.lineWidth = 1.2;
  ctx.strokeStyle = outline;
  ctx.stroke();
  return ctx.getImageData(0, 0, size, size);
}

export function baseStyle(settings, tileUrl) {
  const c = settings.basemap.colours;
  const style = {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': c.water } }],
  };
  if (tileUrl) {
    style.sources.tiles = { type: 'raster', tiles: [tileUrl], tileSize: 256,
      attribution: settings.basemap.tileAttribution };
    style.layers.push({ id: 'tiles', type: 'raster', source: 'tiles' });
  }
  return style;
}

// a ring made continuous across the antimeridian (world-atlas rings jump from +180 to
// -180, which a flat map fills as a band across the world); a ring around a pole
// (Antarctica) is closed along the Mercator limit instead
export function unwrapRing(ring) {
  let offset = 0;
  const out = [ring[0]];
  for (let i = 1; i < ring.length; i += 1) {
    const step = ring[i][0] - ring[i - 1][0];
    if (step > 180) offset -= 360;
    else if (step < -180) offset += 360;
    out.push([ring[i][0] + offset, ring[i][1]]);
  }
  if (offset !== 0) {
    const edge = Math.sign(ring.reduce((sum, p) => sum + p[1], 0)) * 85.05;
    out.push([out[out.length - 1][0], edge], [ring[0][0], edge], ring[0]);
  }
  return out;
}

function unwrapFeature(feature) {
  const g = feature.geometry;
  if (!g) return feature;
  const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  const unwrapped = polygons.map((rings) => rings.map(unwrapRing));
  return { ...feature, geometry: g.type === 'Polygon'
    ? { type: 'Polygon', coordinates: unwrapped[0] }
    : { type: 'MultiPolygon', coordinates: unwrapped } };
}

// a mesh (MultiLineString) cut where a line jumps across the antimeridian
export function splitLines(mesh) {
  const lines = [];
  for (const line of mesh.coordinates) {
    let current = [line[0]];
    for (let i = 1; i < line.length; i += 1) {
      if (Math.abs(line[i][0] - line[i - 1][0]) > 180) {
        if (current.length > 1) lines.push(current);
        current = [];
      }
      current.push(line[i]);
    }
    if (current.length > 1) lines.push(current);
  }
  return { type: 'MultiLineString', coordinates: lines };
}

// land, borders and coastlines from a world-atlas TopoJSON topology
export function addBasemap(map, topology, topojson, settings, withLand) {
  const c = settings.basemap.colours;
  const countries = topology.objects.countries;
  const countryShapes = topojson.feature(topology, countries);
  const land = { ...countryShapes, features: countryShapes.features.map(unwrapFeature) };
  const borders = splitLines(topojson.mesh(topology, countries, (a, b) => a !== b));
  const coast = splitLines(topojson.mesh(topology, countries, (a, b) => a === b));
  const before = map.getLayer('trails') ? 'trails' : undefined;
  map.addSource('land', { type: 'geojson', data: land });
  map.addSource('borders', { type: 'geojson', data: borders });
  map.addSource('coast', { type: 'geojson', data: coast });
  if (withLand) {
    map.addLayer({ id: 'land', type: 'fill', source: 'land',
      paint: { 'fill-color': c.land } }, before);
  }
  map.addLayer({ id: 'coast', type: 'line', source: 'coast',
    paint: { 'line-color': c.coast, 'line-width': 0.8 } }, before);
  map.addLayer({ id: 'borders', type: 'line', source: 'borders',
    paint: { 'line-color': c.border, 'line-width': 0.6, 'line-dasharray': [3, 2] } }, before);
}

export function addAircraftLayers(map, settings) {
  const { symbol, trail } = settings;
  settings.altitudeBands.forEach((band, i) => {
    map.addImage(`ac-${i}`, aircraftImage(band.colour, symbol.size));
  });
  map.addImage('ac--1', aircraftImage(settings.unknownAltitudeColour, symbol.size));
  map.addImage('ac-emergency', aircraftImage(settings.emergencyColour, symbol.size, '#ffffff'));
  map.addSource('trails', { type: 'geojson', data: EMPTY });
  map.addSource('aircraft', { type: 'geojson', data: EMPTY });
  map.addSource('measure', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'trails', type: 'line', source: 'trails',
    paint: { 'line-color': trail.colour, 'line-width': trail.width, 'line-opacity': trail.opacity } });
  map.addLayer({ id: 'emergency-halo', type: 'circle', source: 'aircraft',
    filter: ['==', ['get', 'emg'], true],
    paint: { 'circle-radius': 16, 'circle-color': settings.emergencyColour,
      'circle-opacity': 0.3, 'circle-stroke-color': settings.emergencyColour,
      'circle-stroke-width': 2 } });
  map.addLayer({ id: 'selected-halo', type: 'circle', source: 'aircraft',
    filter: ['==', ['get', 'id'], -1],
    paint: { 'circle-radius': 15, 'circle-opacity': 0, 'circle-stroke-width': 2,
      'circle-stroke-color': settings.selectedColour } });
  // dots coloured by altitude where too many aircraft are in view for symbols: MapLibre
  // re-places every symbol over several frames after each change, which costs frames
  // in the thousands; circles are drawn as they are (see setDense)
  const bandColours = settings.altitudeBands.flatMap((band, i) => [i, band.colour]);
  map.addLayer({ id: 'aircraft-dots', type: 'circle', source: 'aircraft',
    filter: ['==', ['get', 'emg'], false],
    layout: { visibility: 'none' },
    paint: { 'circle-color': ['match', ['get', 'band'], ...bandColours,
      settings.unknownAltitudeColour],
    'circle-radius': ['interpolate', ['linear'], ['zoom'], 2, 1.5, 8, 4] } });
  // emergencies in their own layer on top: a symbol-sort-key would do it too, but it
  // makes MapLibre issue one draw call per aircraft (20,000 a frame)
  for (const [id, emg] of [['aircraft', false], ['aircraft-emergency', true]]) {
    const scale = emg ? 1.4 : 1;
    map.addLayer({ id, type: 'symbol', source: 'aircraft',
      filter: ['==', ['get', 'emg'], emg],
      layout: {
        'icon-image': emg ? 'ac-emergency' : ['concat', 'ac-', ['to-string', ['get', 'band']]],
        'icon-rotate': ['get', 'track'],
        'icon-rotation-alignment': 'map',
        // smaller when zoomed out, where thousands overlap
        'icon-size': ['interpolate', ['linear'], ['zoom'],
          symbol.minZoom, symbol.minScale * scale, symbol.maxZoom, symbol.scale * scale],
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
      } });
  }
  map.addLayer({ id: 'measure-line', type: 'line', source: 'measure',
    paint: { 'line-color': '#ffffff', 'line-width': 2, 'line-dasharray': [2, 1] } });
  map.addLayer({ id: 'measure-points', type: 'circle', source: 'measure',
    filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 4, 'circle-color': '#ffffff' } });
}

export function aircraftFeature(track, band, emergency) {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [track.lon, track.lat] },
    properties: { id: track.id, band, track: track.track ?? 0, emg: emergency },
  };
}

export function trailFeature(track) {
  return {
    type: 'Feature',
    geometry: { type: 'LineString', coordinates: track.trail },
    properties: { id: track.id },
  };
}

// dots instead of symbols (dense: true) or symbols again; emergencies stay symbols
export function setDense(map, dense) {
  map.setLayoutProperty('aircraft', 'visibility', dense ? 'none' : 'visible');
  map.setLayoutProperty('aircraft-dots', 'visibility', dense ? 'visible' : 'none');
}

export function setSelected(map, id) {
  map.setFilter('selected-halo', ['==', ['get', 'id'], id ?? -1]);
}

// labels (callsign / altitude / speed) drawn on a 2D canvas over the map: MapLibre text
// needs glyph files from a server, which an offline map does not have.  Which labels
// to draw is decided when the data or the view settles, not on every frame.
export class LabelOverlay {
  constructor(map, canvas, settings, linesOf) {
    this.map = map;
    this.canvas = canvas;
    this.settings = settings.labels;
    this.linesOf = linesOf; // item -> [line, …], called only for labels drawn
    this.items = [];
    this.drawn = [];
    map.on('render', () => this.draw());
    map.on('moveend', () => this.choose());
    map.on('resize', () => this.resize());
    this.resize();
  }

  resize() {
    const { clientWidth: w, clientHeight: h } = this.map.getContainer();
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(w * ratio);
    this.canvas.height = Math.round(h * ratio);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.draw();
  }

  // items: [{lon, lat, always: bool, …whatever linesOf reads}]
  setItems(items) {
    this.items = items;
    this.choose();
  }

  // every label in view when few enough are and the map is zoomed in; else the
  // `always` ones (selected, emergencies)
  choose() {
    const b = this.map.getBounds();
    const [w, s, e, n] = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    const inView = (it) => it.lon >= w && it.lon <= e && it.lat >= s && it.lat <= n;
    const zoomedIn = this.map.getZoom() >= this.settings.minZoom;
    let chosen = [];
    if (zoomedIn) {
      for (const it of this.items) {
        if (!inView(it)) continue;
        chosen.push(it);
        if (chosen.length > this.settings.maxShown) break;
      }
    }
    if (!zoomedIn || chosen.length > this.settings.maxShown) {
      chosen = this.items.filter((it) => it.always && inView(it));
    }
    this.drawn = chosen.map((it) => ({ lon: it.lon, lat: it.lat, lines: this.linesOf(it) }));
    this.map.triggerRepaint();
  }

  draw() {
    const ctx = this.canvas.getContext('2d');
    const ratio = window.devicePixelRatio || 1;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.font = this.settings.font;
    ctx.textBaseline = 'top';
    ctx.lineWidth = 3;
    for (const it of this.drawn) {
      const p = this.map.project([it.lon, it.lat]);
      it.lines.forEach((line, i) => {
        const y = p.y + 10 + i * 12;
        ctx.strokeStyle = 'rgba(11, 26, 43, 0.85)';
        ctx.strokeText(line, p.x + 12, y);
        ctx.fillStyle = this.settings.colour;
        ctx.fillText(line, p.x + 12, y);
      });
    }
  }
}
