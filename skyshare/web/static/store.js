// The client's copy of the air picture: one record per track id, kept current from the
// node's snapshot and delta messages (columns in, records out), with short trails.

export class TrackStore {
  constructor(trailPoints) {
    this.trailPoints = trailPoints;
    this.tracks = new Map(); // id -> record {id, icao24, callsign, …, trail: [[lon, lat], …]}
    this.version = 0;
    this.time = null;
  }

  get size() {
    return this.tracks.size;
  }

  get(id) {
    return this.tracks.get(id);
  }

  // apply one stream message; returns how many records it touched
  apply(message) {
    const { columns } = message;
    const ids = columns.id ?? [];
    if (message.type === 'snapshot') this.keepOnly(new Set(ids));
    for (const id of message.removed ?? []) this.tracks.delete(id);
    const names = Object.keys(columns);
    for (let i = 0; i < ids.length; i += 1) {
      const previous = this.tracks.get(ids[i]);
      const record = { trail: previous ? previous.trail : [] };
      for (const name of names) record[name] = columns[name][i];
      this.extendTrail(record);
      this.tracks.set(record.id, record);
    }
    this.version = message.version;
    this.time = message.time;
    return ids.length;
  }

  keepOnly(ids) {
    for (const id of this.tracks.keys()) if (!ids.has(id)) this.tracks.delete(id);
  }

  extendTrail(record) {
    if (record.lat === null || record.lon === null) return;
    const { trail } = record;
    const last = trail[trail.length - 1];
    if (last && last[0] === record.lon && last[1] === record.lat) return;
    trail.push([record.lon, record.lat]);
    if (trail.length > this.trailPoints) trail.splice(0, trail.length - this.trailPoints);
  }
}
