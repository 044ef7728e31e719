import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  altitude, speed, verticalRate, heading, position, seconds, distance, greatCircle, bandIndex,
  emergencyOf, metres, rate, text, list, count, isNum, age,
} from '../../skyshare/web/static/format.js';
import { SETTINGS } from '../../skyshare/web/static/settings.js';

const DASH = '–';
const MINUS = '−';

describe('formatters', () => {
  test('isNum: finite numbers only', () => {
    assert.equal(isNum(0), true);
    assert.equal(isNum(-1.5), true);
    for (const v of [NaN, Infinity, null, undefined, '5', 5n]) assert.equal(isNum(v), false, String(v));
  });

  test('altitude: grouped feet, "ground" when on the ground, dash when unknown', () => {
    assert.equal(altitude(35000), '35,000 ft');
    assert.equal(altitude(1234.6), '1,235 ft');
    assert.equal(altitude(0), '0 ft');
    assert.equal(altitude(-250), '-250 ft');
    assert.equal(altitude(125000), '125,000 ft');
    assert.equal(altitude(5000, true), 'ground');
    assert.equal(altitude(null, true), 'ground');
    assert.equal(altitude(NaN), DASH);
    assert.equal(altitude(null), DASH);
    assert.equal(altitude(undefined), DASH);
  });

  test('speed: whole knots', () => {
    assert.equal(speed(451.4), '451 kt');
    assert.equal(speed(451.5), '452 kt');
    assert.equal(speed(0), '0 kt');
    assert.equal(speed(null), DASH);
    assert.equal(speed(NaN), DASH);
  });

  test('verticalRate: signed and grouped, a real minus sign', () => {
    assert.equal(verticalRate(1500), '+1,500 ft/min');
    assert.equal(verticalRate(-640), `${MINUS}640 ft/min`);
    assert.equal(verticalRate(-2496), `${MINUS}2,496 ft/min`);
    assert.equal(verticalRate(0), '0 ft/min');
    assert.equal(verticalRate(null), DASH);
    assert.equal(verticalRate(Infinity), DASH);
  });

  test('heading: three digits and a degree sign, 360 is 000', () => {
    assert.equal(heading(0), '000°');
    assert.equal(heading(5.4), '005°');
    assert.equal(heading(45), '045°');
    assert.equal(heading(270), '270°');
    assert.equal(heading(359.4), '359°');
    assert.equal(heading(359.6), '000°');
    assert.equal(heading(360), '000°');
    assert.equal(heading(null), DASH);
  });

  test('position: fixed-width degrees with hemispheres', () => {
    assert.equal(position(51.47, -0.4543), '51.4700°N 000.4543°W');
    assert.equal(position(-33.94, 151.18), '33.9400°S 151.1800°E');
    assert.equal(position(5.5, 5.5), '05.5000°N 005.5000°E');
    assert.equal(position(0, 0), '00.0000°N 000.0000°E');
    assert.equal(position(-90, -180), '90.0000°S 180.0000°W');
    assert.equal(position(null, 1), DASH);
    assert.equal(position(1, NaN), DASH);
  });

  test('seconds: s with a decimal below 10, then min and s, then h and min', () => {
    assert.equal(seconds(0), '0.0 s');
    assert.equal(seconds(3.24), '3.2 s');
    assert.equal(seconds(12.4), '12 s');
    assert.equal(seconds(59), '59 s');
    assert.equal(seconds(60), '1 min 0 s');
    assert.equal(seconds(75), '1 min 15 s');
    assert.equal(seconds(3599), '59 min 59 s');
    assert.equal(seconds(3600), '1 h 0 min');
    assert.equal(seconds(3725), '1 h 2 min');
    assert.equal(seconds(90000), '25 h 0 min');
    assert.equal(seconds(null), DASH);
    assert.equal(seconds(NaN), DASH);
  });

  test('seconds: rounding carries into the next unit', () => {
    assert.equal(seconds(119.6), '2 min 0 s');
    assert.equal(seconds(7170), '2 h 0 min');
    assert.equal(seconds(3599.6), '1 h 0 min');
    assert.equal(seconds(59.6), '1 min 0 s');
  });

  test('age: whole seconds, then whole minutes, then hours and minutes', () => {
    assert.equal(age(0), '0 s');
    assert.equal(age(12.9), '12 s');
    assert.equal(age(59.99), '59 s');
    assert.equal(age(60), '1 min');
    assert.equal(age(3599), '59 min');
    assert.equal(age(3600), '1 h 00 min');
    assert.equal(age(7505), '2 h 05 min');
    assert.equal(age(-3), '0 s', 'clocks a little apart');
    assert.equal(age(null), DASH);
    assert.equal(age(NaN), DASH);
  });

  test('distance: nautical miles by default, or km; more decimals when short', () => {
    assert.equal(distance(1852), '1.00 NM');
    assert.equal(distance(1852 * 9.5), '9.50 NM');
    assert.equal(distance(1852 * 15), '15.0 NM');
    assert.equal(distance(1852 * 1234.56), '1234.6 NM');
    assert.equal(distance(0), '0.00 NM');
    assert.equal(distance(5000, 'km'), '5.00 km');
    assert.equal(distance(123456, 'km'), '123.5 km');
    assert.equal(distance(null), DASH);
    assert.equal(distance(NaN, 'km'), DASH);
  });

  test('metres, rate, text, list, count', () => {
    assert.equal(metres(12.4), '12 m');
    assert.equal(metres(1500), '1.50 km');
    assert.equal(metres(null), DASH);
    assert.equal(rate(1234.4), '1,234/s');
    assert.equal(rate(undefined), DASH);
    assert.equal(text('abc'), 'abc');
    assert.equal(text(0), '0');
    for (const v of [null, undefined, '']) assert.equal(text(v), DASH);
    assert.equal(list(['a', 'b']), 'a, b');
    assert.equal(list([]), DASH);
    assert.equal(list(null), DASH);
    assert.equal(count(20000), '20,000');
    assert.equal(count(NaN), DASH);
  });
});

