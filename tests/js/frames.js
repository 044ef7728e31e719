// Test helpers: binary frames laid out by hand exactly as skyshare/web/wire.py's
// docstring documents them, written independently of wire.js (nothing here imports it),
// and a small seeded PRNG for the randomised tests.
//
//   0   4 bytes  magic "SKYP"
//   4   u16      layout version (1)
//   6   u16      0
//   8   u32      H: length of the header
//   12  H bytes  header, UTF-8 JSON, padded with spaces so that 12 + H % 8 == 0
//   12+H         body: column blocks, each at an 8-byte boundary relative to the body

// column type -> bytes per row
export const WIDTHS = { u8: 1, u16: 2, u32: 4, u64: 8, i16: 2, f32: 4, f64: 8, ascii8: 8 };

const pad8 = (n) => (8 - (n % 8)) % 8;

// the little-endian bytes of `values` as a column of `type`; ascii8 values are strings
// (space padded to 8 bytes) or null (8 spaces); u64 values are BigInts or numbers
export function encodeColumn(type, values) {
  const width = WIDTHS[type];
  if (!width) throw new Error(`encodeColumn: unknown type ${type}`);
  const bytes = new Uint8Array(values.length * width);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    const at = i * width;
    switch (type) {
      case 'u8': view.setUint8(at, v); break;
      case 'u16': view.setUint16(at, v, true); break;
      case 'u32': view.setUint32(at, v, true); break;
      case 'u64': view.setBigUint64(at, BigInt(v), true); break;
      case 'i16': view.setInt16(at, v, true); break;
      case 'f32': view.setFloat32(at, v, true); break;
      case 'f64': view.setFloat64(at, v, true); break;
      case 'ascii8': {
        const text = v ?? '';
        if (text.length > 8) throw new Error(`encodeColumn: ${text} is longer than 8`);
        for (let k = 0; k < 8; k += 1) bytes[at + k] = k < text.length ? text.charCodeAt(k) : 0x20;
        break;
      }
      default: throw new Error(type);
    }
  });
  return bytes;
}

const encoder = new TextEncoder();

// A frame as an ArrayBuffer.
//   count: rows in every column (the header's `count`)
//   columns: [{name, type, values}] in body order; a column may instead give `raw`
//     (its block's bytes, for a type the decoder should not know) and may override the
//     `offset` the header announces (the block itself stays where the layout puts it)
//   removed: ids of tracks gone (u32)
//   ...header: any other header field (type, version, time, now, sensors, partners,
//     sources, emergencies, flags); defaults below
// `options` break the frame on purpose: magic, layout, reserved, headerLength (the
// announced H), headerText (raw header text instead of the JSON), removedHeader
// (replaces the header's `removed` entry).
export function makeFrame({ count, columns = [], removed = [], ...header }, options = {}) {
  const blocks = [];
  const described = [];
  let offset = 0;
  for (const column of columns) {
    const block = column.raw ?? encodeColumn(column.type, column.values);
    described.push({ name: column.name, type: column.type, offset: column.offset ?? offset });
    blocks.push(block);
    offset += block.length + pad8(block.length);
  }
  const removedBlock = encodeColumn('u32', removed);
  const fullHeader = {
    type: 'snapshot', version: 1, time: null, now: 1_700_000_000, sensors: [], partners: [],
    sources: [], emergencies: [], flags: {},
    ...header,
    count: count ?? (columns[0] ? columns[0].values.length : 0),
    columns: described,
    removed: options.removedHeader ?? { count: removed.length, offset },
  };
  let text = encoder.encode(options.headerText ?? JSON.stringify(fullHeader));
  const spaces = pad8(12 + text.length);
  const padded = new Uint8Array(text.length + spaces).fill(0x20);
  padded.set(text);
  text = padded;
  const body = 12 + text.length;
  let total = body;
  for (const block of [...blocks, removedBlock]) total += block.length + pad8(block.length);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  const magic = options.magic ?? 'SKYP';
  for (let k = 0; k < 4; k += 1) bytes[k] = magic.charCodeAt(k);
  view.setUint16(4, options.layout ?? 1, true);
  view.setUint16(6, options.reserved ?? 0, true);
  view.setUint32(8, options.headerLength ?? text.length, true);
  bytes.set(text, 12);
  let at = body;
  for (const block of [...blocks, removedBlock]) {
    bytes.set(block, at);
    at += block.length + pad8(block.length);
  }
  return bytes.buffer;
}

// the byte offset of the body in a frame made by makeFrame
export function bodyStart(buffer) {
  return 12 + new DataView(buffer).getUint32(8, true);
}

// mulberry32: a small seeded PRNG, uniform in [0, 1)
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)); // inclusive
  next.pick = (items) => items[Math.floor(next() * items.length)];
  return next;
}

// tables the node sends (skyshare/model.py, skyshare/web/views.py)
export const SOURCES = ['unknown', 'adsb', 'modes', 'radar_psr', 'radar_ssr', 'mlat', 'partner'];
export const EMERGENCIES = ['none', 'general', 'lifeguard', 'minfuel', 'nordo', 'unlawful',
  'downed', 'reserved'];
export const FLAGS = { exercise: 1, on_ground: 2, confirmed: 4, coasting: 8, non_icao: 16,
  has_position: 32, spi: 64, primary_only: 128 };

// the node's column set (skyshare/web/wire.py COLUMNS): name -> type
export const NODE_COLUMNS = {
  id: 'u32', icao24: 'u32', flags: 'u16', callsign: 'ascii8', squawk: 'i16', category: 'u8',
  emergency: 'u8', lat: 'f64', lon: 'f64', alt: 'f32', alt_geo: 'f32', groundspeed: 'f32',
  track: 'f32', vertical_rate: 'f32', pos_sigma: 'f32', nic: 'u8', nacp: 'u8', sil: 'u8',
  rssi: 'f32', age: 'f32', seen: 'f32', seen_pos: 'f32', messages: 'u32', sensors: 'u64',
  sources: 'u8', partners: 'u16',
};

// the value of an unknown field on the node (TRACK_DTYPE sentinels)
export const EMPTY_ROW = {
  icao24: 0xffffffff, flags: 0, callsign: null, squawk: -1, category: 0, emergency: 0,
  lat: NaN, lon: NaN, alt: NaN, alt_geo: NaN, groundspeed: NaN, track: NaN,
  vertical_rate: NaN, pos_sigma: NaN, nic: 0xff, nacp: 0xff, sil: 0xff, rssi: NaN,
  age: NaN, seen: NaN, seen_pos: NaN, messages: 0, sensors: 0n, sources: 0, partners: 0,
};

// a frame with every node column from rows of {id, …fields} (missing fields: sentinels)
export function trackFrame(rows, { removed = [], ...header } = {}) {
  const full = rows.map((r) => ({ ...EMPTY_ROW, ...r }));
  const columns = Object.entries(NODE_COLUMNS).map(([name, type]) => ({
    name, type, values: full.map((r) => r[name]),
  }));
  return makeFrame({ count: rows.length, columns, removed, sources: SOURCES,
    emergencies: EMERGENCIES, flags: FLAGS, ...header });
}
