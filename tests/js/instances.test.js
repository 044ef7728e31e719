import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  mercator, rgb, buildSymbols, buildTrails, slotsInBounds, STRIDE, SHAPE, isEmergency,
  emergencySquawkSet,
} from '../../skyshare/web/static/instances.js';
import { TrackStore } from '../../skyshare/web/static/store.js';
import { decodeFrame } from '../../skyshare/web/static/wire.js';
import { SETTINGS } from '../../skyshare/web/static/settings.js';
import { trackFrame, FLAGS } from './frames.js';

const f32 = Math.fround;
const close = (a, b, eps = 1e-12, what = '') => assert.ok(Math.abs(a - b) <= eps,
  `${what}: ${a} is not ${b} ± ${eps}`);

function storeOf(rows, trailPoints = 4) {
  const store = new TrackStore(trailPoints, 4);
  store.apply(decodeFrame(trackFrame(rows, { type: 'snapshot' })));
  return store;
}

const style = (dense = false) => ({
  bands: SETTINGS.altitudeBands, unknownColour: SETTINGS.unknownAltitudeColour,
  emergencyColour: SETTINGS.emergencyColour, selectedColour: SETTINGS.selectedColour,
  emergencySquawks: SETTINGS.emergencySquawks, size: SETTINGS.symbol.size,
  emergencyScale: SETTINGS.symbol.emergencyScale, dense,
});

// the instances of buildSymbols' output as objects
const instances = ({ data, count }) => {
  assert.equal(data.length, count * STRIDE);
  return Array.from({ length: count }, (_, k) => {
    const o = k * STRIDE;
    return { x: data[o], y: data[o + 1], heading: data[o + 2], size: data[o + 3],
      shape: data[o + 4], colour: [data[o + 5], data[o + 6], data[o + 7]], alpha: data[o + 8] };
  });
};
const f32rgb = (hex) => rgb(hex).map(f32);

describe('mercator', () => {
  test('(0, 0) is the middle of the world', () => {
    const [x, y] = mercator(0, 0);
    close(x, 0.5);
    close(y, 0.5);
  });
  test('longitude ±180 is the left and right edge', () => {
    close(mercator(-180, 0)[0], 0);
    close(mercator(180, 0)[0], 1);
    close(mercator(90, 10)[0], 0.75);
  });
  test('north is a smaller y; the world is square up to ±85.0511°', () => {
    assert.ok(mercator(0, 45)[1] < 0.5);
    assert.ok(mercator(0, -45)[1] > 0.5);
    assert.ok(mercator(0, 60)[1] < mercator(0, 45)[1]);
    close(mercator(0, 85.051129)[1], 0, 1e-6, 'top');
    close(mercator(0, -85.051129)[1], 1, 1e-6, 'bottom');
    assert.deepEqual(mercator(0, 90), mercator(0, 85.051129), 'clamped at the pole');
    assert.deepEqual(mercator(0, -90), mercator(0, -85.051129));
  });
  test('matches the textbook formula y = 1/2 - ln(tan(pi/4 + lat/2)) / (2 pi)', () => {
    for (const lat of [-70, -33.9, -1, 0.5, 12, 51.47, 80]) {
      const phi = (lat * Math.PI) / 180;
      close(mercator(7, lat)[1], 0.5 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / (2 * Math.PI),
        1e-12, `lat ${lat}`);
    }
  });
});

describe('rgb', () => {
  test('#rrggbb to 0..1 channels', () => {
    assert.deepEqual(rgb('#000000'), [0, 0, 0]);
    assert.deepEqual(rgb('#ffffff'), [1, 1, 1]);
    assert.deepEqual(rgb('#ff8000'), [1, 128 / 255, 0]);
    assert.deepEqual(rgb('#0000ff'), [0, 0, 1]);
    assert.deepEqual(rgb('#12ab9c'), [0x12 / 255, 0xab / 255, 0x9c / 255]);
  });
});