// an independent great-circle computation with 3D unit vectors
function vectorGreatCircle([lon1, lat1], [lon2, lat2]) {
  const rad = Math.PI / 180;
  const unit = (lon, lat) => [Math.cos(lat * rad) * Math.cos(lon * rad),
    Math.cos(lat * rad) * Math.sin(lon * rad), Math.sin(lat * rad)];
  const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
    a[0] * b[1] - a[1] * b[0]];
  const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const norm = (a) => Math.sqrt(dot(a, a));
  const a = unit(lon1, lat1);
  const b = unit(lon2, lat2);
  const angle = Math.atan2(norm(cross(a, b)), dot(a, b));
  // bearing: the direction of b from a in a's local east/north frame
  const north = [-Math.sin(lat1 * rad) * Math.cos(lon1 * rad),
    -Math.sin(lat1 * rad) * Math.sin(lon1 * rad), Math.cos(lat1 * rad)];
  const east = [-Math.sin(lon1 * rad), Math.cos(lon1 * rad), 0];
  const bearing = ((Math.atan2(dot(b, east), dot(b, north)) / rad) + 360) % 360;
  return { metres: angle * 6371008.8, bearing };
}

describe('greatCircle', () => {
  const CDG = [2.5479, 49.0097];
  const LHR = [-0.4543, 51.4700];

  test('Paris CDG to London LHR: about 347 km, heading north-west', () => {
    const { metres: m, bearing } = greatCircle(CDG, LHR);
    assert.ok(Math.abs(m - 347_000) / 347_000 < 0.01, `${m} m`);
    // the initial true course CDG -> LHR is about 323° (north-west)
    assert.ok(bearing > 315 && bearing < 330, `bearing ${bearing}`);
    const back = greatCircle(LHR, CDG);
    assert.ok(Math.abs(back.metres - m) < 1e-6);
    assert.ok(back.bearing > 135 && back.bearing < 150, `bearing back ${back.bearing}`);
  });

  test('cardinal directions and known lengths', () => {
    const R = 6371008.8;
    const near = (a, b, eps, what) => assert.ok(Math.abs(a - b) <= eps, `${what}: ${a} vs ${b}`);
    let r = greatCircle([0, 0], [90, 0]);
    near(r.metres, (Math.PI / 2) * R, 1e-6, 'quarter of the equator');
    near(r.bearing, 90, 1e-9, 'east');
    r = greatCircle([10, 10], [10, 20]);
    near(r.metres, (10 * Math.PI * R) / 180, 1e-6, '10° of meridian');
    near(r.bearing, 0, 1e-9, 'north');
    near(greatCircle([10, 20], [10, 10]).bearing, 180, 1e-9, 'south');
    near(greatCircle([0, 0], [-1, 0]).bearing, 270, 1e-9, 'west');
    near(greatCircle([0, 0], [180, 0]).metres, Math.PI * R, 1e-3, 'antipode');
    const same = greatCircle([8.5, 47.4], [8.5, 47.4]);
    assert.equal(same.metres, 0);
    // across the antimeridian the short way
    r = greatCircle([179.5, 0], [-179.5, 0]);
    near(r.metres, (Math.PI * R) / 180, 1e-6, 'one degree across 180');
    near(r.bearing, 90, 1e-9, 'east across 180');
  });

  test('agrees with an independent vector computation', () => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let k = 0; k < 500; k += 1) {
      const a = [rand() * 360 - 180, rand() * 170 - 85];
      const b = [rand() * 360 - 180, rand() * 170 - 85];
      const got = greatCircle(a, b);
      const want = vectorGreatCircle(a, b);
      assert.ok(Math.abs(got.metres - want.metres) < 1e-3, `${a} -> ${b} distance`);
      const db = Math.abs(got.bearing - want.bearing);
      assert.ok(Math.min(db, 360 - db) < 1e-6, `${a} -> ${b} bearing ${got.bearing} vs ${want.bearing}`);
      assert.ok(got.bearing >= 0 && got.bearing < 360);
    }
  });
});

