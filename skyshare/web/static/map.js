// The MapLibre map: offline basemap, the WebGL aircraft layer (symbols, halos, trails),
// sensor positions, their observed coverage outlines and the measuring line. Everything the map shows comes from
// arguments; nothing here fetches or keeps app state.

import { rgb } from './instances.js';

const EMPTY = Object.freeze({ type: 'FeatureCollection', features: [] });
// the coverage outline layers, bottom first: the altitude bands, then band 0 (all altitudes)
export const COVERAGE_LAYERS = Object.freeze(['coverage-bands', 'coverage-all']);

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
  const before = [...COVERAGE_LAYERS, 'sensors'].find((id) => map.getLayer(id));
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

// the line layers of GET /api/readiness/coverage's polygons (settings.readiness.coverage):
// band 0 (every altitude) wide and solid, the altitude bands thin and dashed, each band
// in its colour, an exercise sensor's in the exercise colour
export function coverageLayers(settings) {
  const style = settings.readiness.coverage;
  const last = style.bands[style.bands.length - 1];
  const byBand = style.bands.length > 1
    ? ['match', ['get', 'band'], ...style.bands.slice(0, -1).flatMap((c, i) => [i, c]), last]
    : last;
  const colour = ['case', ['==', ['get', 'exercise'], true], style.exercise, byBand];
  const [bands, all] = COVERAGE_LAYERS;
  return [
    { id: bands, type: 'line', source: 'coverage', filter: ['>', ['get', 'band'], 0],
      layout: { 'line-join': 'round' },
      paint: { 'line-color': colour, 'line-width': style.bandWidth,
        'line-dasharray': style.bandDash, 'line-opacity': style.opacity } },
    { id: all, type: 'line', source: 'coverage', filter: ['==', ['get', 'band'], 0],
      layout: { 'line-join': 'round' },
      paint: { 'line-color': colour, 'line-width': style.width,
        'line-opacity': style.opacity } },
  ];
}

// the map's own GeoJSON layers: coverage outlines, sensor positions and measuring line
export function addOverlayLayers(map, settings) {
  map.addSource('measure', { type: 'geojson', data: EMPTY });
  map.addSource('sensors', { type: 'geojson', data: EMPTY });
  map.addSource('coverage', { type: 'geojson', data: EMPTY });
  for (const layer of coverageLayers(settings)) map.addLayer(layer);
  map.addLayer({ id: 'sensors', type: 'circle', source: 'sensors',
    paint: { 'circle-radius': 5, 'circle-color': ['case', ['get', 'up'],
      settings.sensors.upColour, settings.sensors.downColour],
    'circle-stroke-color': '#0b1a2b', 'circle-stroke-width': 2 } });
  map.addLayer({ id: 'measure-line', type: 'line', source: 'measure',
    paint: { 'line-color': '#ffffff', 'line-width': 2, 'line-dasharray': [2, 1] } });
  map.addLayer({ id: 'measure-points', type: 'circle', source: 'measure',
    filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 4, 'circle-color': '#ffffff' } });
}

// sensors with a known position as GeoJSON points
export function sensorFeatures(sensors) {
  return { type: 'FeatureCollection', features: sensors
    .filter((s) => Number.isFinite(s.lat) && Number.isFinite(s.lon))
    .map((s) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [s.lon, s.lat] },
      properties: { name: s.name, up: Boolean(s.connected) } })) };
}

const SYMBOL_VS = `#version 300 es
layout(location = 0) in vec2 a_corner;
layout(location = 1) in vec2 a_pos;
layout(location = 2) in float a_heading;
layout(location = 3) in float a_size;
layout(location = 4) in float a_shape;
layout(location = 5) in vec4 a_colour;
uniform mat4 u_matrix;
uniform vec2 u_viewport;  // drawing buffer, px
uniform float u_scale;    // symbol scale at this zoom times the device pixel ratio
uniform float u_bearing;  // map rotation, deg
out vec2 v_corner;
out vec2 v_uv;
out float v_shape;
out vec4 v_colour;
void main() {
  vec4 centre = u_matrix * vec4(a_pos, 0.0, 1.0);
  float a = radians(a_heading - u_bearing);
  vec2 c = a_corner;  // only aircraft turn; halos and dots are round
  vec2 turned = a_shape == 0.0
    ? vec2(c.x * cos(a) + c.y * sin(a), -c.x * sin(a) + c.y * cos(a)) : c;
  // half the symbol in device px, then in clip units
  vec2 offset = turned * a_size * 0.5 * u_scale * 2.0 / u_viewport;
  gl_Position = centre + vec4(offset * centre.w, 0.0, 0.0);
  v_corner = c;
  v_uv = vec2(c.x, -c.y) * 0.5 + 0.5;
  v_shape = a_shape;
  v_colour = a_colour;
}`;

