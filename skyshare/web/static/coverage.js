// The live map's observed coverage outlines: reads GET /api/readiness/coverage every
// settings.readiness.coveragePollMs into the map's 'coverage' source (map.js draws it)
// and shows or hides the outline layers with the Tools checkbox.  The body's
// data-coverage ('shown' or 'hidden', as the map's layers are) and
// data-coverage-features (the polygons last read) say what the map holds.

import { COVERAGE_LAYERS } from './map.js';

// the outlines as GeoJSON, or null when the node did not give them
async function fetchOutlines(path) {
  try {
    const response = await fetch(path, { cache: 'no-store' });
    if (!response.ok) return null;
    const data = await response.json();
    return data?.type === 'FeatureCollection' && Array.isArray(data.features) ? data : null;
  } catch (error) {
    return null;
  }
}

// `map`: the MapLibre map once its overlay layers are added; `toggle`: the checkbox
export function startCoverage(map, toggle, settings, body = document.body) {
  const paths = settings.readiness;
  const show = (visible) => {
    for (const id of COVERAGE_LAYERS) {
      map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
    }
    body.dataset.coverage = map.getLayoutProperty(COVERAGE_LAYERS[1], 'visibility') === 'none'
      ? 'hidden' : 'shown';
  };
  const poll = async () => {
    const outlines = await fetchOutlines(paths.coveragePath);
    if (outlines) { // on a failure the last outlines stay until the next poll
      map.getSource('coverage').setData(outlines);
      body.dataset.coverageFeatures = String(outlines.features.length);
    }
    window.setTimeout(poll, paths.coveragePollMs);
  };
  toggle.disabled = false;
  toggle.addEventListener('change', () => show(toggle.checked));
  show(toggle.checked);
  poll();
}
