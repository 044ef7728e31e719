import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  COVERAGE_LAYERS, anchoredMatrix, coverageLayers, unwrapRing, splitLines, sensorFeatures,
} from '../../skyshare/web/static/map.js';
import { SETTINGS } from '../../skyshare/web/static/settings.js';
import { mercator } from '../../skyshare/web/static/instances.js';
import { prng } from './frames.js';

// column-major 4x4 product a × b, in double precision
function multiply(a, b) {
  const out = new Float64Array(16);
  for (let col = 0; col < 4; col += 1) {
    for (let row = 0; row < 4; row += 1) {
      let sum = 0;
      for (let k = 0; k < 4; k += 1) sum += a[k * 4 + row] * b[col * 4 + k];
      out[col * 4 + row] = sum;
    }
  }
  return out;
}

const translation = ([x, y]) => {
  const t = new Float64Array(16);
  t[0] = 1; t[5] = 1; t[10] = 1; t[15] = 1;
  t[12] = x; t[13] = y;
  return t;
};

// column-major matrix × [x, y, 0, 1] with every operation in float32 (as a GPU does)
function transformF32(m, [x, y]) {
  const f = Math.fround;
  const out = [];
  for (let row = 0; row < 4; row += 1) {
    out.push(f(f(f(f(m[row]) * f(x)) + f(f(m[4 + row]) * f(y))) + f(m[12 + row])));
  }
  return out;
}

describe('anchoredMatrix', () => {
  test('equals matrix × translation(anchor), rounded to float32', () => {
    const rand = prng(271828);
    for (let round = 0; round < 200; round += 1) {
      const matrix = Float64Array.from({ length: 16 }, () => (rand() - 0.5) * 10 ** rand.int(-3, 6));
      const anchor = [rand(), rand()];
      const got = anchoredMatrix(matrix, anchor);
      assert.ok(got instanceof Float32Array);
      assert.equal(got.length, 16);
      const want = multiply(matrix, translation(anchor));
      for (let i = 0; i < 16; i += 1) {
        const expected = Math.fround(want[i]);
        // exact up to the one rounding to float32 (and the sign of a zero)
        assert.ok(got[i] === expected
          || Math.abs(got[i] - want[i]) <= Math.abs(want[i]) * 2 ** -23,
        `round ${round} element ${i}: ${got[i]} vs ${want[i]}`);
      }
    }
  });

  test('the identity anchored at (x, y) is a translation by (x, y)', () => {
    const identity = translation([0, 0]);
    assert.deepEqual([...anchoredMatrix(identity, [0.25, 0.75])],
      [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0.25, 0.75, 0, 1]);
    assert.deepEqual([...anchoredMatrix(identity, [0, 0])], [...identity]);
  });

  test('the first three columns are the matrix itself', () => {
    const m = Float64Array.from({ length: 16 }, (_, i) => i + 1);
    const got = anchoredMatrix(m, [3, -2]);
    assert.deepEqual([...got.subarray(0, 12)], [...m.subarray(0, 12)]);
    // column 4: m·(3, -2, 0, 1)
    assert.deepEqual([...got.subarray(12)], [1 * 3 + 5 * -2 + 13, 2 * 3 + 6 * -2 + 14,
      3 * 3 + 7 * -2 + 15, 4 * 3 + 8 * -2 + 16]);
  });

  test('anchored float32 positions land where the double-precision matrix puts them', () => {
    // a view at zoom 20 over Heathrow, 1000 × 800 px: mercator -> clip
    const [W, H] = [1000, 800];
    const scale = 512 * 2 ** 20; // world px across at zoom 20
    const centre = mercator(-0.4543, 51.47);
    const m = new Float64Array(16);
    m[0] = (2 * scale) / W; m[5] = (-2 * scale) / H; m[10] = 1; m[15] = 1;
    m[12] = -m[0] * centre[0]; m[13] = -m[5] * centre[1];
    const anchor = mercator(-0.4545, 51.4701);
    const point = mercator(-0.45431, 51.47004);
    const exact = [m[0] * point[0] + m[12], m[5] * point[1] + m[13]];
    const relative = [Math.fround(point[0] - anchor[0]), Math.fround(point[1] - anchor[1])];
    const [x, y] = transformF32(anchoredMatrix(m, anchor), relative);
    const px = 1 / W; // half a pixel in clip units is 1/W
    assert.ok(Math.abs(x - exact[0]) < px / 10 && Math.abs(y - exact[1]) < px / 10,
      `clip ${x},${y} vs ${exact}`);
    // without the anchor, float32 is many pixels off: the test can tell the difference
    const [nx] = transformF32(Float32Array.from(m), point.map(Math.fround));
    assert.ok(Math.abs(nx - exact[0]) > 10 * px, `unanchored error ${(nx - exact[0]) / px} px`);
  });
});

