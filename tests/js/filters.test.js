import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { makeFilter, visibleSlots, sourceMask, matchesQuery } from '../../skyshare/web/static/filters.js';
import { TrackStore } from '../../skyshare/web/static/store.js';
import { decodeFrame } from '../../skyshare/web/static/wire.js';
import { SETTINGS } from '../../skyshare/web/static/settings.js';
import { trackFrame, FLAGS, SOURCES } from './frames.js';

const BANDS = SETTINGS.altitudeBands;
const bit = (kind, table = SOURCES) => 1 << table.indexOf(kind);

function storeOf(rows, header = {}) {
  const store = new TrackStore(4, 4);
  store.apply(decodeFrame(trackFrame(rows, { type: 'snapshot', ...header })));
  return store;
}

// ids of the visible tracks, sorted
const visible = (store, filter) => visibleSlots(store, filter, BANDS)
  .map((s) => store.ids[s]).sort((a, b) => a - b);

const at = { lat: 48.35, lon: 11.78 };

describe('makeFilter', () => {
  test('an empty or missing band set means all bands', () => {
    assert.equal(makeFilter(null, '').bands, null);
    assert.equal(makeFilter(new Set(), '').bands, null);
    assert.deepEqual(makeFilter(new Set([2]), '').bands, new Set([2]));
  });
  test('the query is trimmed and upper-cased; none is empty', () => {
    assert.equal(makeFilter(null, '  baw12 ').query, 'BAW12');
    assert.equal(makeFilter(null, null).query, '');
    assert.equal(makeFilter(null, undefined).query, '');
  });
  test('sources default to null (all)', () => {
    assert.equal(makeFilter(null, '').sources, null);
    assert.deepEqual(makeFilter(null, '', new Set(['adsb'])).sources, new Set(['adsb']));
  });
});

describe('sourceMask and matchesQuery', () => {
  test('sourceMask sets the bits of the named kinds in the table', () => {
    assert.equal(sourceMask(new Set(['adsb', 'mlat']), SOURCES), (1 << 1) | (1 << 5));
    assert.equal(sourceMask(new Set(['nothing']), SOURCES), 0);
    assert.equal(sourceMask(new Set(['b']), ['a', 'b']), 2);
  });
  test('matchesQuery: case-insensitive substring of any string value', () => {
    assert.equal(matchesQuery(['BAW123', null, null], 'AW1'), true);
    assert.equal(matchesQuery([null, '4ca2b3', null], '4CA2'), true);
    assert.equal(matchesQuery([null, null, null], 'X'), false);
    assert.equal(matchesQuery(['ABC'], ''), true);
    assert.equal(matchesQuery(['ABC'], 'ABCD'), false);
  });
});