describe('bandIndex', () => {
  const bands = SETTINGS.altitudeBands;
  test('the band whose exclusive upper bound is above the altitude', () => {
    assert.equal(bandIndex(bands, -100), 0);
    assert.equal(bandIndex(bands, 0), 0);
    assert.equal(bandIndex(bands, 0.5), 0);
    assert.equal(bandIndex(bands, 1), 1);
    assert.equal(bandIndex(bands, 1999), 1);
    assert.equal(bandIndex(bands, 2000), 2);
    assert.equal(bandIndex(bands, 9999.9), 2);
    assert.equal(bandIndex(bands, 10000), 3);
    assert.equal(bandIndex(bands, 25000), 4);
    assert.equal(bandIndex(bands, 39999), 5);
    assert.equal(bandIndex(bands, 40000), 6);
    assert.equal(bandIndex(bands, 60000), bands.length - 1);
  });
  test('on the ground is band 0 whatever the altitude; unknown altitude is -1', () => {
    assert.equal(bandIndex(bands, 35000, true), 0);
    assert.equal(bandIndex(bands, null, true), 0);
    assert.equal(bandIndex(bands, NaN), -1);
    assert.equal(bandIndex(bands, null), -1);
    assert.equal(bandIndex(bands, undefined), -1);
  });
  test('bands without an open last band: above all is the last', () => {
    const two = [{ below: 10 }, { below: 20 }];
    assert.equal(bandIndex(two, 5), 0);
    assert.equal(bandIndex(two, 15), 1);
    assert.equal(bandIndex(two, 25), 1);
  });
});

describe('emergencyOf', () => {
  const squawks = SETTINGS.emergencySquawks;
  test('the emergency field first, then the squawk, else null', () => {
    assert.equal(emergencyOf({ emergency: 'general', squawk: '7700' }, squawks), 'general');
    assert.equal(emergencyOf({ emergency: 'lifeguard', squawk: '1200' }, squawks), 'lifeguard');
    assert.equal(emergencyOf({ emergency: 'none', squawk: '7700' }, squawks), 'emergency');
    assert.equal(emergencyOf({ emergency: 'none', squawk: '7600' }, squawks), 'radio failure');
    assert.equal(emergencyOf({ emergency: null, squawk: '7500' }, squawks), 'hijack');
    assert.equal(emergencyOf({ emergency: 'none', squawk: '1200' }, squawks), null);
    assert.equal(emergencyOf({ emergency: 'none', squawk: null }, squawks), null);
    assert.equal(emergencyOf({}, squawks), null);
  });
});
