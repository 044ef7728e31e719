import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { decodeFrame, ascii8, ascii8Column, WireError } from '../../skyshare/web/static/wire.js';
import { makeFrame, encodeColumn, bodyStart, prng, WIDTHS } from './frames.js';

const TYPED = {
  u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, u64: BigUint64Array, i16: Int16Array,
  f32: Float32Array, f64: Float64Array, ascii8: Uint8Array,
};

// decoding `buffer` must throw a WireError (and nothing else)
function assertWireError(buffer, message) {
  assert.throws(() => decodeFrame(buffer), (error) => {
    assert.ok(error instanceof WireError, `expected WireError, got ${error?.constructor?.name}: ${error?.message}`);
    assert.ok(error instanceof Error);
    return true;
  }, message);
}

const sample = () => makeFrame({
  type: 'delta', version: 42, time: 1_700_000_000.25, now: 1_700_000_001.5,
  sensors: ['north', 'south'], sources: ['unknown', 'adsb'], emergencies: ['none', 'general'],
  flags: { on_ground: 2 },
  count: 3,
  columns: [
    { name: 'id', type: 'u32', values: [7, 8, 4_000_000_000] },
    { name: 'callsign', type: 'ascii8', values: ['BAW123', null, 'ABCDEFGH'] },
    { name: 'squawk', type: 'i16', values: [7700, -1, 32767] },
    { name: 'category', type: 'u8', values: [0xa3, 0, 255] },
    { name: 'flags', type: 'u16', values: [2, 0, 65535] },
    { name: 'lat', type: 'f64', values: [51.4700123456789, NaN, -33.9] },
    { name: 'alt', type: 'f32', values: [35000, NaN, -1200.5] },
    { name: 'sensors', type: 'u64', values: [1n, 0n, (1n << 63n) | 5n] },
  ],
  removed: [11, 12],
});

describe('the frame builder lays frames out as documented', () => {
  test('preamble, 8-byte aligned body and column blocks', () => {
    const buffer = sample();
    const bytes = new Uint8Array(buffer);
    const view = new DataView(buffer);
    assert.equal(String.fromCharCode(...bytes.subarray(0, 4)), 'SKYP');
    assert.equal(view.getUint16(4, true), 1);
    assert.equal(view.getUint16(6, true), 0);
    const body = bodyStart(buffer);
    assert.equal(body % 8, 0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, body)));
    assert.equal(bytes[body - 1] === 0x20 || bytes[body - 1] === 0x7d, true);
    for (const column of header.columns) assert.equal(column.offset % 8, 0);
    assert.equal(header.removed.offset % 8, 0);
    // the callsign block starts after the 12 bytes of ids padded to 16
    assert.deepEqual(header.columns.slice(0, 2).map((c) => c.offset), [0, 16]);
    assert.equal(String.fromCharCode(...bytes.subarray(body + 16, body + 24)), 'BAW123  ');
  });
});