describe('isEmergency', () => {
  test('by the emergency field or an emergency squawk', () => {
    const store = storeOf([
      { id: 1, emergency: 3 }, { id: 2, squawk: 7600 }, { id: 3, squawk: 1200 }, { id: 4 },
    ]);
    const codes = emergencySquawkSet(SETTINGS.emergencySquawks);
    assert.deepEqual(codes, new Set([7500, 7600, 7700]));
    const result = [1, 2, 3, 4].map((id) => isEmergency(store, store.slot(id), codes));
    assert.deepEqual(result, [true, true, false, false]);
  });

  test('or by an open alert on its track (a set of track ids)', () => {
    const store = storeOf([{ id: 1, emergency: 3 }, { id: 3, squawk: 1200 }, { id: 4 }]);
    const codes = emergencySquawkSet(SETTINGS.emergencySquawks);
    const alerted = new Set([3, 99]);
    const result = [1, 3, 4].map((id) => isEmergency(store, store.slot(id), codes, alerted));
    assert.deepEqual(result, [true, true, false]);
  });
});

describe('buildSymbols', () => {
  const rows = [
    { id: 1, lat: 51.47, lon: -0.45, alt: 35000, track: 90 }, // plain, band 5
    { id: 2, lat: 48.35, lon: 11.78, alt: 10000, emergency: 1, track: 45 }, // emergency field
    { id: 3, lat: 40.64, lon: -73.78, squawk: 7700 }, // emergency squawk, no altitude
    { id: 4, lat: -33.94, lon: 151.18 }, // unknown altitude, unknown track
    { id: 5, lat: 50.03, lon: 8.56, alt: 400, flags: FLAGS.on_ground, track: 270 }, // ground
  ];
  const anchor = mercator(2, 49);

  const expectPosition = (inst, store, slot, what) => {
    const [x, y] = mercator(store.columns.lon[slot], store.columns.lat[slot]);
    assert.equal(inst.x, f32(x - anchor[0]), `${what} x`);
    assert.equal(inst.y, f32(y - anchor[1]), `${what} y`);
  };

  test('halos first, then ordinary aircraft, emergencies last', () => {
    const store = storeOf(rows);
    const slots = [...store.slots()];
    const slot = (id) => store.slot(id);
    const selected = slot(1);
    const out = buildSymbols(store, slots, style(), selected, anchor);
    const list = instances(out);
    // 5 aircraft, 2 emergency halos, 1 selected halo
    assert.equal(out.count, 8);
    const { size, emergencyScale } = SETTINGS.symbol;
    const red = f32rgb(SETTINGS.emergencyColour);

    // halos of the emergencies (2 and 3), then of the selected aircraft
    const halos = list.slice(0, 3);
    for (const h of halos) assert.equal(h.shape, SHAPE.HALO);
    expectPosition(halos[0], store, slot(2), 'halo 2');
    expectPosition(halos[1], store, slot(3), 'halo 3');
    expectPosition(halos[2], store, selected, 'selected halo');
    assert.deepEqual(halos[0].colour, red);
    assert.deepEqual(halos[1].colour, red);
    assert.deepEqual(halos[2].colour, f32rgb(SETTINGS.selectedColour));
    for (const h of halos) assert.ok(h.size > size, 'a halo is larger than its aircraft');

    // ordinary aircraft in slot order, coloured by band
    const plain = list.slice(3, 6);
    [1, 4, 5].forEach((id, k) => expectPosition(plain[k], store, slot(id), `aircraft ${id}`));
    for (const p of plain) {
      assert.equal(p.shape, SHAPE.AIRCRAFT);
      assert.equal(p.size, size);
      assert.equal(p.alpha, 1);
    }
    assert.deepEqual(plain[0].colour, f32rgb(SETTINGS.altitudeBands[5].colour));
    assert.deepEqual(plain[1].colour, f32rgb(SETTINGS.unknownAltitudeColour));
    assert.deepEqual(plain[2].colour, f32rgb(SETTINGS.altitudeBands[0].colour));
    assert.equal(plain[0].heading, 90);
    assert.equal(plain[1].heading, 0, 'an unknown track draws pointing north');
    assert.equal(plain[2].heading, 270);

    // emergencies on top, larger, red
    const last = list.slice(6);
    expectPosition(last[0], store, slot(2), 'emergency 2');
    expectPosition(last[1], store, slot(3), 'emergency 3');
    for (const e of last) {
      assert.equal(e.shape, SHAPE.AIRCRAFT);
      assert.equal(e.size, f32(size * emergencyScale));
      assert.deepEqual(e.colour, red);
      assert.equal(e.alpha, 1);
    }
    assert.equal(last[0].heading, 45);
  });

  test('aircraft with an open alert are drawn as emergencies', () => {
    const store = storeOf(rows);
    const slots = [...store.slots()];
    const plainAlerted = instances(buildSymbols(store, slots, style(), null, anchor,
      new Set([1, 3])));
    const red = f32rgb(SETTINGS.emergencyColour);
    // emergencies 2 and 3 plus alerted 1 (3 is both): three halos, three red aircraft last
    assert.equal(plainAlerted.length, 5 + 3);
    assert.deepEqual(plainAlerted.slice(0, 3).map((i) => i.shape), Array(3).fill(SHAPE.HALO));
    const last = plainAlerted.slice(5);
    assert.deepEqual(last.map((i) => i.colour), [red, red, red]);
    assert.equal(last[0].heading, 90, 'aircraft 1, in slot order among the emergencies');
    const none = instances(buildSymbols(store, slots, style(), null, anchor, new Set()));
    assert.equal(none.length, 5 + 2);
  });

  test('no selection: only the emergencies have halos', () => {
    const store = storeOf(rows);
    const list = instances(buildSymbols(store, [...store.slots()], style(), null, anchor));
    assert.equal(list.length, 7);
    assert.deepEqual(list.map((i) => i.shape), [SHAPE.HALO, SHAPE.HALO, SHAPE.AIRCRAFT,
      SHAPE.AIRCRAFT, SHAPE.AIRCRAFT, SHAPE.AIRCRAFT, SHAPE.AIRCRAFT]);
  });

  test('a selected emergency has both halos', () => {
    const store = storeOf(rows);
    const list = instances(buildSymbols(store, [...store.slots()], style(), store.slot(2),
      anchor));
    assert.equal(list.length, 8);
    expectPosition(list[0], store, store.slot(2), 'emergency halo');
    expectPosition(list[2], store, store.slot(2), 'selected halo');
  });

  test('a selected slot that is gone or has no position draws no halo', () => {
    const store = storeOf([...rows, { id: 6 }]);
    const gone = store.slot(1);
    store.apply(decodeFrame(trackFrame([], { type: 'delta', removed: [1] })));
    const slots = [...store.slots()].filter((s) => Number.isFinite(store.columns.lat[s]));
    for (const selected of [gone, store.slot(6)]) {
      const out = buildSymbols(store, slots, style(), selected, anchor);
      assert.equal(out.count, 4 + 2, `selected slot ${selected}`);
      assert.equal(instances(out).filter((i) => i.shape === SHAPE.HALO).length, 2);
    }
  });

  test('dense style: ordinary aircraft are dots, smaller, emergencies still last', () => {
    const store = storeOf(rows);
    const list = instances(buildSymbols(store, [...store.slots()], style(true), null, anchor));
    const plain = list.slice(2, 5);
    for (const p of plain) {
      assert.equal(p.shape, SHAPE.DOT);
      assert.ok(p.size < SETTINGS.symbol.size);
    }
    assert.deepEqual(plain[0].colour, f32rgb(SETTINGS.altitudeBands[5].colour));
    for (const e of list.slice(5)) assert.deepEqual(e.colour, f32rgb(SETTINGS.emergencyColour));
  });

  test('only the given slots are drawn, positions relative to any anchor', () => {
    const store = storeOf(rows);
    for (const a of [[0, 0], [0.5, 0.5], mercator(-0.45, 51.47)]) {
      const list = instances(buildSymbols(store, [store.slot(1)], style(), null, a));
      assert.equal(list.length, 1);
      const [x, y] = mercator(-0.45, 51.47);
      assert.equal(list[0].x, f32(x - a[0]));
      assert.equal(list[0].y, f32(y - a[1]));
    }
    const empty = buildSymbols(store, [], style(), null, anchor);
    assert.equal(empty.count, 0);
    assert.equal(empty.data.length, 0);
  });

  test('anchoring keeps precision that absolute float32 positions lose', () => {
    const store = storeOf([{ id: 1, lat: 51.470001, lon: -0.454301 },
      { id: 2, lat: 51.470002, lon: -0.454302 }]);
    const anchor2 = mercator(-0.4543, 51.47);
    const list = instances(buildSymbols(store, [...store.slots()], style(), null, anchor2));
    assert.notEqual(list[0].x, list[1].x, 'about 10 cm apart stays apart');
    assert.notEqual(list[0].y, list[1].y);
  });
});

