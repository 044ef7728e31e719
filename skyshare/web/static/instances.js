// What the WebGL aircraft layer draws, built from the store's columns: one run of
// floats per symbol and per trail vertex. Pure functions: no DOM, no GL.
//
// Positions are web-mercator (0..1 across the world) relative to an `anchor` near the
// view, so that float32 keeps sub-metre precision when zoomed in; the layer adds the
// anchor back in double precision when it builds its matrix.

import { bandIndex, isNum } from './format.js';

// per symbol: x, y (mercator - anchor), heading (deg), size (px), shape, r, g, b, a
export const STRIDE = 9;
export const SHAPE = Object.freeze({ AIRCRAFT: 0, HALO: 1, DOT: 2 });

export function mercator(lon, lat) {
  const clamped = Math.max(-85.051129, Math.min(85.051129, lat));
  const sin = Math.sin((clamped * Math.PI) / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)];
}

// '#rrggbb' -> [r, g, b] in 0..1
export function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
}

export function emergencySquawkSet(squawks) {
  return new Set(Object.keys(squawks).map(Number));
}

const NO_ALERTS = new Set(); // never filled

// true where a slot declares an emergency (its emergency field or its squawk) or its
// track has an open alert (`alerted`: a Set of track ids)
export function isEmergency(store, slot, squawkCodes, alerted = NO_ALERTS) {
  return store.columns.emergency[slot] !== 0 || squawkCodes.has(store.columns.squawk[slot])
    || alerted.has(store.ids[slot]);
}

// style: {bands, unknownColour, emergencyColour, selectedColour, emergencySquawks,
//   size, emergencyScale, dense}; selected: slot or null; alerted: a Set of the track
//   ids with an open alert, drawn as emergencies.
// Draw order: halos, ordinary aircraft, emergencies on top.
export function buildSymbols(store, slots, style, selected, anchor, alerted = NO_ALERTS) {
  const bandColours = style.bands.map((b) => rgb(b.colour));
  const unknown = rgb(style.unknownColour);
  const red = rgb(style.emergencyColour);
  const white = rgb(style.selectedColour);
  const squawks = emergencySquawkSet(style.emergencySquawks);
  const { lat, lon, alt, track, flags } = store.columns;
  const onGround = store.meta.flags.on_ground ?? 0;
  const emergencies = slots.filter((s) => isEmergency(store, s, squawks, alerted));
  const haloCount = emergencies.length + (selected === null ? 0 : 1);
  const out = new Float32Array((slots.length + haloCount) * STRIDE);
  let n = 0;
  const put = (s, size, shape, colour, alpha) => {
    const [x, y] = mercator(lon[s], lat[s]);
    const o = n * STRIDE;
    out[o] = x - anchor[0];
    out[o + 1] = y - anchor[1];
    out[o + 2] = isNum(track[s]) ? track[s] : 0;
    out[o + 3] = size;
    out[o + 4] = shape;
    out[o + 5] = colour[0];
    out[o + 6] = colour[1];
    out[o + 7] = colour[2];
    out[o + 8] = alpha;
    n += 1;
  };
  for (const s of emergencies) put(s, style.size * 1.6, SHAPE.HALO, red, 0.3);
  if (selected !== null && store.live[selected] && isNum(lat[selected])) {
    put(selected, style.size * 1.5, SHAPE.HALO, white, 0);
  }
  const emergencySet = new Set(emergencies);
  const shape = style.dense ? SHAPE.DOT : SHAPE.AIRCRAFT;
  const plain = style.dense ? style.size * 0.45 : style.size;
  for (const s of slots) {
    if (emergencySet.has(s)) continue;
    const band = bandIndex(style.bands, alt[s], (flags[s] & onGround) !== 0);
    put(s, plain, shape, band < 0 ? unknown : bandColours[band], 1);
  }
  for (const s of emergencies) put(s, style.size * style.emergencyScale, SHAPE.AIRCRAFT, red, 1);
  return { data: out.subarray(0, n * STRIDE), count: n };
}

// line segments (x0, y0, x1, y1 per segment, relative to anchor) of the slots' trails:
// through the kept points, oldest first, then on to the aircraft's current position
export function buildTrails(store, slots, anchor) {
  const P = store.trailPoints;
  const { lat, lon } = store.columns;
  const out = new Float32Array(slots.reduce((n, s) => n + store.trailLen[s], 0) * 4);
  let o = 0;
  for (const s of slots) {
    const len = store.trailLen[s];
    if (!Number.isFinite(lat[s]) || !Number.isFinite(lon[s])) continue;
    let previous = null;
    for (let k = 0; k <= len; k += 1) {
      const at = s * P + ((store.trailStart[s] + k) % P);
      const [x, y] = k < len ? mercator(store.trailLon[at], store.trailLat[at])
        : mercator(lon[s], lat[s]);
      const point = [x - anchor[0], y - anchor[1]];
      if (previous && (point[0] !== previous[0] || point[1] !== previous[1])) {
        out.set([previous[0], previous[1], point[0], point[1]], o);
        o += 4;
      }
      previous = point;
    }
  }
  return { data: out.subarray(0, o), count: o / 2 };
}

// slots inside [west, south, east, north]
export function slotsInBounds(store, slots, [w, s, e, n]) {
  const { lat, lon } = store.columns;
  return slots.filter((k) => lon[k] >= w && lon[k] <= e && lat[k] >= s && lat[k] <= n);
}
