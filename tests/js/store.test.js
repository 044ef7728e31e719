import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  TrackStore, formatIcao, formatSquawk, slotRuns,
} from '../../skyshare/web/static/store.js';
import { decodeFrame } from '../../skyshare/web/static/wire.js';
import { makeFrame, trackFrame, prng, SOURCES, EMERGENCIES, FLAGS } from './frames.js';

// apply a frame of `rows` ({id, …fields}) to the store; options: type, removed, now, …
const apply = (store, rows, options = {}) => store.apply(decodeFrame(trackFrame(rows,
  { type: 'delta', ...options })));

const idsOf = (store) => [...store.slots()].map((s) => store.ids[s]).sort((a, b) => a - b);

const close = (actual, expected, eps = 1e-6, what = '') => {
  assert.ok(Math.abs(actual - expected) <= eps, `${what} ${actual} is not ${expected} ± ${eps}`);
};

describe('TrackStore.apply', () => {
  test('returns the number of tracks touched and keeps the frame version and time', () => {
    const store = new TrackStore(4);
    const n = apply(store, [{ id: 1 }, { id: 2 }], { type: 'snapshot', version: 17, time: 123.5 });
    assert.equal(n, 2);
    assert.equal(store.version, 17);
    assert.equal(store.time, 123.5);
    assert.equal(store.size, 2);
  });

  test('a snapshot keeps only its ids', () => {
    const store = new TrackStore(4);
    apply(store, [{ id: 1 }, { id: 2 }, { id: 3 }], { type: 'snapshot' });
    assert.deepEqual(idsOf(store), [1, 2, 3]);
    apply(store, [{ id: 2, alt: 1000 }, { id: 4 }], { type: 'snapshot' });
    assert.deepEqual(idsOf(store), [2, 4]);
    assert.equal(store.size, 2);
    assert.equal(store.slot(1), undefined);
    assert.equal(store.slot(3), undefined);
    assert.equal(store.record(store.slot(2)).alt, 1000);
    // an empty snapshot empties the store
    apply(store, [], { type: 'snapshot' });
    assert.equal(store.size, 0);
    assert.deepEqual(idsOf(store), []);
  });

  test('a delta updates known tracks and adds new ones, leaving the others alone', () => {
    const store = new TrackStore(4);
    apply(store, [{ id: 1, alt: 1000, callsign: 'AAA1' }, { id: 2, alt: 2000 }],
      { type: 'snapshot' });
    const slot2 = store.slot(2);
    apply(store, [{ id: 2, alt: 2500, callsign: 'BBB2' }, { id: 5, alt: 500 }]);
    assert.deepEqual(idsOf(store), [1, 2, 5]);
    assert.equal(store.slot(2), slot2, 'a known track keeps its slot');
    assert.equal(store.record(store.slot(1)).alt, 1000);
    assert.equal(store.record(store.slot(1)).callsign, 'AAA1');
    assert.equal(store.record(slot2).alt, 2500);
    assert.equal(store.record(slot2).callsign, 'BBB2');
    assert.equal(store.record(store.slot(5)).alt, 500);
  });

  test('removed ids disappear; unknown removed ids are ignored', () => {
    const store = new TrackStore(4);
    apply(store, [{ id: 1 }, { id: 2 }, { id: 3 }], { type: 'snapshot' });
    const slot = store.slot(2);
    apply(store, [], { removed: [2, 99] });
    assert.deepEqual(idsOf(store), [1, 3]);
    assert.equal(store.size, 2);
    assert.equal(store.slot(2), undefined);
    assert.equal(store.live[slot], 0);
    // removed and changed in one delta: the others stay
    apply(store, [{ id: 7 }], { removed: [1] });
    assert.deepEqual(idsOf(store), [3, 7]);
  });

  test('slots are reused after release, starting empty', () => {
    const store = new TrackStore(4, 8);
    apply(store, [
      { id: 1, lat: 1, lon: 1 },
      { id: 2, lat: 2, lon: 2, callsign: 'OLD', alt: 3000, squawk: 7700 },
      { id: 3, lat: 3, lon: 3 },
    ], { type: 'snapshot' });
    apply(store, [{ id: 2, lat: 2.5, lon: 2.5 }]);
    const freed = store.slot(2);
    assert.equal(store.trail(freed).length, 2);
    apply(store, [], { removed: [2] });
    const high = store.high;
    // a frame with only some columns shows what a reused slot starts with
    store.apply(decodeFrame(makeFrame({ type: 'delta', count: 1, sources: SOURCES,
      emergencies: EMERGENCIES, flags: FLAGS, columns: [
        { name: 'id', type: 'u32', values: [9] },
        { name: 'lat', type: 'f64', values: [9] }, { name: 'lon', type: 'f64', values: [9] },
      ] })));
    assert.equal(store.slot(9), freed, 'the new track takes the freed slot');
    assert.equal(store.high, high, 'no new slot was used');
    const r = store.record(freed);
    assert.equal(r.id, 9);
    assert.equal(r.callsign, null);
    assert.equal(r.alt, null);
    assert.equal(r.squawk, null);
    assert.equal(r.icao24, null);
    assert.deepEqual(r.trail, [[9, 9]], 'the old trail is gone');
    assert.deepEqual(idsOf(store), [1, 3, 9]);
  });

  test('a full store reuses released slots before growing', () => {
    const store = new TrackStore(4, 4);
    apply(store, [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }], { type: 'snapshot' });
    apply(store, [{ id: 5 }, { id: 6 }], { removed: [1, 3] });
    assert.equal(store.capacity, 4);
    assert.equal(store.high, 4);
    assert.deepEqual(idsOf(store), [2, 4, 5, 6]);
    apply(store, [{ id: 7 }]);
    assert.equal(store.capacity, 8, 'grows once every slot is taken');
    assert.deepEqual(idsOf(store), [2, 4, 5, 6, 7]);
  });

  test('capacity grows past the initial capacity, values preserved', () => {
    const store = new TrackStore(6, 4);
    assert.equal(store.capacity, 4);
    const row = (id) => ({ id, lat: id / 10, lon: -id / 10, alt: id * 100, callsign: `T${id}`,
      icao24: 0x100000 + id, sensors: 1n << BigInt(id % 64), messages: id * 3 });
    // first a few tracks with trails, then enough new ones to grow several times
    apply(store, [1, 2, 3].map(row), { type: 'snapshot' });
    apply(store, [1, 2, 3].map((id) => ({ ...row(id), lat: id })));
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    apply(store, ids.map((id) => (id <= 3 ? { ...row(id), lat: id } : row(id))));
    assert.ok(store.capacity >= 100, `capacity ${store.capacity}`);
    assert.equal(store.size, 100);
    assert.deepEqual(idsOf(store), ids);
    for (const id of ids) {
      const r = store.record(store.slot(id));
      assert.equal(r.id, id);
      assert.equal(r.alt, id * 100);
      assert.equal(r.callsign, `T${id}`);
      assert.equal(r.icao24, (0x100000 + id).toString(16));
      assert.equal(r.messages, id * 3);
      assert.equal(r.lon, -id / 10);
      if (id <= 3) {
        assert.equal(r.lat, id);
        assert.deepEqual(r.trail, [[-id / 10, id / 10], [-id / 10, id]], `trail of ${id}`);
      } else {
        assert.deepEqual(r.trail, [[-id / 10, id / 10]]);
      }
    }
    // and still grows in a snapshot larger than everything before
    apply(store, Array.from({ length: 300 }, (_, i) => row(i + 1)), { type: 'snapshot' });
    assert.equal(store.size, 300);
    assert.equal(store.record(store.slot(300)).alt, 30000);
    assert.equal(store.record(store.slot(1)).alt, 100);
  });
});