describe('buildTrails', () => {
  function trailStore() {
    const store = new TrackStore(4, 4);
    const frame = (rows, type = 'delta') => store.apply(decodeFrame(trackFrame(rows, { type })));
    frame([{ id: 1, lon: 0, lat: 0 }, { id: 2, lon: 5, lat: 5 }, { id: 3 }, { id: 4, lon: 0, lat: 40 }],
      'snapshot');
    frame([{ id: 1, lon: 1, lat: 0 }, { id: 4, lon: 1, lat: 40 }]);
    frame([{ id: 1, lon: 2, lat: 1 }, { id: 4, lon: 2, lat: 40 }]);
    for (let k = 3; k <= 6; k += 1) frame([{ id: 4, lon: k, lat: 40 }]);
    return store;
  }

  test('segments: trailLen - 1 per slot (aircraft at its last kept point); 2 vertices each', () => {
    const store = trailStore();
    const slots = [1, 2, 3, 4].map((id) => store.slot(id));
    assert.deepEqual(slots.map((s) => store.trailLen[s]), [3, 1, 0, 4]);
    const out = buildTrails(store, slots, [0, 0]);
    const segments = 2 + 0 + 0 + 3;
    assert.equal(out.count, 2 * segments);
    assert.equal(out.data.length, 4 * segments);
    assert.equal(buildTrails(store, [store.slot(2), store.slot(3)], [0, 0]).count, 0);
    assert.equal(buildTrails(store, [], [0, 0]).data.length, 0);
  });

  test('segments join consecutive points, oldest first, ending at the aircraft', () => {
    const store = trailStore();
    const anchor = mercator(1, 20);
    const at = (lon, lat) => {
      const [x, y] = mercator(lon, lat);
      return [f32(x - anchor[0]), f32(y - anchor[1])];
    };
    const { data } = buildTrails(store, [store.slot(1), store.slot(4)], anchor);
    const segs = [];
    for (let o = 0; o < data.length; o += 4) segs.push([...data.subarray(o, o + 4)]);
    const seg = (a, b) => [...at(...a), ...at(...b)];
    assert.deepEqual(segs, [
      seg([0, 0], [1, 0]), seg([1, 0], [2, 1]),
      // track 4 went 0..6 along 40°N; its ring of 4 keeps 3..6
      seg([3, 40], [4, 40]), seg([4, 40], [5, 40]), seg([5, 40], [6, 40]),
    ]);
    const s4 = store.slot(4);
    assert.deepEqual(segs.at(-1).slice(2), at(store.columns.lon[s4], store.columns.lat[s4]));
  });
});

