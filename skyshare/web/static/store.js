// The client's copy of the air picture, kept as columns: one slot per track, typed
// arrays per field, updated in place from the node's binary frames (wire.js). Hot
// loops (filtering, drawing) read the arrays; `record(slot)` builds one plain object
// for the few tracks a person looks at (detail panel, labels).

import { ascii8Column } from './wire.js';

// wire column -> [array type, value of an empty slot]
const NUMERIC = {
  icao24: [Uint32Array, 0xffffffff], flags: [Uint16Array, 0], squawk: [Int16Array, -1],
  category: [Uint8Array, 0], emergency: [Uint8Array, 0],
  lat: [Float64Array, NaN], lon: [Float64Array, NaN],
  alt: [Float32Array, NaN], alt_geo: [Float32Array, NaN], groundspeed: [Float32Array, NaN],
  track: [Float32Array, NaN], vertical_rate: [Float32Array, NaN], pos_sigma: [Float32Array, NaN],
  nic: [Uint8Array, 0xff], nacp: [Uint8Array, 0xff], sil: [Uint8Array, 0xff],
  rssi: [Float32Array, NaN], messages: [Uint32Array, 0], sources: [Uint8Array, 0],
  sensors: [BigUint64Array, 0n], partners: [Uint16Array, 0],
};
// wire column of seconds before the frame's `now` -> the absolute time kept
const TIMES = { age: 'firstSeen', seen: 'lastSeen', seen_pos: 'lastPos' };
const NO_ADDRESS = 0xffffffff;
const UNKNOWN_U8 = 0xff;

// [row, end, slot] runs of rows whose slots are consecutive: the node sends tracks in
// id order and slots are handed out in the same order, so a frame is a few runs, each
// copied with TypedArray.set (memcpy) instead of element by element
export function slotRuns(slots) {
  const runs = [];
  let row = 0;
  for (let i = 1; i <= slots.length; i += 1) {
    if (i === slots.length || slots[i] !== slots[i - 1] + 1) {
      runs.push([row, i, slots[row]]);
      row = i;
    }
  }
  return runs;
}

const orNull = (v) => (Number.isFinite(v) ? v : null);
const u8OrNull = (v) => (v === UNKNOWN_U8 ? null : v);

export function formatSquawk(code) {
  return code < 0 ? null : String(code).padStart(4, '0');
}

export function formatIcao(address) {
  return address === NO_ADDRESS ? null : address.toString(16).padStart(6, '0');
}

function names(mask, table) {
  const out = [];
  for (let bit = 0; bit < table.length; bit += 1) {
    if ((BigInt(mask) >> BigInt(bit)) & 1n) out.push(table[bit]);
  }
  return out;
}

export class TrackStore {
  // trailPoints: positions kept per track; trailEveryS: at least this many seconds of
  // the node's clock between two of them (0: every new position)
  constructor(trailPoints, capacity = 256, trailEveryS = 0) {
    this.trailPoints = trailPoints;
    this.trailEveryS = trailEveryS;
    this.slotOf = new Map(); // track id -> slot
    this.free = [];
    this.high = 0; // slots at or above this were never used
    this.version = 0;
    this.time = null;
    this.clockOffset = 0; // node clock minus this page's clock, s
    this.meta = { sensors: [], partners: [], sources: [], emergencies: [], flags: {} };
    this.allocate(capacity);
  }

  allocate(capacity) {
    const grow = (old, Kind, fill, perSlot = 1) => {
      const next = new Kind(capacity * perSlot).fill(fill);
      if (old) next.set(old);
      return next;
    };
    const P = this.trailPoints;
    const c = this.columns ?? {};
    this.columns = {};
    for (const [name, [Kind, fill]] of Object.entries(NUMERIC)) {
      this.columns[name] = grow(c[name], Kind, fill);
    }
    for (const name of Object.values(TIMES)) this.columns[name] = grow(c[name], Float64Array, NaN);
    this.ids = grow(this.ids, Uint32Array, 0);
    this.live = grow(this.live, Uint8Array, 0);
    this.trailLen = grow(this.trailLen, Uint8Array, 0);
    this.trailStart = grow(this.trailStart, Uint8Array, 0);
    this.trailTime = grow(this.trailTime, Float64Array, NaN); // of the newest point
    this.trailLon = grow(this.trailLon, Float64Array, 0, P);
    this.trailLat = grow(this.trailLat, Float64Array, 0, P);
    this.callsign = this.callsign ?? [];
    this.capacity = capacity;
  }

  get size() {
    return this.slotOf.size;
  }

  // the slot of track `id`, or undefined
  slot(id) {
    return this.slotOf.get(id);
  }

  * slots() {
    for (let s = 0; s < this.high; s += 1) if (this.live[s]) yield s;
  }

