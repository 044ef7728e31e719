// Pure formatters and geodesy: values in, strings or numbers out; no DOM, no state.

const DASH = '–';
const EARTH_RADIUS_M = 6371008.8;
const M_PER_NM = 1852;

export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

const group = (n) => Math.round(n).toLocaleString('en-US');

export function altitude(ft, onGround = false) {
  if (onGround) return 'ground';
  return isNum(ft) ? `${group(ft)} ft` : DASH;
}

export function speed(kt) {
  return isNum(kt) ? `${Math.round(kt)} kt` : DASH;
}

export function verticalRate(fpm) {
  if (!isNum(fpm)) return DASH;
  const sign = fpm > 0 ? '+' : fpm < 0 ? '−' : '';
  return `${sign}${group(Math.abs(fpm))} ft/min`;
}

export function heading(deg) {
  return isNum(deg) ? `${String(Math.round(deg) % 360).padStart(3, '0')}°` : DASH;
}

export function coordinate(value, positive, negative, width) {
  if (!isNum(value)) return DASH;
  const hemi = value >= 0 ? positive : negative;
  return `${Math.abs(value).toFixed(4).padStart(width, '0')}°${hemi}`;
}

export function position(lat, lon) {
  if (!isNum(lat) || !isNum(lon)) return DASH;
  return `${coordinate(lat, 'N', 'S', 7)} ${coordinate(lon, 'E', 'W', 8)}`;
}

export function seconds(s) {
  if (!isNum(s)) return DASH;
  if (s < 59.5) return `${s.toFixed(s < 9.95 ? 1 : 0)} s`;
  const whole = Math.round(s); // rounded first, so that 119.6 s reads 2 min 0 s
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  const minutes = Math.round(s / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

// how long ago, coarsely (a list that refreshes every second should not flicker):
// '12 s', '4 min', '2 h 05 min'; a negative age (clocks apart) reads as 0 s
export function age(s) {
  if (!isNum(s)) return DASH;
  const whole = Math.max(0, Math.floor(s));
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min`;
  const minutes = Math.floor(whole / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

export function metres(m) {
  return isNum(m) ? (m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(2)} km`) : DASH;
}

export function distance(m, unit = 'nm') {
  if (!isNum(m)) return DASH;
  if (unit === 'km') return `${(m / 1000).toFixed(m < 10000 ? 2 : 1)} km`;
  const nm = m / M_PER_NM;
  return `${nm.toFixed(nm < 10 ? 2 : 1)} NM`;
}

export function rate(perSecond) {
  return isNum(perSecond) ? `${group(perSecond)}/s` : DASH;
}

export function text(v) {
  return v === null || v === undefined || v === '' ? DASH : String(v);
}

export function list(values) {
  return Array.isArray(values) && values.length ? values.join(', ') : DASH;
}

export function count(n) {
  return isNum(n) ? group(n) : DASH;
}

// great-circle distance (m) and initial bearing (deg true) from a to b, [lon, lat] pairs
export function greatCircle(a, b) {
  const rad = Math.PI / 180;
  const [lon1, lat1, lon2, lat2] = [a[0] * rad, a[1] * rad, b[0] * rad, b[1] * rad];
  const dlat = lat2 - lat1;
  const dlon = lon2 - lon1;
  const h = Math.sin(dlat / 2) ** 2 + Math.cos(lat1) * Math.cos(lat2) * Math.sin(dlon / 2) ** 2;
  const metresAway = 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
  const y = Math.sin(dlon) * Math.cos(lat2);
  const x = Math.cos(lat1) * Math.sin(lat2) - Math.sin(lat1) * Math.cos(lat2) * Math.cos(dlon);
  const bearing = (Math.atan2(y, x) / rad + 360) % 360;
  return { metres: metresAway, bearing };
}

// index of the altitude band of `ft` in `bands` (see settings.altitudeBands), or -1
export function bandIndex(bands, ft, onGround = false) {
  if (onGround) return 0;
  if (!isNum(ft)) return -1;
  for (let i = 0; i < bands.length; i += 1) {
    if (bands[i].below === null || ft < bands[i].below) return i;
  }
  return bands.length - 1;
}

// the emergency a track declares, by its emergency field or its squawk, or null
export function emergencyOf(track, squawks) {
  if (track.emergency && track.emergency !== 'none') return track.emergency;
  return squawks[track.squawk] ?? null;
}