// consecutive points never jump by more than half the world
const continuous = (ring) => ring.every((p, i) => i === 0 || Math.abs(p[0] - ring[i - 1][0]) <= 180);

describe('unwrapRing', () => {
  test('a ring that does not cross the antimeridian is unchanged', () => {
    const ring = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]];
    assert.deepEqual(unwrapRing(ring), ring);
    const east = [[170, 60], [179.9, 61], [179.9, 70], [170, 70], [170, 60]];
    assert.deepEqual(unwrapRing(east), east);
  });

  test('a ring across the antimeridian continues past ±180', () => {
    assert.deepEqual(unwrapRing([[175, 60], [-175, 60], [-175, 70], [175, 70], [175, 60]]),
      [[175, 60], [185, 60], [185, 70], [175, 70], [175, 60]]);
    assert.deepEqual(unwrapRing([[-175, 60], [175, 60], [175, 70], [-175, 70], [-175, 60]]),
      [[-175, 60], [-185, 60], [-185, 70], [-175, 70], [-175, 60]]);
    const fiji = [[178, -17], [180, -16.2], [-180, -16.2], [-179.9, -16.5], [-180, -16.6],
      [180, -16.6], [178, -17]];
    const out = unwrapRing(fiji);
    assert.equal(out.length, fiji.length);
    assert.ok(continuous(out));
    assert.deepEqual(out.at(-1), fiji.at(-1));
  });

  test('a ring around the south pole is closed along the Mercator limit', () => {
    const ring = [[-180, -70], [-90, -72], [0, -69], [90, -66], [180, -70], [-180, -70]];
    const out = unwrapRing(ring);
    // the ring's own points unwrapped; the closing edge runs along the limit
    assert.ok(continuous(out.slice(0, ring.length)), JSON.stringify(out));
    assert.deepEqual(out.slice(0, 5), ring.slice(0, 5));
    assert.deepEqual(out.slice(5), [[180, -70], [180, -85.05], [-180, -85.05], [-180, -70]]);
    assert.deepEqual(out.at(-1), out[0], 'closed');
  });

  test('a ring around the north pole is closed along the northern limit', () => {
    const ring = [[170, 80], [-100, 82], [-10, 84], [80, 83], [170, 80]];
    // 170 -> -100 is a jump west-to-east across the antimeridian (+90 the short way)
    const out = unwrapRing(ring);
    assert.ok(continuous(out.slice(0, ring.length)), JSON.stringify(out));
    assert.deepEqual(out.slice(0, ring.length), [[170, 80], [260, 82], [350, 84], [440, 83],
      [530, 80]]);
    assert.deepEqual(out.slice(ring.length), [[530, 85.05], [170, 85.05], [170, 80]]);
    assert.deepEqual(out.at(-1), ring[0]);
    assert.ok(out.some((p) => p[1] === 85.05), 'runs along +85.05');
    assert.ok(!out.some((p) => p[1] === -85.05));
  });
});

describe('splitLines', () => {
  test('cuts lines where they jump across the antimeridian, drops single points', () => {
    const mesh = { type: 'MultiLineString', coordinates: [
      [[170, 0], [179, 1], [-179, 2], [-170, 3]],
      [[0, 0], [1, 1], [2, 0]],
      [[179, 0], [-179, 0]],
      [[-179, 5], [179, 5], [178, 5], [-179, 6], [-178, 6]],
    ] };
    assert.deepEqual(splitLines(mesh), { type: 'MultiLineString', coordinates: [
      [[170, 0], [179, 1]], [[-179, 2], [-170, 3]],
      [[0, 0], [1, 1], [2, 0]],
      [[179, 5], [178, 5]], [[-179, 6], [-178, 6]],
    ] });
  });

  test('every piece is continuous and no point is lost except lone ones', () => {
    const rand = prng(3);
    const lines = Array.from({ length: 30 }, () => Array.from({ length: rand.int(1, 20) },
      () => [rand.int(-180, 180), rand.int(-80, 80)]));
    const out = splitLines({ type: 'MultiLineString', coordinates: lines }).coordinates;
    for (const piece of out) {
      assert.ok(piece.length > 1);
      assert.ok(continuous(piece));
    }
    const kept = out.flat().length;
    const all = lines.flat().length;
    assert.ok(kept <= all);
    // a line with no jump comes out whole
    const smooth = [[0, 0], [100, 0], [200, 0]].map(([x, y]) => [x - 100, y]);
    assert.deepEqual(splitLines({ coordinates: [smooth] }).coordinates, [smooth]);
  });
});

