// The URL hash keeps the view and the selection: #map=zoom/lat/lon&sel=id (pure codec).

export function parseHash(hash) {
  const out = { view: null, selected: null };
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const parts = (params.get('map') ?? '').split('/');
  const map = parts.map((p) => (p.trim() === '' ? NaN : Number(p)));
  if (map.length === 3 && map.every(Number.isFinite)
      && Math.abs(map[1]) <= 90 && Math.abs(map[2]) <= 180) {
    out.view = { zoom: map[0], center: [map[2], map[1]] };
  }
  // track ids are u32, written in decimal
  const sel = params.get('sel') ?? '';
  if (/^\d{1,10}$/.test(sel) && Number(sel) <= 0xffffffff) out.selected = Number(sel);
  return out;
}

export function formatHash(view, selected) {
  const [lon, lat] = view.center;
  let hash = `#map=${view.zoom.toFixed(2)}/${lat.toFixed(4)}/${lon.toFixed(4)}`;
  if (selected !== null && selected !== undefined) hash += `&sel=${selected}`;
  return hash;
}