const SYMBOL_FS = `#version 300 es
precision mediump float;
uniform sampler2D u_icon;
in vec2 v_corner;
in vec2 v_uv;
in float v_shape;
in vec4 v_colour;
out vec4 colour;
void main() {
  if (v_shape < 0.5) {            // aircraft: white silhouette, dark outline, tinted
    vec4 t = texture(u_icon, v_uv);
    colour = vec4(t.rgb * v_colour.rgb, t.a) * v_colour.a;
    return;
  }
  float d = length(v_corner);
  if (v_shape < 1.5) {            // halo: a ring, filled with the colour's alpha
    float ring = 1.0 - smoothstep(0.05, 0.12, abs(d - 0.86));
    float a = max(ring, d < 0.86 ? v_colour.a : 0.0);
    colour = vec4(v_colour.rgb, 1.0) * a;
    return;
  }
  float edge = 1.0 - smoothstep(0.8, 1.0, d); // dot with a dark rim
  vec3 rgb = mix(v_colour.rgb, vec3(0.04, 0.1, 0.17), smoothstep(0.55, 0.75, d));
  colour = vec4(rgb, 1.0) * edge;
}`;

const TRAIL_VS = `#version 300 es
layout(location = 0) in vec2 a_pos;
uniform mat4 u_matrix;
void main() { gl_Position = u_matrix * vec4(a_pos, 0.0, 1.0); }`;

const TRAIL_FS = `#version 300 es
precision mediump float;
uniform vec4 u_colour;
out vec4 colour;
void main() { colour = u_colour; }`;

function compile(gl, vertex, fragment) {
  const program = gl.createProgram();
  for (const [kind, source] of [[gl.VERTEX_SHADER, vertex], [gl.FRAGMENT_SHADER, fragment]]) {
    const shader = gl.createShader(kind);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
      throw new Error(`aircraft layer shader: ${gl.getShaderInfoLog(shader)}`);
    }
    gl.attachShader(program, shader);
  }
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
    throw new Error(`aircraft layer program: ${gl.getProgramInfoLog(program)}`);
  }
  const uniforms = {};
  const n = gl.getProgramParameter(program, gl.ACTIVE_UNIFORMS);
  for (let i = 0; i < n; i += 1) {
    const { name } = gl.getActiveUniform(program, i);
    uniforms[name] = gl.getUniformLocation(program, name);
  }
  return { program, uniforms };
}

// `matrix` (column-major, mercator -> clip) times a translation by `anchor`, computed
// in double precision so that anchored float32 positions stay exact when zoomed in
export function anchoredMatrix(matrix, anchor) {
  const out = new Float32Array(16);
  for (let i = 0; i < 12; i += 1) out[i] = matrix[i];
  for (let i = 0; i < 4; i += 1) {
    out[12 + i] = matrix[i] * anchor[0] + matrix[4 + i] * anchor[1] + matrix[12 + i];
  }
  return out;
}

// Every aircraft symbol, halo and trail in two instanced draw calls (a MapLibre custom
// layer): updating 20,000 aircraft is one buffer upload, with no per-aircraft object
// and no symbol placement.  `setData` takes what instances.js builds.
export class AircraftLayer {
  constructor(settings) {
    this.id = 'aircraft';
    this.type = 'custom';
    this.renderingMode = '2d';
    this.settings = settings;
    this.symbols = { data: new Float32Array(0), count: 0 };
    this.trails = { data: new Float32Array(0), count: 0 };
    this.anchor = [0.5, 0.5];
    this.dirty = true;
  }

