import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { parseHash, formatHash } from '../../skyshare/web/static/hash.js';
import { prng } from './frames.js';

const NOTHING = { view: null, selected: null };

describe('formatHash', () => {
  test('#map=zoom/lat/lon with 2 and 4 decimals, &sel=id when selected', () => {
    assert.equal(formatHash({ zoom: 5.5, center: [-0.4543, 51.47] }, 42),
      '#map=5.50/51.4700/-0.4543&sel=42');
    assert.equal(formatHash({ zoom: 2, center: [10, 30] }, null), '#map=2.00/30.0000/10.0000');
    assert.equal(formatHash({ zoom: 2, center: [10, 30] }, undefined), '#map=2.00/30.0000/10.0000');
    assert.equal(formatHash({ zoom: 12.345, center: [151.17739, -33.94611] }, 0),
      '#map=12.35/-33.9461/151.1774&sel=0');
  });
});

describe('parseHash', () => {
  test('reads the view and the selection', () => {
    assert.deepEqual(parseHash('#map=5.50/51.4700/-0.4543&sel=42'),
      { view: { zoom: 5.5, center: [-0.4543, 51.47] }, selected: 42 });
    assert.deepEqual(parseHash('map=3/10/20'), { view: { zoom: 3, center: [20, 10] },
      selected: null });
    assert.deepEqual(parseHash('#sel=7'), { view: null, selected: 7 });
    assert.deepEqual(parseHash('#sel=0'), { view: null, selected: 0 });
    assert.deepEqual(parseHash('#sel=9&map=1/2/3'), { view: { zoom: 1, center: [3, 2] },
      selected: 9 });
  });

  test('limits: latitude ±90 and longitude ±180 are allowed', () => {
    assert.deepEqual(parseHash('#map=1/90/180').view, { zoom: 1, center: [180, 90] });
    assert.deepEqual(parseHash('#map=1/-90/-180').view, { zoom: 1, center: [-180, -90] });
  });

  test('no hash, nothing', () => {
    assert.deepEqual(parseHash(''), NOTHING);
    assert.deepEqual(parseHash('#'), NOTHING);
    assert.deepEqual(parseHash('#other=1'), NOTHING);
  });

  test('rejects a bad view and a bad selection', () => {
    for (const hash of [
      '#map=5/91/0', '#map=5/-90.5/0', '#map=5/0/181', '#map=5/0/-180.01',
      '#map=5/0', '#map=5', '#map=5/0/0/0', '#map=a/b/c', '#map=5/NaN/0', '#map=5/0/Infinity',
      '#map=Infinity/0/0', '#map=', '#map=5/1,5/0', '#map=5/1.2.3/0',
      '#sel=abc', '#sel=1.5', '#sel=NaN', '#sel=Infinity',
    ]) {
      assert.deepEqual(parseHash(hash), NOTHING, hash);
    }
    // a bad part does not spoil a good one
    assert.deepEqual(parseHash('#map=5/91/0&sel=3'), { view: null, selected: 3 });
    assert.deepEqual(parseHash('#map=5/1/2&sel=x'), { view: { zoom: 5, center: [2, 1] },
      selected: null });
  });

  test('rejects empty parts', () => {
    for (const hash of ['#map=//', '#map=5//', '#map=/1/2', '#sel=', '#sel= ']) {
      assert.deepEqual(parseHash(hash), NOTHING, hash);
    }
  });

  test('round trip: parseHash(formatHash(view, sel)) is the view to the hash\'s precision', () => {
    const rand = prng(1234);
    for (let k = 0; k < 500; k += 1) {
      const view = { zoom: rand() * 22, center: [rand() * 360 - 180, rand() * 170 - 85] };
      const selected = rand() < 0.3 ? null : rand.int(0, 0xffffffff);
      const back = parseHash(formatHash(view, selected));
      assert.equal(back.selected, selected);
      assert.ok(Math.abs(back.view.zoom - view.zoom) <= 0.005 + 1e-12, `zoom ${view.zoom}`);
      assert.ok(Math.abs(back.view.center[0] - view.center[0]) <= 0.00005 + 1e-12, 'lon');
      assert.ok(Math.abs(back.view.center[1] - view.center[1]) <= 0.00005 + 1e-12, 'lat');
      // and formatting again is stable
      assert.equal(formatHash(back.view, back.selected), formatHash(view, selected));
    }
  });
});