describe('decodeFrame', () => {
  test('reads the header fields', () => {
    const frame = decodeFrame(sample());
    assert.equal(frame.type, 'delta');
    assert.equal(frame.version, 42);
    assert.equal(frame.time, 1_700_000_000.25);
    assert.equal(frame.now, 1_700_000_001.5);
    assert.equal(frame.count, 3);
    assert.deepEqual(frame.sensors, ['north', 'south']);
    assert.deepEqual(frame.sources, ['unknown', 'adsb']);
    assert.deepEqual(frame.emergencies, ['none', 'general']);
    assert.deepEqual(frame.flags, { on_ground: 2 });
  });

  test('gives each column as a typed array of its type with the values put in', () => {
    const frame = decodeFrame(sample());
    const c = frame.columns;
    assert.deepEqual(Object.keys(c).sort(),
      ['alt', 'callsign', 'category', 'flags', 'id', 'lat', 'sensors', 'squawk']);
    assert.ok(c.id instanceof Uint32Array);
    assert.deepEqual([...c.id], [7, 8, 4_000_000_000]);
    assert.ok(c.squawk instanceof Int16Array);
    assert.deepEqual([...c.squawk], [7700, -1, 32767]);
    assert.ok(c.category instanceof Uint8Array);
    assert.deepEqual([...c.category], [0xa3, 0, 255]);
    assert.ok(c.flags instanceof Uint16Array);
    assert.deepEqual([...c.flags], [2, 0, 65535]);
    assert.ok(c.lat instanceof Float64Array);
    assert.deepEqual([...c.lat], [51.4700123456789, NaN, -33.9]);
    assert.ok(c.alt instanceof Float32Array);
    assert.deepEqual([...c.alt], [35000, NaN, -1200.5]);
    assert.ok(c.sensors instanceof BigUint64Array);
    assert.deepEqual([...c.sensors], [1n, 0n, (1n << 63n) | 5n]);
    assert.ok(c.callsign instanceof Uint8Array);
    assert.equal(c.callsign.length, 24);
    assert.ok(frame.removed instanceof Uint32Array);
    assert.deepEqual([...frame.removed], [11, 12]);
  });

  test('views the buffer in place (no copy)', () => {
    const buffer = sample();
    const frame = decodeFrame(buffer);
    assert.equal(frame.columns.id.buffer, buffer);
    assert.equal(frame.columns.id.byteOffset, bodyStart(buffer));
  });

  test('an empty frame: no rows, nothing removed', () => {
    const frame = decodeFrame(makeFrame({ count: 0, columns: [
      { name: 'id', type: 'u32', values: [] }, { name: 'callsign', type: 'ascii8', values: [] },
    ] }));
    assert.equal(frame.count, 0);
    assert.equal(frame.columns.id.length, 0);
    assert.equal(frame.columns.callsign.length, 0);
    assert.equal(frame.removed.length, 0);
    assert.equal(frame.type, 'snapshot');
  });

  test('a header with multi-byte UTF-8 text is read as UTF-8', () => {
    const frame = decodeFrame(makeFrame({ count: 1, sensors: ['Zürich 東'],
      columns: [{ name: 'id', type: 'u32', values: [5] }] }));
    assert.deepEqual(frame.sensors, ['Zürich 東']);
    assert.deepEqual([...frame.columns.id], [5]);
  });
});

