// Which tracks the map shows: a filter is plain data, `matches` is a pure predicate.

import { bandIndex } from './format.js';

export const NO_FILTER = Object.freeze({ bands: null, query: '' });

// `bands`: null (all) or a Set of altitude band indices; `query`: text matched against
// callsign, ICAO address and squawk (case-insensitive prefix/substring)
export function makeFilter(bands, query) {
  return { bands: bands && bands.size ? bands : null, query: (query ?? '').trim().toUpperCase() };
}

export function matchesQuery(track, query) {
  if (!query) return true;
  const fields = [track.callsign, track.icao24, track.squawk];
  return fields.some((v) => typeof v === 'string' && v.toUpperCase().includes(query));
}

export function matches(track, filter, altitudeBands) {
  if (track.lat === null || track.lon === null) return false;
  if (filter.bands && !filter.bands.has(bandIndex(altitudeBands, track.alt, track.on_ground))) {
    return false;
  }
  return matchesQuery(track, filter.query);
}
