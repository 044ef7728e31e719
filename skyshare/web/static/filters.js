// Which tracks the map shows: a filter is plain data; `visibleSlots` applies it to the
// store's columns in one pass (no object per track).

import { bandIndex } from './format.js';
import { formatIcao, formatSquawk } from './store.js';

// `bands`: null (all) or a Set of altitude band indices; `query`: text matched against
// callsign, ICAO address and squawk (case-insensitive substring); `sources`: null (all)
// or a Set of source kind names ('adsb', 'modes', 'mlat', 'radar_psr', …)
export function makeFilter(bands, query, sources = null) {
  return {
    bands: bands && bands.size ? bands : null,
    query: (query ?? '').trim().toUpperCase(),
    sources: sources ?? null,
  };
}

export function matchesQuery(values, query) {
  if (!query) return true;
  return values.some((v) => typeof v === 'string' && v.toUpperCase().includes(query));
}

// bit mask of the kinds in `names` given the stream's table of kind names by bit
export function sourceMask(names, table) {
  let mask = 0;
  table.forEach((kind, bit) => {
    if (names.has(kind)) mask |= 1 << bit;
  });
  return mask;
}

// the slots of the store's tracks that have a position and pass `filter`
export function visibleSlots(store, filter, altitudeBands) {
  const { lat, lon, alt, icao24, squawk, sources } = store.columns;
  const onGround = store.meta.flags.on_ground ?? 0;
  const flags = store.columns.flags;
  const wanted = filter.sources ? sourceMask(filter.sources, store.meta.sources) : -1;
  const out = [];
  for (let s = 0; s < store.high; s += 1) {
    if (!store.live[s] || !Number.isFinite(lat[s]) || !Number.isFinite(lon[s])) continue;
    if (filter.bands) {
      const band = bandIndex(altitudeBands, alt[s], (flags[s] & onGround) !== 0);
      if (!filter.bands.has(band)) continue;
    }
    if (filter.sources && !(sources[s] & wanted)) continue;
    if (filter.query && !matchesQuery(
      [store.callsign[s], formatIcao(icao24[s]), formatSquawk(squawk[s])], filter.query)) continue;
    out.push(s);
  }
  return out;
}