describe('TrackStore trails', () => {
  test('a ring buffer of trailPoints points, oldest first', () => {
    const store = new TrackStore(3);
    const positions = [[10, 50], [11, 51], [12, 52], [13, 53], [14, 54]];
    positions.forEach(([lon, lat], k) => {
      apply(store, [{ id: 1, lon, lat }], { type: k ? 'delta' : 'snapshot' });
      const expected = positions.slice(Math.max(0, k - 2), k + 1);
      assert.deepEqual(store.trail(store.slot(1)), expected, `after ${k + 1} positions`);
    });
    assert.deepEqual(store.record(store.slot(1)).trail, [[12, 52], [13, 53], [14, 54]]);
  });

  test('an unchanged position adds no point; a changed one does', () => {
    const store = new TrackStore(5);
    apply(store, [{ id: 1, lon: 1, lat: 2, alt: 100 }], { type: 'snapshot' });
    apply(store, [{ id: 1, lon: 1, lat: 2, alt: 200 }]);
    apply(store, [{ id: 1, lon: 1, lat: 2, alt: 300 }]);
    assert.deepEqual(store.trail(store.slot(1)), [[1, 2]]);
    apply(store, [{ id: 1, lon: 1, lat: 2.5 }]);
    apply(store, [{ id: 1, lon: 1.5, lat: 2.5 }]);
    assert.deepEqual(store.trail(store.slot(1)), [[1, 2], [1, 2.5], [1.5, 2.5]]);
    // back to an earlier (not the last) position is a move
    apply(store, [{ id: 1, lon: 1, lat: 2 }]);
    assert.equal(store.trail(store.slot(1)).length, 4);
  });

  test('an unchanged position at a full ring adds no point either', () => {
    const store = new TrackStore(2);
    apply(store, [{ id: 1, lon: 0, lat: 0 }], { type: 'snapshot' });
    apply(store, [{ id: 1, lon: 1, lat: 1 }]);
    apply(store, [{ id: 1, lon: 2, lat: 2 }]);
    apply(store, [{ id: 1, lon: 2, lat: 2 }]);
    assert.deepEqual(store.trail(store.slot(1)), [[1, 1], [2, 2]]);
  });

  test('no position, no point; trails of other tracks are independent', () => {
    const store = new TrackStore(4);
    apply(store, [{ id: 1 }, { id: 2, lon: 5, lat: 6 }, { id: 3, lon: NaN, lat: 1 }],
      { type: 'snapshot' });
    assert.deepEqual(store.trail(store.slot(1)), []);
    assert.deepEqual(store.trail(store.slot(2)), [[5, 6]]);
    assert.deepEqual(store.trail(store.slot(3)), []);
    apply(store, [{ id: 1, lon: 7, lat: 8 }]);
    assert.deepEqual(store.trail(store.slot(1)), [[7, 8]]);
    assert.deepEqual(store.trail(store.slot(2)), [[5, 6]]);
  });

  test('with trailEveryS, kept points are at least that many seconds of last_pos apart', () => {
    const store = new TrackStore(4, 4, 10);
    const at = (now, lon) => apply(store, [{ id: 1, lon, lat: 50, seen_pos: 0 }],
      { now, type: now === 1000 ? 'snapshot' : 'delta' });
    at(1000, 0);
    at(1005, 1); // 5 s after the last kept point: not kept
    const slot = store.slot(1);
    assert.deepEqual(store.trail(slot), [[0, 50]]);
    assert.equal(store.record(slot).lon, 1, 'the current position is still the newest');
    at(1010, 2); // 10 s: kept
    at(1015, 3);
    at(1021, 4); // 11 s: kept
    assert.deepEqual(store.trail(slot), [[0, 50], [2, 50], [4, 50]]);
  });

  test('randomised: the trail is the last trailPoints distinct consecutive positions', () => {
    const rand = prng(4242);
    for (const P of [1, 2, 3, 7, 12]) {
      const store = new TrackStore(P, 2);
      const expected = new Map(); // id -> list of positions
      for (let step = 0; step < 60; step += 1) {
        const rows = [];
        for (let id = 1; id <= 5; id += 1) {
          if (rand() < 0.3) continue;
          const previous = expected.get(id)?.at(-1);
          const same = previous && rand() < 0.3;
          const pos = same ? previous : [rand.int(-180, 180), rand.int(-80, 80)];
          rows.push({ id, lon: pos[0], lat: pos[1] });
          const list = expected.get(id) ?? [];
          const last = list.at(-1);
          if (!last || last[0] !== pos[0] || last[1] !== pos[1]) list.push(pos);
          expected.set(id, list);
        }
        apply(store, rows, { type: step ? 'delta' : 'snapshot' });
      }
      for (const [id, list] of expected) {
        assert.deepEqual(store.trail(store.slot(id)), list.slice(-P), `P=${P} id=${id}`);
      }
    }
  });
});