describe('sensorFeatures', () => {
  test('sensors with a position as GeoJSON points, up when connected', () => {
    const fc = sensorFeatures([
      { name: 'roof', lat: 51.5, lon: -0.12, connected: true },
      { name: 'nowhere', lat: null, lon: 2 },
      { name: 'down', lat: -33.9, lon: 151.2, connected: false },
      { name: 'nan', lat: NaN, lon: 1, connected: true },
      { name: 'strings', lat: '5', lon: '6', connected: true },
      { name: 'zero', lat: 0, lon: 0 },
    ]);
    assert.equal(fc.type, 'FeatureCollection');
    assert.deepEqual(fc.features, [
      { type: 'Feature', geometry: { type: 'Point', coordinates: [-0.12, 51.5] },
        properties: { name: 'roof', up: true } },
      { type: 'Feature', geometry: { type: 'Point', coordinates: [151.2, -33.9] },
        properties: { name: 'down', up: false } },
      { type: 'Feature', geometry: { type: 'Point', coordinates: [0, 0] },
        properties: { name: 'zero', up: false } },
    ]);
  });

  test('no sensors, no features', () => {
    assert.deepEqual(sensorFeatures([]), { type: 'FeatureCollection', features: [] });
  });
});

// the few MapLibre expressions coverageLayers uses, evaluated for one feature's properties
function evaluate(expr, props) {
  if (!Array.isArray(expr)) return expr;
  const [op, ...args] = expr;
  const value = (e) => evaluate(e, props);
  switch (op) {
    case 'get': return props[args[0]];
    case '==': return value(args[0]) === value(args[1]);
    case '>': return value(args[0]) > value(args[1]);
    case 'case': {
      for (let i = 0; i + 1 < args.length; i += 2) if (value(args[i])) return value(args[i + 1]);
      return value(args[args.length - 1]);
    }
    case 'match': {
      const input = value(args[0]);
      for (let i = 1; i + 1 < args.length; i += 2) if (args[i] === input) return value(args[i + 1]);
      return value(args[args.length - 1]);
    }
    default: throw new Error(`unexpected expression ${op}`);
  }
}

describe('coverageLayers', () => {
  const style = SETTINGS.readiness.coverage;
  const [bands, all] = coverageLayers(SETTINGS);

  test('two line layers of the coverage source, bands below band 0', () => {
    assert.deepEqual([bands.id, all.id], [...COVERAGE_LAYERS]);
    for (const layer of [bands, all]) {
      assert.equal(layer.type, 'line');
      assert.equal(layer.source, 'coverage');
    }
    for (const band of [0, 1, 2, 3, 7]) {
      assert.equal(evaluate(all.filter, { band }), band === 0, `all: band ${band}`);
      assert.equal(evaluate(bands.filter, { band }), band > 0, `bands: band ${band}`);
    }
  });

  test('band 0 wide and solid, the altitude bands thin and dashed', () => {
    assert.ok(all.paint['line-width'] > bands.paint['line-width']);
    assert.equal(all.paint['line-dasharray'], undefined);
    assert.deepEqual(bands.paint['line-dasharray'], style.bandDash);
  });

  test('each band its colour from the settings, the last for any further band', () => {
    for (const layer of [bands, all]) {
      const colour = layer.paint['line-color'];
      style.bands.forEach((c, band) => {
        assert.equal(evaluate(colour, { band, exercise: false }), c, `band ${band}`);
      });
      assert.equal(evaluate(colour, { band: 9, exercise: false }), style.bands.at(-1));
      assert.equal(evaluate(colour, { band: 0, exercise: true }), style.exercise);
    }
  });

  test('one colour for every band is a plain colour, not a match', () => {
    const one = { ...SETTINGS, readiness: { ...SETTINGS.readiness,
      coverage: { ...style, bands: ['#123456'] } } };
    const [, layer] = coverageLayers(one);
    assert.equal(evaluate(layer.paint['line-color'], { band: 2, exercise: false }), '#123456');
    assert.equal(layer.paint['line-color'][3], '#123456');
  });
});
