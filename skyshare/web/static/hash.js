// The URL hash keeps the view and the selection: #map=zoom/lat/lon&sel=id (pure codec).

export function parseHash(hash) {
  const out = { view: null, selected: null };
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const map = (params.get('map') ?? '').split('/').map(Number);
  if (map.length === 3 && map.every(Number.isFinite)
      && Math.abs(map[1]) <= 90 && Math.abs(map[2]) <= 180) {
    out.view = { zoom: map[0], center: [map[2], map[1]] };
  }
  const sel = Number(params.get('sel'));
  if (params.has('sel') && Number.isInteger(sel)) out.selected = sel;
  return out;
}

export function formatHash(view, selected) {
  const [lon, lat] = view.center;
  let hash = `#map=${view.zoom.toFixed(2)}/${lat.toFixed(4)}/${lon.toFixed(4)}`;
  if (selected !== null && selected !== undefined) hash += `&sel=${selected}`;
  return hash;
}