describe('TrackStore.record', () => {
  const sensors = Array.from({ length: 48 }, (_, i) => `s${i}`);
  const full = {
    id: 77, icao24: 0x00abcd, callsign: 'DLH4AB', squawk: 7700, category: 0xa3, emergency: 5,
    flags: FLAGS.on_ground | FLAGS.coasting | FLAGS.confirmed | FLAGS.primary_only,
    lat: 50.0379, lon: 8.5622,
    alt: 1500, alt_geo: 1625.5, groundspeed: 142.25, track: 251.5, vertical_rate: -640,
    pos_sigma: 12.5, nic: 8, nacp: 9, sil: 3, rssi: -21.5, messages: 1234,
    sensors: (1n << 40n) | (1n << 2n) | 1n, sources: (1 << 1) | (1 << 5),
    partners: (1 << 2) | 1,
  };
  const partners = ['west', 'north', 'east'];

  test('formats every field', () => {
    const store = new TrackStore(4);
    apply(store, [full], { type: 'snapshot', sensors, partners });
    const r = store.record(store.slot(77));
    assert.equal(r.id, 77);
    assert.equal(r.icao24, '00abcd');
    assert.equal(r.callsign, 'DLH4AB');
    assert.equal(r.squawk, '7700');
    assert.equal(r.category, 'A3');
    assert.equal(r.emergency, 'unlawful');
    assert.equal(r.lat, 50.0379);
    assert.equal(r.lon, 8.5622);
    assert.equal(r.alt, 1500);
    assert.equal(r.alt_geo, 1625.5);
    assert.equal(r.groundspeed, 142.25);
    assert.equal(r.track, 251.5);
    assert.equal(r.vertical_rate, -640);
    assert.equal(r.pos_sigma, 12.5);
    assert.equal(r.nic, 8);
    assert.equal(r.nacp, 9);
    assert.equal(r.sil, 3);
    assert.equal(r.rssi, -21.5);
    assert.equal(r.on_ground, true);
    assert.equal(r.coasting, true);
    assert.equal(r.primary_only, true);
    assert.equal(r.exercise, false);
    assert.equal(r.messages, 1234);
    assert.deepEqual(r.sensors, ['s0', 's2', 's40']);
    assert.deepEqual(r.sources, ['adsb', 'mlat']);
    assert.deepEqual(r.partners, ['west', 'east']);
    assert.deepEqual(r.trail, [[8.5622, 50.0379]]);
  });

  test('partners are a 16-bit column named by the header table', () => {
    const store = new TrackStore(4);
    const table = Array.from({ length: 16 }, (_, i) => `p${i}`);
    apply(store, [{ id: 1, partners: (1 << 15) | 2 }, { id: 2 }],
      { type: 'snapshot', partners: table });
    assert.ok(store.columns.partners instanceof Uint16Array);
    assert.deepEqual(store.meta.partners, table);
    assert.deepEqual(store.record(store.slot(1)).partners, ['p1', 'p15']);
    assert.deepEqual(store.record(store.slot(2)).partners, []);
  });

  test('a frame with no partner table (a node without federation, or an older one)', () => {
    const store = new TrackStore(4);
    apply(store, [{ id: 1, partners: 0 }], { type: 'snapshot', partners: undefined });
    assert.deepEqual(store.meta.partners, []);
    assert.deepEqual(store.record(store.slot(1)).partners, []);
  });

  test('sensors are kept as a 64-bit column', () => {
    const store = new TrackStore(4);
    apply(store, [{ id: 1, sensors: (1n << 63n) | 2n }], { type: 'snapshot', sensors:
      Array.from({ length: 64 }, (_, i) => `s${i}`) });
    assert.ok(store.columns.sensors instanceof BigUint64Array);
    assert.equal(store.columns.sensors[store.slot(1)], (1n << 63n) | 2n);
    assert.deepEqual(store.record(store.slot(1)).sensors, ['s1', 's63']);
  });

  test('unknown values are null: no address, no squawk, no category, NaN, u8 255', () => {
    const store = new TrackStore(4);
    apply(store, [{ id: 3 }], { type: 'snapshot', sensors });
    const r = store.record(store.slot(3));
    for (const key of ['icao24', 'callsign', 'squawk', 'category', 'lat', 'lon', 'alt', 'alt_geo',
      'groundspeed', 'track', 'vertical_rate', 'pos_sigma', 'nic', 'nacp', 'sil', 'rssi', 'age',
      'seen', 'seen_pos']) {
      assert.equal(r[key], null, key);
    }
    assert.equal(r.emergency, 'none');
    assert.equal(r.on_ground, false);
    assert.equal(r.coasting, false);
    assert.equal(r.exercise, false);
    assert.equal(r.messages, 0);
    assert.deepEqual(r.sensors, []);
    assert.deepEqual(r.sources, []);
    assert.deepEqual(r.partners, []);
    assert.deepEqual(r.trail, []);
  });

  test('zero values are not unknown', () => {
    const store = new TrackStore(4);
    apply(store, [{ id: 4, icao24: 0, squawk: 0, lat: 0, lon: 0, alt: 0, vertical_rate: 0,
      nic: 0, track: 0 }], { type: 'snapshot' });
    const r = store.record(store.slot(4));
    assert.equal(r.icao24, '000000');
    assert.equal(r.squawk, '0000');
    assert.equal(r.lat, 0);
    assert.equal(r.lon, 0);
    assert.equal(r.alt, 0);
    assert.equal(r.vertical_rate, 0);
    assert.equal(r.nic, 0);
    assert.equal(r.track, 0);
  });

  test('low category and squawk codes are zero padded', () => {
    const store = new TrackStore(4);
    apply(store, [{ id: 1, category: 0x0a, squawk: 7, icao24: 0xffffff, emergency: 1 }],
      { type: 'snapshot' });
    const r = store.record(store.slot(1));
    assert.equal(r.category, '0A');
    assert.equal(r.squawk, '0007');
    assert.equal(r.icao24, 'ffffff');
    assert.equal(r.emergency, 'general');
  });

  test('flags follow the header table, not fixed bits', () => {
    const store = new TrackStore(4);
    apply(store, [{ id: 1, flags: 1 }], { type: 'snapshot',
      flags: { exercise: 4, on_ground: 1, coasting: 2 } });
    const r = store.record(store.slot(1));
    assert.equal(r.on_ground, true);
    assert.equal(r.exercise, false);
    assert.equal(r.coasting, false);
    assert.equal(store.hasFlag(store.slot(1), 'on_ground'), true);
    assert.equal(store.hasFlag(store.slot(1), 'no_such_flag'), false);
    // the exercise flag with the node's table
    apply(store, [{ id: 2, flags: FLAGS.exercise }]);
    assert.equal(store.record(store.slot(2)).exercise, true);
    assert.equal(store.record(store.slot(2)).on_ground, false);
  });

  test('sources and emergencies follow the header tables', () => {
    const store = new TrackStore(4);
    apply(store, [{ id: 1, sources: 0b101, emergency: 2 }], { type: 'snapshot',
      sources: ['x', 'y', 'z'], emergencies: ['none', 'first', 'second'] });
    const r = store.record(store.slot(1));
    assert.deepEqual(r.sources, ['x', 'z']);
    assert.equal(r.emergency, 'second');
  });

  test('times: seconds before the frame\'s now, reported relative to the store\'s now()', (t) => {
    let clock = 1_000_000_000_000; // this page's Date.now(), ms (far from the node's clock)
    t.mock.method(Date, 'now', () => clock);
    const store = new TrackStore(4);
    const now = 1_700_000_000.5;
    apply(store, [{ id: 1, age: 300, seen: 1.5, seen_pos: 4 }, { id: 2, age: 10 }],
      { type: 'snapshot', now });
    close(store.now(), now, 1e-6, 'store.now()');
    let r = store.record(store.slot(1));
    close(r.age, 300, 1e-6, 'age');
    close(r.seen, 1.5, 1e-6, 'seen');
    close(r.seen_pos, 4, 1e-6, 'seen_pos');
    assert.equal(store.record(store.slot(2)).seen, null);
    // 5 s later on this page's clock
    clock += 5000;
    close(store.now(), now + 5, 1e-6, 'store.now() later');
    r = store.record(store.slot(1));
    close(r.age, 305, 1e-6, 'age later');
    close(r.seen, 6.5, 1e-6, 'seen later');
    close(r.seen_pos, 9, 1e-6, 'seen_pos later');
    // a later frame re-bases the clock; untouched tracks keep their absolute times
    apply(store, [{ id: 2, age: 20, seen: 0 }], { now: now + 10 });
    close(store.now(), now + 10, 1e-6, 'store.now() after the second frame');
    close(store.record(store.slot(1)).seen, 11.5, 1e-6, 'seen of the untouched track');
    close(store.record(store.slot(2)).seen, 0, 1e-6, 'seen of the updated track');
    close(store.record(store.slot(2)).age, 20, 1e-6, 'age of the updated track');
  });

  test('times are never negative', (t) => {
    t.mock.method(Date, 'now', () => 5_000_000);
    const store = new TrackStore(4);
    apply(store, [{ id: 1, seen: -3, age: 2 }], { type: 'snapshot', now: 1000 });
    assert.equal(store.record(store.slot(1)).seen, 0);
    close(store.record(store.slot(1)).age, 2);
  });
});

