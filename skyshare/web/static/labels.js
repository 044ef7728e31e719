// Labels (callsign / altitude / speed, sensor names) drawn on a 2D canvas over the map:
// MapLibre text needs glyph files from a server, which an offline map does not have.
// Which labels are candidates is decided when the data or the view settles; where
// each goes, and which are dropped because they would overlap, on every frame.

// where a label may go, tried in order: [dx, dy] of its top-left from the anchor point,
// as functions of the label's width and height
const SPOTS = [
  (w, h) => [12, 6], (w, h) => [12, -6 - h], (w, h) => [-12 - w, 6], (w, h) => [-12 - w, -6 - h],
];
const CELL = 64; // px, the collision grid's cell

// Greedy placement without overlap: `boxes` [{x, y, w, h}] (anchor point and size, in
// priority order) inside a `width` × `height` view; returns [{index, x, y}] (top-left)
// of the labels placed.
export function placeLabels(boxes, width, height) {
  const grid = new Map();
  const cells = (x, y, w, h, visit) => {
    for (let cx = Math.floor(x / CELL); cx <= Math.floor((x + w) / CELL); cx += 1) {
      for (let cy = Math.floor(y / CELL); cy <= Math.floor((y + h) / CELL); cy += 1) {
        if (visit(`${cx},${cy}`)) return true;
      }
    }
    return false;
  };
  const overlaps = (x, y, w, h) => cells(x, y, w, h, (key) => (grid.get(key) ?? []).some(
    (r) => x < r.x + r.w && r.x < x + w && y < r.y + r.h && r.y < y + h));
  const placed = [];
  boxes.forEach((box, index) => {
    for (const spot of SPOTS) {
      const [dx, dy] = spot(box.w, box.h);
      const [x, y] = [box.x + dx, box.y + dy];
      if (x < 0 || y < 0 || x + box.w > width || y + box.h > height) continue;
      if (overlaps(x, y, box.w, box.h)) continue;
      const rect = { x, y, w: box.w, h: box.h };
      cells(x, y, box.w, box.h, (key) => {
        if (!grid.has(key)) grid.set(key, []);
        grid.get(key).push(rect);
        return false;
      });
      placed.push({ index, x, y });
      return;
    }
  });
  return placed;
}

export class LabelOverlay {
  constructor(map, canvas, settings) {
    this.map = map;
    this.canvas = canvas;
    this.settings = settings.labels;
    this.items = [];
    this.drawn = [];
    this.shown = 0; // labels placed in the last frame
    map.on('render', () => this.draw());
    map.on('moveend', () => this.choose());
    map.on('resize', () => this.resize());
    this.resize();
  }

  resize() {
    const { clientWidth: w, clientHeight: h } = this.map.getContainer();
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(w * ratio);
    this.canvas.height = Math.round(h * ratio);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.draw();
  }

  // items: [{lon, lat, always: bool, lines: () => [text, …], colour?}], most important
  // first; `always` ones (selected, emergencies, sensors) are candidates at any zoom
  setItems(items) {
    this.items = items;
    this.choose();
  }

  // every label in view when few enough are and the map is zoomed in; else the
  // `always` ones
  choose() {
    const b = this.map.getBounds();
    const [w, s, e, n] = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    const inView = (it) => it.lon >= w && it.lon <= e && it.lat >= s && it.lat <= n;
    const zoomedIn = this.map.getZoom() >= this.settings.minZoom;
    let chosen = [];
    if (zoomedIn) {
      for (const it of this.items) {
        if (!inView(it)) continue;
        chosen.push(it);
        if (chosen.length > this.settings.maxShown) break;
      }
    }
    if (!zoomedIn || chosen.length > this.settings.maxShown) {
      chosen = this.items.filter((it) => it.always && inView(it));
    }
    const ctx = this.canvas.getContext('2d');
    ctx.font = this.settings.font;
    this.drawn = chosen.map((it) => {
      const lines = it.lines();
      const width = Math.max(...lines.map((line) => ctx.measureText(line).width));
      return { lon: it.lon, lat: it.lat, lines, colour: it.colour, w: width + 4,
        h: lines.length * this.settings.lineHeight };
    });
    this.map.triggerRepaint();
  }

  draw() {
    const ctx = this.canvas.getContext('2d');
    const ratio = window.devicePixelRatio || 1;
    const { clientWidth: width, clientHeight: height } = this.map.getContainer();
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = this.settings.font;
    ctx.textBaseline = 'top';
    ctx.lineWidth = 3;
    const boxes = this.drawn.map((it) => {
      const p = this.map.project([it.lon, it.lat]);
      return { x: p.x, y: p.y, w: it.w, h: it.h };
    });
    const placed = placeLabels(boxes, width, height);
    for (const { index, x, y } of placed) {
      const it = this.drawn[index];
      it.lines.forEach((line, i) => {
        const ly = y + i * this.settings.lineHeight;
        ctx.strokeStyle = 'rgba(11, 26, 43, 0.85)';
        ctx.strokeText(line, x + 2, ly);
        ctx.fillStyle = it.colour ?? this.settings.colour;
        ctx.fillText(line, x + 2, ly);
      });
    }
    this.shown = placed.length;
    this.canvas.dataset.labels = String(placed.length);
  }
}
