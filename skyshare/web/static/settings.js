// Every setting of the live map, in one place (tar1090's "defaults file" habit).
// Colours, bands and limits here are data; the modules read them, never hard-code them.

export const SETTINGS = Object.freeze({
  // first view when the URL has no #map=… and no aircraft are known yet
  defaultView: { center: [10, 30], zoom: 2 },
  // on the first snapshot, frame the aircraft unless the URL already chose a view
  fitFirstSnapshot: true,
  maxFitZoom: 9,

  basemap: {
    // offline Natural Earth borders (world-atlas); copied by `make web-assets`
    topology: '/static/vendor/world-atlas/countries-50m.json',
    // optional online raster tiles, an XYZ template such as
    // 'https://tile.openstreetmap.org/{z}/{x}/{y}.png'; the node may override it
    tileUrl: null,
    tileAttribution: '',
    colours: { water: '#0b1a2b', land: '#1c2a38', border: '#4d6378', coast: '#7f98ad' },
  },

  // altitude bands (ft, barometric): colour of the symbol, legend rows, filter choices.
  // `below` is the band's exclusive upper bound; the last band has none.
  altitudeBands: [
    { label: 'ground', below: 1, colour: '#9e9e9e' },
    { label: '< 2,000 ft', below: 2000, colour: '#ff7b00' },
    { label: '2–10,000 ft', below: 10000, colour: '#ffd000' },
    { label: '10–20,000 ft', below: 20000, colour: '#5fd35f' },
    { label: '20–30,000 ft', below: 30000, colour: '#29b6f6' },
    { label: '30–40,000 ft', below: 40000, colour: '#7c6cff' },
    { label: '≥ 40,000 ft', below: null, colour: '#e040fb' },
  ],
  unknownAltitudeColour: '#cfd8dc',
  emergencyColour: '#ff1744',
  selectedColour: '#ffffff',
  // Mode A codes that mean an emergency whatever the emergency field says
  emergencySquawks: { '7500': 'hijack', '7600': 'radio failure', '7700': 'emergency' },

  // aircraft symbols `size` px across, scaled from `minScale` at `minZoom` to `scale` at
  // `maxZoom`; emergencies `emergencyScale` times larger; `texture`: icon resolution, px
  symbol: { size: 24, scale: 0.8, minScale: 0.5, minZoom: 3, maxZoom: 7, emergencyScale: 1.4,
    texture: 64 },
  // above this many aircraft in view, draw dots instead of aircraft symbols (legibility)
  maxSymbolsInView: 3000,
  labels: { maxShown: 250, minZoom: 6, font: '11px system-ui, sans-serif', colour: '#e8eef3',
    lineHeight: 12 },
  // trails of every aircraft in view while at most `maxAircraft` are, else the selected
  // one: `points` positions at least `everyS` seconds apart (a minute by default)
  trail: { points: 15, everyS: 4, maxAircraft: 4000, colour: '#90a4ae', opacity: 0.6 },
  // the source-kind filter's choices: label -> kinds of the stream's `sources` table
  sourceKinds: [
    { label: 'ADS-B', kinds: ['adsb'] },
    { label: 'Mode S', kinds: ['modes'] },
    { label: 'MLAT', kinds: ['mlat'] },
    { label: 'radar', kinds: ['radar_psr', 'radar_ssr'] },
    { label: 'partner', kinds: ['partner'] },
  ],
  sensors: { upColour: '#4caf50', downColour: '#ff5252', labelColour: '#a5d6a7' },

  stream: { path: '/api/stream?format=binary', reconnectMinMs: 500, reconnectMaxMs: 10000 },
  statusPath: '/api/status',
  // the alerts panel: its API, and how often its list refreshes (not while the tab is hidden)
  alerts: { list: '/api/alerts', me: '/api/me', login: '/api/login', logout: '/api/logout',
    pollMs: 1000 },
  sensorsPath: '/api/sensors',
  // the Partners panel (a node in a federation; hidden otherwise): its API, how often it
  // refreshes (its rates are the difference of two polls), the colour of each partner
  // state, and where a selected track's provenance is asked for
  partners: { path: '/api/partners', pollMs: 2000,
    provenancePath: '/api/tracks/{id}/provenance',
    colours: { connected: '#5fd35f', lagging: '#ffb300', down: '#ff5252' } },
  // the readiness page (/readiness) and the map's observed coverage outlines: the APIs,
  // how often each is read, the colour of each sensor, partner and node state, and how
  // the outlines are drawn (`bands`: band 0 is every altitude, then the node's bands
  // from low to high; the last colour serves any further band)
  readiness: {
    path: '/api/readiness',
    coveragePath: '/api/readiness/coverage',
    alertsPath: '/api/alerts?all=1&resolved=0',
    alertRules: ['sensor_silent', 'sensor_degraded'],
    pollMs: 3000,
    coveragePollMs: 30000,
    colours: { ok: '#5fd35f', degraded: '#ffb300', silent: '#ff5252', waiting: '#90a4ae',
      impaired: '#ff5252', connected: '#5fd35f', lagging: '#ffb300', down: '#ff5252',
      unknown: '#90a4ae' },
    sparkline: { width: 180, height: 36, messages: '#29b6f6', errors: '#ff5252' },
    polar: { size: 132, ring: '#35506a' },
    coverage: {
      bands: ['#80deea', '#ffab91', '#fff59d', '#b39ddb'],
      exercise: '#e040fb',
      width: 2.5, bandWidth: 1.2, bandDash: [3, 2], opacity: 0.85,
    },
  },
  statusPollMs: 2000,
  sensorsPollMs: 5000,
  // how often the aircraft layer is rebuilt from the store (the stream sends a delta a
  // second); the detail panel's ages tick at the same pace
  redrawMs: 1000,

  units: { distance: 'nm', altitude: 'ft', speed: 'kt' },
});