describe('formatIcao and formatSquawk', () => {
  test('formatIcao: 6 lower-case hex digits or null', () => {
    assert.equal(formatIcao(0x4ca2b3), '4ca2b3');
    assert.equal(formatIcao(0x1), '000001');
    assert.equal(formatIcao(0xffffffff), null);
  });
  test('formatSquawk: 4 digits or null', () => {
    assert.equal(formatSquawk(1200), '1200');
    assert.equal(formatSquawk(21), '0021');
    assert.equal(formatSquawk(-1), null);
  });
});

describe('slotRuns', () => {
  test('runs of consecutive slots as [row, end, slot]', () => {
    assert.deepEqual(slotRuns([]), []);
    assert.deepEqual(slotRuns([4]), [[0, 1, 4]]);
    assert.deepEqual(slotRuns([0, 1, 2]), [[0, 3, 0]]);
    assert.deepEqual(slotRuns(Int32Array.from([5, 6, 2, 3, 9, 9])),
      [[0, 2, 5], [2, 4, 2], [4, 5, 9], [5, 6, 9]]);
    assert.deepEqual(slotRuns([3, 2, 1]), [[0, 1, 3], [1, 2, 2], [2, 3, 1]]);
  });

  test('randomised: the runs cover every row once and give back the slots', () => {
    const rand = prng(99);
    for (let round = 0; round < 200; round += 1) {
      const n = rand.int(0, 50);
      const slots = [];
      while (slots.length < n) {
        const start = rand.int(0, 100);
        for (let k = rand.int(1, 6); k > 0 && slots.length < n; k -= 1) slots.push(start + k);
      }
      const runs = slotRuns(Int32Array.from(slots));
      const back = [];
      let expectRow = 0;
      for (const [row, end, slot] of runs) {
        assert.equal(row, expectRow);
        assert.ok(end > row);
        for (let i = row; i < end; i += 1) back.push(slot + (i - row));
        expectRow = end;
      }
      assert.equal(expectRow, n);
      assert.deepEqual(back, slots);
    }
  });
});