describe('visibleSlots', () => {
  test('tracks without a position are never visible', () => {
    const store = storeOf([
      { id: 1, ...at },
      { id: 2, lat: NaN, lon: 10, callsign: 'NOPOS1' },
      { id: 3, lat: 10, lon: NaN, callsign: 'NOPOS2' },
      { id: 4, callsign: 'NOPOS3', alt: 30000 },
    ]);
    assert.deepEqual(visible(store, makeFilter(null, '')), [1]);
    assert.deepEqual(visible(store, makeFilter(null, 'NOPOS')), []);
    assert.deepEqual(visible(store, makeFilter(new Set([5]), '')), []);
  });

  test('no filter: every live track with a position, in slot order', () => {
    const store = storeOf([{ id: 5, ...at }, { id: 3, ...at }, { id: 9, ...at }]);
    const slots = visibleSlots(store, makeFilter(null, ''), BANDS);
    assert.deepEqual(slots, [...slots].sort((a, b) => a - b));
    assert.deepEqual(slots.map((s) => store.ids[s]), [5, 3, 9]);
    store.apply(decodeFrame(trackFrame([], { type: 'delta', removed: [3] })));
    assert.deepEqual(visible(store, makeFilter(null, '')), [5, 9]);
  });

  test('altitude bands from settings, on-ground tracks in band 0', () => {
    const store = storeOf([
      { id: 1, ...at, alt: 0 },
      { id: 2, ...at, alt: 1500 },
      { id: 3, ...at, alt: 2000 }, // `below` is exclusive: band 2
      { id: 4, ...at, alt: 15000 },
      { id: 5, ...at, alt: 39999 },
      { id: 6, ...at, alt: 40000 },
      { id: 7, ...at, alt: 61000 },
      { id: 8, ...at }, // altitude unknown
      { id: 9, ...at, alt: 3000, flags: FLAGS.on_ground },
      { id: 10, ...at, alt: -200 },
    ], { flags: FLAGS });
    const byBands = (...bands) => visible(store, makeFilter(new Set(bands), ''));
    assert.equal(BANDS[0].label, 'ground');
    assert.deepEqual(byBands(0), [1, 9, 10]);
    assert.deepEqual(byBands(1), [2]);
    assert.deepEqual(byBands(2), [3]);
    assert.deepEqual(byBands(3), [4]);
    assert.deepEqual(byBands(5), [5]);
    assert.deepEqual(byBands(BANDS.length - 1), [6, 7]);
    assert.deepEqual(byBands(1, 3), [2, 4]);
    assert.deepEqual(byBands(4), []);
    assert.deepEqual(byBands(-1), [8], 'band -1 is an unknown altitude');
    assert.deepEqual(visible(store, makeFilter(new Set(), '')).length, 10);
  });

  test('the on-ground bit comes from the header flags table', () => {
    const store = storeOf([{ id: 1, ...at, alt: 35000, flags: 64 }], { flags: { on_ground: 64 } });
    assert.deepEqual(visible(store, makeFilter(new Set([0]), '')), [1]);
    const other = storeOf([{ id: 1, ...at, alt: 35000, flags: 64 }], { flags: { on_ground: 2 } });
    assert.deepEqual(visible(other, makeFilter(new Set([0]), '')), []);
  });

  test('text query: callsign, hex address and squawk, case-insensitive substring', () => {
    const store = storeOf([
      { id: 1, ...at, callsign: 'BAW123', icao24: 0x400a1b, squawk: 2000 },
      { id: 2, ...at, callsign: 'DLH4AB', icao24: 0x3c6586, squawk: 7700 },
      { id: 3, ...at, icao24: 0x4ca2b3, squawk: 1234 },
      { id: 4, ...at, callsign: 'EZY77', squawk: 7 },
      { id: 5, ...at, icao24: 0xffffffff, squawk: -1 },
    ]);
    const q = (query) => visible(store, makeFilter(null, query));
    assert.deepEqual(q('baw'), [1]);
    assert.deepEqual(q('  aw12  '), [1]);
    assert.deepEqual(q('4ab'), [2]);
    assert.deepEqual(q('4CA2'), [3]);
    assert.deepEqual(q('ca2b3'), [3]);
    assert.deepEqual(q('7700'), [2]);
    assert.deepEqual(q('0007'), [4], 'squawks match as 4 digits');
    assert.deepEqual(q('77'), [2, 4]);
    assert.deepEqual(q('400a'), [1]);
    assert.deepEqual(q('1234'), [3]);
    assert.deepEqual(q('ffffff'), [], 'no address is not "ffffffff"');
    assert.deepEqual(q('-1'), [], 'no squawk is not "-1"');
    assert.deepEqual(q('xyz'), []);
    assert.deepEqual(q(''), [1, 2, 3, 4, 5]);
  });

  test('source kinds through the header sources table', () => {
    const store = storeOf([
      { id: 1, ...at, sources: bit('adsb') },
      { id: 2, ...at, sources: bit('mlat') },
      { id: 3, ...at, sources: bit('adsb') | bit('mlat') },
      { id: 4, ...at, sources: bit('radar_ssr') },
      { id: 5, ...at, sources: 0 },
      { id: 6, ...at, sources: bit('radar_psr') },
    ]);
    const s = (...kinds) => visible(store, makeFilter(null, '', new Set(kinds)));
    assert.deepEqual(s('adsb'), [1, 3]);
    assert.deepEqual(s('mlat'), [2, 3]);
    assert.deepEqual(s('radar_psr', 'radar_ssr'), [4, 6]);
    assert.deepEqual(s('partner'), []);
    assert.deepEqual(s('no-such-kind'), []);
    assert.deepEqual(visible(store, makeFilter(null, '', null)), [1, 2, 3, 4, 5, 6]);
  });

  test('the sources table of the frame decides which bit is which kind', () => {
    const table = ['mlat', 'adsb'];
    const store = storeOf([
      { id: 1, ...at, sources: 1 }, { id: 2, ...at, sources: 2 },
    ], { sources: table });
    assert.deepEqual(visible(store, makeFilter(null, '', new Set(['mlat']))), [1]);
    assert.deepEqual(visible(store, makeFilter(null, '', new Set(['adsb']))), [2]);
  });

  test('filters combine: bands and query and sources', () => {
    const store = storeOf([
      { id: 1, ...at, alt: 35000, callsign: 'AAL1', sources: bit('adsb') },
      { id: 2, ...at, alt: 35000, callsign: 'AAL2', sources: bit('mlat') },
      { id: 3, ...at, alt: 5000, callsign: 'AAL3', sources: bit('adsb') },
      { id: 4, ...at, alt: 35000, callsign: 'UAL4', sources: bit('adsb') },
    ]);
    const filter = makeFilter(new Set([5]), 'aal', new Set(['adsb']));
    assert.deepEqual(visible(store, filter), [1]);
  });
});