  onAdd(map, gl) {
    this.map = map;
    this.symbolProgram = compile(gl, SYMBOL_VS, SYMBOL_FS);
    this.trailProgram = compile(gl, TRAIL_VS, TRAIL_FS);
    this.cornerBuffer = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, this.cornerBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, -1, 1, 1, -1, 1, 1]),
      gl.STATIC_DRAW);
    this.symbolBuffer = gl.createBuffer();
    this.trailBuffer = gl.createBuffer();
    this.symbolVao = gl.createVertexArray();
    gl.bindVertexArray(this.symbolVao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.cornerBuffer);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.symbolBuffer);
    const stride = 9 * 4;
    // (location, floats, offset in floats) of x y | heading | size | shape | r g b a
    for (const [loc, size, offset] of [[1, 2, 0], [2, 1, 2], [3, 1, 3], [4, 1, 4], [5, 4, 5]]) {
      gl.enableVertexAttribArray(loc);
      gl.vertexAttribPointer(loc, size, gl.FLOAT, false, stride, offset * 4);
      gl.vertexAttribDivisor(loc, 1);
    }
    this.trailVao = gl.createVertexArray();
    gl.bindVertexArray(this.trailVao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.trailBuffer);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    gl.bindVertexArray(null);
    this.icon = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, this.icon);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, true);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE,
      aircraftImage('#ffffff', this.settings.symbol.texture, '#0b1a2b'));
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  }

  // symbols and trails from instances.js, positions relative to `anchor`
  setData(symbols, trails, anchor) {
    this.symbols = symbols;
    this.trails = trails;
    this.anchor = anchor;
    this.dirty = true;
    if (this.map) this.map.triggerRepaint();
  }

  // symbol scale at `zoom`: from minScale at minZoom to scale at maxZoom
  scaleAt(zoom) {
    const { minZoom, maxZoom, minScale, scale } = this.settings.symbol;
    const t = Math.max(0, Math.min(1, (zoom - minZoom) / (maxZoom - minZoom)));
    return minScale + t * (scale - minScale);
  }

  render(gl, options) {
    if (this.dirty) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.symbolBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, this.symbols.data, gl.DYNAMIC_DRAW);
      gl.bindBuffer(gl.ARRAY_BUFFER, this.trailBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, this.trails.data, gl.DYNAMIC_DRAW);
      this.dirty = false;
    }
    const matrix = anchoredMatrix(options.defaultProjectionData.mainMatrix, this.anchor);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    if (this.trails.count) {
      const { program, uniforms } = this.trailProgram;
      const { colour, opacity } = this.settings.trail;
      const [r, g, b] = rgb(colour);
      gl.useProgram(program);
      gl.uniformMatrix4fv(uniforms.u_matrix, false, matrix);
      gl.uniform4f(uniforms.u_colour, r * opacity, g * opacity, b * opacity, opacity);
      gl.bindVertexArray(this.trailVao);
      gl.drawArrays(gl.LINES, 0, this.trails.count);
    }
    if (this.symbols.count) {
      const { program, uniforms } = this.symbolProgram;
      gl.useProgram(program);
      gl.uniformMatrix4fv(uniforms.u_matrix, false, matrix);
      gl.uniform2f(uniforms.u_viewport, gl.drawingBufferWidth, gl.drawingBufferHeight);
      gl.uniform1f(uniforms.u_scale, this.scaleAt(this.map.getZoom()) * window.devicePixelRatio);
      gl.uniform1f(uniforms.u_bearing, this.map.getBearing());
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, this.icon);
      gl.uniform1i(uniforms.u_icon, 0);
      gl.bindVertexArray(this.symbolVao);
      gl.drawArraysInstanced(gl.TRIANGLES, 0, 6, this.symbols.count);
    }
    gl.bindVertexArray(null);
  }

  onRemove(map, gl) {
    for (const b of [this.cornerBuffer, this.symbolBuffer, this.trailBuffer]) gl.deleteBuffer(b);
    gl.deleteVertexArray(this.symbolVao);
    gl.deleteVertexArray(this.trailVao);
    gl.deleteTexture(this.icon);
    gl.deleteProgram(this.symbolProgram.program);
    gl.deleteProgram(this.trailProgram.program);
  }
}

// the slot nearest to screen point [x, y] within `radius` px among `slots`, or null
export function pick(map, store, slots, [x, y], radius) {
  const a = map.unproject([x - radius, y - radius]);
  const b = map.unproject([x + radius, y + radius]);
  const [w, e] = [Math.min(a.lng, b.lng), Math.max(a.lng, b.lng)];
  const [s, n] = [Math.min(a.lat, b.lat), Math.max(a.lat, b.lat)];
  const { lat, lon } = store.columns;
  let best = null;
  let bestD2 = radius * radius;
  for (const k of slots) {
    if (lon[k] < w || lon[k] > e || lat[k] < s || lat[k] > n) continue;
    const p = map.project([lon[k], lat[k]]);
    const d2 = (p.x - x) ** 2 + (p.y - y) ** 2;
    if (d2 <= bestD2) {
      best = k;
      bestD2 = d2;
    }
  }
  return best;
}