describe('TrackStore against a simple model', () => {
  test('randomised snapshots, deltas and removals keep every field of every track', (t) => {
    t.mock.method(Date, 'now', () => 1_700_000_000_000);
    const rand = prng(5150);
    const store = new TrackStore(5, 2);
    const model = new Map(); // id -> row
    const trails = new Map(); // id -> positions
    const rowFor = (id) => ({
      id, alt: rand() < 0.1 ? NaN : rand.int(-100, 45000), lat: rand() < 0.1 ? NaN : rand.int(-80, 80),
      lon: rand.int(-180, 180), callsign: rand() < 0.2 ? null : `C${rand.int(0, 99999)}`,
      squawk: rand() < 0.2 ? -1 : rand.int(0, 7777), icao24: rand.int(0, 0xffffff),
      messages: rand.int(0, 1e6), sources: rand.int(0, 127), sensors: BigInt(rand.int(0, 15)),
      partners: rand.int(0, 0xffff),
    });
    const move = (id, row) => {
      if (!Number.isFinite(row.lat) || !Number.isFinite(row.lon)) return;
      const list = trails.get(id) ?? [];
      const last = list.at(-1);
      if (!last || last[0] !== row.lon || last[1] !== row.lat) list.push([row.lon, row.lat]);
      trails.set(id, list.slice(-5));
    };
    for (let step = 0; step < 80; step += 1) {
      const snapshot = step === 0 || rand() < 0.1;
      const rows = [];
      const removed = [];
      if (snapshot) {
        const ids = [...new Set(Array.from({ length: rand.int(0, 60) }, () => rand.int(1, 120)))]
          .sort((a, b) => a - b);
        for (const id of [...model.keys()]) {
          if (!ids.includes(id)) { model.delete(id); trails.delete(id); }
        }
        for (const id of ids) rows.push(model.has(id) && rand() < 0.5 ? model.get(id) : rowFor(id));
      } else {
        for (const id of model.keys()) if (rand() < 0.2) removed.push(id);
        for (const id of removed) { model.delete(id); trails.delete(id); }
        const ids = [...new Set(Array.from({ length: rand.int(0, 30) }, () => rand.int(1, 120)))]
          .filter((id) => !removed.includes(id)).sort((a, b) => a - b);
        for (const id of ids) rows.push(rowFor(id));
      }
      for (const row of rows) {
        if (model.get(row.id) !== row) trails.set(row.id, model.has(row.id) ? trails.get(row.id) : []);
        model.set(row.id, row);
        move(row.id, row);
      }
      apply(store, rows, { type: snapshot ? 'snapshot' : 'delta', removed });
      assert.equal(store.size, model.size, `step ${step}`);
      assert.deepEqual(idsOf(store), [...model.keys()].sort((a, b) => a - b));
      for (const [id, row] of model) {
        const r = store.record(store.slot(id));
        const what = `step ${step} id ${id}`;
        assert.equal(r.alt, Number.isFinite(row.alt) ? row.alt : null, `${what} alt`);
        assert.equal(r.lat, Number.isFinite(row.lat) ? row.lat : null, `${what} lat`);
        assert.equal(r.lon, row.lon, `${what} lon`);
        assert.equal(r.callsign, row.callsign, `${what} callsign`);
        assert.equal(r.squawk, formatSquawk(row.squawk), `${what} squawk`);
        assert.equal(r.icao24, formatIcao(row.icao24), `${what} icao24`);
        assert.equal(r.messages, row.messages, `${what} messages`);
        assert.equal(store.columns.sources[store.slot(id)], row.sources, `${what} sources`);
        assert.equal(store.columns.sensors[store.slot(id)], row.sensors, `${what} sensors`);
        assert.equal(store.columns.partners[store.slot(id)], row.partners, `${what} partners`);
        assert.deepEqual(r.trail, trails.get(id) ?? [], `${what} trail`);
      }
    }
  });
});
