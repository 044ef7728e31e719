// The measuring tool: two clicks on the map give the great-circle distance and the
// initial bearing between them; a third click starts a new measurement.

import { distance, greatCircle, heading } from './format.js';

export class MeasureTool {
  constructor(map, readout, unit) {
    this.map = map;
    this.readout = readout;
    this.unit = unit;
    this.points = [];
    this.active = false;
  }

  toggle() {
    this.active = !this.active;
    this.points = [];
    this.show();
    this.map.getCanvas().style.cursor = this.active ? 'crosshair' : '';
    return this.active;
  }

  add(lngLat) {
    if (this.points.length === 2) this.points = [];
    this.points.push([lngLat.lng, lngLat.lat]);
    this.show();
  }

  show() {
    const features = this.points.map((p) => ({
      type: 'Feature', geometry: { type: 'Point', coordinates: p }, properties: {} }));
    if (this.points.length === 2) {
      features.push({ type: 'Feature', properties: {},
        geometry: { type: 'LineString', coordinates: this.points } });
      const gc = greatCircle(this.points[0], this.points[1]);
      this.readout.textContent = `${distance(gc.metres, this.unit)}, ${heading(gc.bearing)}`;
    } else {
      this.readout.textContent = this.active
        ? (this.points.length ? 'click the second point' : 'click the first point') : '';
    }
    this.map.getSource('measure').setData({ type: 'FeatureCollection', features });
  }
}