  // apply one decoded frame (wire.decodeFrame); returns how many tracks it touched
  apply(frame) {
    const { columns, count } = frame;
    this.meta = { sensors: frame.sensors, partners: frame.partners ?? [],
      sources: frame.sources, emergencies: frame.emergencies, flags: frame.flags };
    this.clockOffset = frame.now - Date.now() / 1000;
    const ids = columns.id;
    if (frame.type === 'snapshot') {
      const keep = new Set(ids);
      for (const id of [...this.slotOf.keys()]) if (!keep.has(id)) this.release(id);
    }
    for (const id of frame.removed) this.release(id);
    const slots = new Int32Array(count);
    for (let i = 0; i < count; i += 1) slots[i] = this.slotOf.get(ids[i]) ?? this.add(ids[i]);
    const runs = slotRuns(slots);
    for (const name of Object.keys(NUMERIC)) {
      const src = columns[name];
      if (!src) continue;
      const dst = this.columns[name];
      for (const [row, end, slot] of runs) dst.set(src.subarray(row, end), slot);
    }
    for (const [name, kept] of Object.entries(TIMES)) {
      const src = columns[name];
      if (!src) continue;
      const dst = this.columns[kept];
      for (let i = 0; i < count; i += 1) dst[slots[i]] = frame.now - src[i];
    }
    if (columns.callsign) {
      const calls = ascii8Column(columns.callsign, count);
      for (let i = 0; i < count; i += 1) this.callsign[slots[i]] = calls[i];
    }
    for (let i = 0; i < count; i += 1) this.extendTrail(slots[i]);
    this.version = frame.version;
    this.time = frame.time;
    return count;
  }

  add(id) {
    if (!this.free.length && this.high === this.capacity) this.allocate(this.capacity * 2);
    const slot = this.free.length ? this.free.pop() : this.high++;
    this.slotOf.set(id, slot);
    this.ids[slot] = id;
    this.live[slot] = 1;
    this.trailLen[slot] = 0;
    this.trailStart[slot] = 0;
    for (const [name, [, fill]] of Object.entries(NUMERIC)) this.columns[name][slot] = fill;
    for (const name of Object.values(TIMES)) this.columns[name][slot] = NaN;
    this.callsign[slot] = null;
    return slot;
  }

  release(id) {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    this.slotOf.delete(id);
    this.live[slot] = 0;
    this.free.push(slot);
  }

  extendTrail(slot) {
    const lon = this.columns.lon[slot];
    const lat = this.columns.lat[slot];
    if (!Number.isFinite(lat) || !Number.isFinite(lon)) return;
    const P = this.trailPoints;
    const base = slot * P;
    const len = this.trailLen[slot];
    const start = this.trailStart[slot];
    const time = this.columns.lastPos[slot];
    if (len) {
      const last = base + ((start + len - 1) % P);
      if (this.trailLon[last] === lon && this.trailLat[last] === lat) return;
      if (time - this.trailTime[slot] < this.trailEveryS) return;
    }
    this.trailTime[slot] = time;
    const at = base + ((start + len) % P);
    this.trailLon[at] = lon;
    this.trailLat[at] = lat;
    if (len < P) this.trailLen[slot] = len + 1;
    else this.trailStart[slot] = (start + 1) % P;
  }

  // [[lon, lat], …] oldest first (the current position may be newer than the last)
  trail(slot) {
    const P = this.trailPoints;
    const out = [];
    for (let k = 0; k < this.trailLen[slot]; k += 1) {
      const at = slot * P + ((this.trailStart[slot] + k) % P);
      out.push([this.trailLon[at], this.trailLat[at]]);
    }
    return out;
  }

  hasFlag(slot, name) {
    const bit = this.meta.flags[name];
    return bit !== undefined && (this.columns.flags[slot] & bit) !== 0;
  }

  // the node's clock now (s), as far as this page can tell
  now() {
    return Date.now() / 1000 + this.clockOffset;
  }

  // one plain object per track, the shape of /api/picture's rows (see panel.js)
  record(slot) {
    const c = this.columns;
    const now = this.now();
    const ago = (t) => (Number.isFinite(t) ? Math.max(0, now - t) : null);
    return {
      id: this.ids[slot],
      icao24: formatIcao(c.icao24[slot]),
      callsign: this.callsign[slot],
      squawk: formatSquawk(c.squawk[slot]),
      category: c.category[slot]
        ? c.category[slot].toString(16).toUpperCase().padStart(2, '0') : null,
      emergency: this.meta.emergencies[c.emergency[slot]] ?? 'none',
      lat: orNull(c.lat[slot]),
      lon: orNull(c.lon[slot]),
      alt: orNull(c.alt[slot]),
      alt_geo: orNull(c.alt_geo[slot]),
      groundspeed: orNull(c.groundspeed[slot]),
      track: orNull(c.track[slot]),
      vertical_rate: orNull(c.vertical_rate[slot]),
      pos_sigma: orNull(c.pos_sigma[slot]),
      nic: u8OrNull(c.nic[slot]),
      nacp: u8OrNull(c.nacp[slot]),
      sil: u8OrNull(c.sil[slot]),
      rssi: orNull(c.rssi[slot]),
      on_ground: this.hasFlag(slot, 'on_ground'),
      coasting: this.hasFlag(slot, 'coasting'),
      primary_only: this.hasFlag(slot, 'primary_only'),
      exercise: this.hasFlag(slot, 'exercise'),
      age: ago(c.firstSeen[slot]),
      seen: ago(c.lastSeen[slot]),
      seen_pos: ago(c.lastPos[slot]),
      messages: c.messages[slot],
      sensors: names(c.sensors[slot], this.meta.sensors),
      sources: names(c.sources[slot], this.meta.sources),
      partners: names(c.partners[slot], this.meta.partners),
      trail: this.trail(slot),
    };
  }
}