describe('ascii8', () => {
  const bytes = new Uint8Array(decodeFrame(makeFrame({ count: 5, columns: [{
    name: 'callsign', type: 'ascii8', values: ['BAW123', null, 'ABCDEFGH', 'X', 'A B'],
  }] })).columns.callsign);

  test('trims the space padding', () => {
    assert.equal(ascii8(bytes, 0), 'BAW123');
    assert.equal(ascii8(bytes, 3), 'X');
  });
  test('a full 8-character callsign', () => assert.equal(ascii8(bytes, 2), 'ABCDEFGH'));
  test('all blank is null', () => assert.equal(ascii8(bytes, 1), null));
  test('keeps inner spaces', () => {
    assert.equal(ascii8(bytes, 4), 'A B');
  });
  test('NUL padding counts as blank too', () => {
    const raw = new Uint8Array([0x41, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(ascii8(raw, 0), 'AB');
    assert.equal(ascii8(raw, 1), null);
  });
});

describe('ascii8Column', () => {
  test('every row as ascii8 gives it', () => {
    const bytes = decodeFrame(makeFrame({ count: 5, columns: [{
      name: 'callsign', type: 'ascii8', values: ['BAW123', null, 'ABCDEFGH', 'X', 'A B'],
    }] })).columns.callsign;
    assert.deepEqual(ascii8Column(bytes, 5), ['BAW123', null, 'ABCDEFGH', 'X', 'A B']);
    assert.deepEqual(ascii8Column(bytes, 2), ['BAW123', null]);
    assert.deepEqual(ascii8Column(bytes, 0), []);
  });

  test('randomised: the same as ascii8 row by row for ASCII bytes', () => {
    const rand = prng(777);
    const alphabet = [0, 0x20, 0x20, 0x20, ...Array.from({ length: 0x5f }, (_, k) => 0x20 + k)];
    for (let round = 0; round < 200; round += 1) {
      const count = rand.int(0, 40);
      const bytes = Uint8Array.from({ length: count * 8 }, () => rand.pick(alphabet));
      const rows = Array.from({ length: count }, (_, i) => ascii8(bytes, i));
      assert.deepEqual(ascii8Column(bytes, count), rows, `round ${round}`);
    }
  });
});

describe('decodeFrame rejects malformed frames with WireError', () => {
  const good = () => makeFrame({ count: 2, columns: [
    { name: 'id', type: 'u32', values: [1, 2] },
    { name: 'lat', type: 'f64', values: [1.5, 2.5] },
  ], removed: [3] });

  test('the well-formed reference frame decodes', () => {
    assert.deepEqual([...decodeFrame(good()).columns.lat], [1.5, 2.5]);
  });

  test('a buffer shorter than the preamble', () => {
    for (const n of [0, 1, 4, 11]) assertWireError(good().slice(0, n), `${n} bytes`);
  });

  test('the wrong magic', () => {
    assertWireError(makeFrame({ count: 0 }, { magic: 'SKYQ' }));
    assertWireError(makeFrame({ count: 0 }, { magic: 'skyp' }));
    assertWireError(new ArrayBuffer(64));
  });

  test('a layout version other than 1', () => {
    for (const layout of [0, 2, 256, 65535]) {
      assertWireError(makeFrame({ count: 0 }, { layout }), `layout ${layout}`);
    }
  });

  test('a header length past the end of the buffer', () => {
    const buffer = good();
    assertWireError(makeFrame({ count: 0 }, { headerLength: buffer.byteLength }));
    assertWireError(makeFrame({ count: 0 }, { headerLength: 0xfffffff8 - 12 + 8 }));
    // a frame cut inside its header
    const body = bodyStart(buffer);
    assertWireError(buffer.slice(0, body - 8));
  });

  test('a header length that does not end on an 8-byte boundary', () => {
    const buffer = good();
    const real = new DataView(buffer).getUint32(8, true);
    for (const delta of [-1, -3, 1, 4]) {
      const copy = buffer.slice(0);
      new DataView(copy).setUint32(8, real + delta, true);
      assertWireError(copy, `header length ${real + delta}`);
    }
    // a header whose padding ends 4 bytes early would otherwise decode: the JSON still
    // parses and the u8/u32 blocks stay aligned to their elements, just shifted
    for (let k = 0; k < 8; k += 1) {
      const frame = makeFrame({ count: 2, sensors: ['x'.repeat(k)], columns: [
        { name: 'id', type: 'u32', values: [1, 2] }, { name: 'nic', type: 'u8', values: [3, 4] },
      ] });
      const bytes = new Uint8Array(frame);
      const body = bodyStart(frame);
      if (!bytes.subarray(body - 4, body).every((b) => b === 0x20)) continue;
      new DataView(frame).setUint32(8, body - 12 - 4, true);
      assertWireError(frame, `header length ${body - 16} with ${k}`);
    }
  });

  test('a header that is not JSON', () => {
    assertWireError(makeFrame({ count: 0 }, { headerText: '{"type": "snapshot",' }));
    assertWireError(makeFrame({ count: 0 }, { headerText: 'SKYP' }));
    assertWireError(makeFrame({ count: 0 }, { headerText: '' }));
    // invalid UTF-8 (a lone continuation byte) is replaced, which is not JSON either
    const buffer = good();
    new Uint8Array(buffer)[12] = 0x80;
    assertWireError(buffer);
  });

  test('a column of an unknown type', () => {
    for (const type of ['u128', 'i8', 'float', '', 'ASCII8', 'F64', 'ascii16', null, 8]) {
      assertWireError(makeFrame({ count: 2, columns: [
        { name: 'id', type: 'u32', values: [1, 2] },
        { name: 'weird', type, raw: new Uint8Array(16) },
      ] }), `type ${JSON.stringify(type)}`);
    }
  });

  test('a column whose type is the name of an Object.prototype member', () => {
    for (const type of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      assertWireError(makeFrame({ count: 2, columns: [
        { name: 'id', type: 'u32', values: [1, 2] },
        { name: 'weird', type, raw: new Uint8Array(16) },
      ] }), `type ${JSON.stringify(type)}`);
    }
  });

  test('a column that does not fit the buffer', () => {
    // more rows announced than the body holds
    assertWireError(makeFrame({ count: 1000, columns: [
      { name: 'id', type: 'u32', values: [1, 2] },
    ] }));
    // an offset past the end
    assertWireError(makeFrame({ count: 2, columns: [
      { name: 'id', type: 'u32', values: [1, 2], offset: 4096 },
    ] }));
    // an offset that leaves the last rows outside the buffer
    const buffer = good();
    const lastColumnEnd = buffer.byteLength - bodyStart(buffer);
    assertWireError(makeFrame({ count: 2, columns: [
      { name: 'id', type: 'u32', values: [1, 2] },
      { name: 'lat', type: 'f64', values: [1, 2], offset: lastColumnEnd },
    ] }));
    // an ascii8 column counts 8 bytes per row
    assertWireError(makeFrame({ count: 3, columns: [
      { name: 'callsign', type: 'ascii8', raw: new Uint8Array(16) },
    ] }));
    // a typed column not aligned to its element size
    assertWireError(makeFrame({ count: 1, columns: [
      { name: 'lat', type: 'f64', values: [1.0, 2.0], offset: 4 },
    ] }));
    assertWireError(makeFrame({ count: 1, columns: [
      { name: 'id', type: 'u32', values: [1, 2], offset: 2 },
    ] }));
    // the removed ids past the end
    assertWireError(makeFrame({ count: 0 }, { removedHeader: { count: 100, offset: 0 } }));
    assertWireError(makeFrame({ count: 0 }, { removedHeader: { count: 0, offset: 1 << 20 } }));
  });

  test('a truncated body', () => {
    const buffer = good();
    const body = bodyStart(buffer);
    // the last block (one removed id) ends 4 bytes before the end: padding after it
    // is not needed, every cut before its end is
    for (let n = body; n < buffer.byteLength - 4; n += 1) {
      assertWireError(buffer.slice(0, n), `cut at ${n}`);
    }
  });

  test('a header that is JSON but not a frame header (no columns, no removed, not an object)', () => {
    const base = { type: 'snapshot', version: 1, time: null, now: 1, count: 0, sensors: [],
      sources: [], emergencies: [], flags: {} };
    for (const headerText of [
      JSON.stringify({ ...base, removed: { count: 0, offset: 0 } }), // no columns
      JSON.stringify({ ...base, columns: [] }), // no removed
      JSON.stringify({ ...base, columns: {}, removed: { count: 0, offset: 0 } }),
      'null', '42', '"SKYP"',
    ]) {
      assertWireError(makeFrame({ count: 0 }, { headerText }), headerText);
    }
  });

  test('a block announced outside the body (inside the header, or without an offset)', () => {
    assertWireError(makeFrame({ count: 1, columns: [
      { name: 'id', type: 'u32', values: [1], offset: -8 },
    ] }));
    assertWireError(makeFrame({ count: 1, columns: [{ name: 'id', type: 'u32', values: [1] }] },
      { removedHeader: { count: 1 } }));
  });

  test('a column or removed block announced before the start of the buffer, or with a '
    + 'negative count', () => {
    assertWireError(makeFrame({ count: 1, columns: [
      { name: 'id', type: 'u32', values: [1], offset: -4096 },
    ] }));
    assertWireError(makeFrame({ count: -1, columns: [
      { name: 'id', type: 'u32', values: [1] },
    ] }));
    assertWireError(makeFrame({ count: 0 }, { removedHeader: { count: -2, offset: 0 } }));
  });
});

// ---------------------------------------------------------------- randomised tests

const TYPES = Object.keys(WIDTHS);

function randomValue(rand, type) {
  switch (type) {
    case 'u8': return rand.int(0, 255);
    case 'u16': return rand.int(0, 65535);
    case 'u32': return rand.int(0, 0xffffffff);
    case 'i16': return rand.int(-32768, 32767);
    case 'u64': return (BigInt(rand.int(0, 0xffffffff)) << 32n) | BigInt(rand.int(0, 0xffffffff));
    case 'f32': return rand() < 0.1 ? NaN : Math.fround((rand() - 0.5) * 1e5);
    case 'f64': return rand() < 0.1 ? NaN : (rand() - 0.5) * 360;
    case 'ascii8': {
      if (rand() < 0.2) return null;
      const n = rand.int(1, 8);
      let s = '';
      for (let k = 0; k < n; k += 1) s += String.fromCharCode(rand.int(0x21, 0x7e));
      return s;
    }
    default: throw new Error(type);
  }
}

function randomSpec(rand) {
  const count = rand.int(0, 12);
  const columns = [];
  const names = rand.int(0, 10);
  for (let k = 0; k < names; k += 1) {
    const type = rand.pick(TYPES);
    columns.push({ name: `c${k}_${type}`, type,
      values: Array.from({ length: count }, () => randomValue(rand, type)) });
  }
  const removed = Array.from({ length: rand.int(0, 5) }, () => rand.int(0, 0xffffffff));
  return { count, columns, removed, type: rand() < 0.5 ? 'snapshot' : 'delta',
    version: rand.int(0, 1e6), now: 1.7e9 + rand(), time: rand() < 0.2 ? null : 1.7e9 };
}

describe('randomised', () => {
  test('random valid frames decode to the values put in', () => {
    const rand = prng(20240601);
    for (let round = 0; round < 300; round += 1) {
      const spec = randomSpec(rand);
      const frame = decodeFrame(makeFrame(spec));
      assert.equal(frame.count, spec.count);
      assert.equal(frame.type, spec.type);
      assert.equal(frame.version, spec.version);
      assert.equal(frame.now, spec.now);
      assert.equal(frame.time, spec.time);
      assert.deepEqual([...frame.removed], spec.removed);
      assert.deepEqual(Object.keys(frame.columns), spec.columns.map((c) => c.name));
      for (const column of spec.columns) {
        const got = frame.columns[column.name];
        assert.ok(got instanceof TYPED[column.type], `${column.name} is a ${got.constructor.name}`);
        if (column.type === 'ascii8') {
          assert.equal(got.length, spec.count * 8);
          const strings = Array.from({ length: spec.count }, (_, i) => ascii8(got, i));
          assert.deepEqual(strings, column.values, `round ${round} ${column.name}`);
        } else {
          assert.deepEqual([...got], column.values, `round ${round} ${column.name}`);
        }
      }
    }
  });

  // a decode of a damaged frame either works or throws WireError
  const decodesOrWireError = (buffer, what) => {
    try {
      decodeFrame(buffer);
    } catch (error) {
      assert.ok(error instanceof WireError,
        `${what}: ${error?.constructor?.name}: ${error?.message}`);
    }
  };

  const damageSpecs = (seed, rounds) => {
    const rand = prng(seed);
    return { rand, frames: Array.from({ length: rounds }, () => makeFrame(randomSpec(rand))) };
  };

  test('random truncations of a valid frame decode or throw WireError', () => {
    const { rand, frames } = damageSpecs(7, 60);
    let thrown = 0;
    for (const [k, buffer] of frames.entries()) {
      for (let cut = 0; cut < 40; cut += 1) {
        const n = rand.int(0, buffer.byteLength - 1);
        try {
          decodeFrame(buffer.slice(0, n));
        } catch (error) {
          assert.ok(error instanceof WireError, `frame ${k} cut at ${n}: ${error}`);
          thrown += 1;
        }
      }
    }
    assert.ok(thrown > 0, 'some truncations must be detected');
  });

  test('random byte flips outside the header decode or throw WireError', () => {
    const { rand, frames } = damageSpecs(99, 60);
    for (const [k, buffer] of frames.entries()) {
      const body = bodyStart(buffer);
      const outside = [...Array(12).keys(), ...Array.from({ length: buffer.byteLength - body },
        (_, i) => body + i)];
      for (let flip = 0; flip < 40; flip += 1) {
        const copy = buffer.slice(0);
        const bytes = new Uint8Array(copy);
        const flips = rand.int(1, 3);
        for (let f = 0; f < flips; f += 1) bytes[rand.pick(outside)] ^= 1 << rand.int(0, 7);
        decodesOrWireError(copy, `frame ${k} flip ${flip}`);
      }
    }
  });

  test('random byte changes anywhere (header included) decode or throw WireError', () => {
    const { rand, frames } = damageSpecs(31337, 80);
    for (const [k, buffer] of frames.entries()) {
      for (let flip = 0; flip < 60; flip += 1) {
        const copy = buffer.slice(0);
        const bytes = new Uint8Array(copy);
        const at = rand.int(0, bytes.length - 1);
        bytes[at] = rand() < 0.5 ? bytes[at] ^ (1 << rand.int(0, 7)) : rand.int(0x20, 0x7e);
        decodesOrWireError(copy, `frame ${k} byte ${at}`);
      }
    }
  });

  test('the encoder helper agrees with the typed arrays (sanity of the test itself)', () => {
    const rand = prng(5);
    for (const type of TYPES.filter((t) => t !== 'ascii8')) {
      const values = Array.from({ length: 7 }, () => randomValue(rand, type));
      const bytes = encodeColumn(type, values);
      const back = new TYPED[type](bytes.buffer, 0, 7);
      assert.deepEqual([...back], values, type);
    }
  });
});