describe('buildTrails to a current position newer than the last kept point', () => {
  test('one more segment, from the last kept point to the aircraft', () => {
    const store = new TrackStore(4, 4, 10); // a point kept every 10 s
    const at = (now, lon) => store.apply(decodeFrame(trackFrame([{ id: 1, lon, lat: 0,
      seen_pos: 0 }], { now, type: now === 1000 ? 'snapshot' : 'delta' })));
    at(1000, 0);
    at(1010, 1);
    at(1015, 2); // not kept: the aircraft is ahead of its trail
    const slot = store.slot(1);
    assert.equal(store.trailLen[slot], 2);
    const anchor = [0.5, 0.5];
    const { data, count } = buildTrails(store, [slot], anchor);
    assert.equal(count, 4, 'two segments, four vertices');
    const x = (lon) => f32(mercator(lon, 0)[0] - anchor[0]);
    const y = f32(mercator(0, 0)[1] - anchor[1]);
    assert.deepEqual([...data], [x(0), y, x(1), y, x(1), y, x(2), y]);
  });
});

describe('slotsInBounds', () => {
  test('keeps the slots inside [west, south, east, north], edges included, order kept', () => {
    const store = storeOf([
      { id: 1, lon: 0, lat: 0 }, { id: 2, lon: 10, lat: 10 }, { id: 3, lon: -10, lat: 5 },
      { id: 4, lon: 5, lat: -10 }, { id: 5, lon: 10.0001, lat: 0 }, { id: 6, lon: 5, lat: 10.5 },
      { id: 7 },
    ]);
    const slots = [7, 6, 5, 4, 3, 2, 1].map((id) => store.slot(id));
    const inside = slotsInBounds(store, slots, [-10, -10, 10, 10]).map((s) => store.ids[s]);
    assert.deepEqual(inside, [4, 3, 2, 1]);
    assert.deepEqual(slotsInBounds(store, slots, [20, 20, 30, 30]), []);
    assert.deepEqual(slotsInBounds(store, [], [-180, -90, 180, 90]), []);
  });
});
