import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  STATES, agreementText, agreementsSummary, droppedSummary, flowText, heardText, partnerRates,
  provenancePath, provenanceText, stateColour, stateOf, trackRate,
} from '../../skyshare/web/static/partners.js';
import { SETTINGS } from '../../skyshare/web/static/settings.js';
import { prng } from './frames.js';

// a partner row as GET /api/partners sends it (skyshare/web/federation_view.py)
const flow = (tracks, over = {}) => ({ messages: 10, tracks, bytes: 100 * tracks, last: 1000,
  age_s: 1, ...over });
const partner = (over = {}) => ({
  partner: 'west', state: 'connected', heard: 1000, silent_s: 1.4, lag_s: 0.2,
  clock_offset_s: 0.01, sent: flow(100), received: flow(50), dropped: {},
  agreements: { outgoing: [], incoming: [] }, ...over,
});
const agreement = (over = {}) => ({ id: 'home-to-west', active: true,
  fields: ['position', 'identity'], sources: 'own', max_rate_hz: null, min_delay_s: null,
  until: null, ...over });

describe('states', () => {
  test('known states are kept; anything else reads as down', () => {
    for (const state of STATES) assert.equal(stateOf({ state }), state);
    for (const state of ['up', '', null, undefined, 'Connected']) {
      assert.equal(stateOf({ state }), 'down', String(state));
    }
    assert.equal(stateOf(undefined), 'down');
  });

  test('each state has its own colour from the settings; unknown is down', () => {
    const { colours } = SETTINGS.partners;
    const seen = new Set(STATES.map((s) => stateColour(s, colours)));
    assert.equal(seen.size, 3);
    for (const colour of seen) assert.match(colour, /^#[0-9a-f]{6}$/);
    assert.equal(stateColour('gone', colours), colours.down);
    assert.equal(stateColour('connected', { connected: 'x', lagging: 'y', down: 'z' }), 'x');
  });
});

describe('partnerRates', () => {
  test('tracks per second each way between two polls', () => {
    const before = { at: 100, partners: [partner({ sent: flow(100), received: flow(50) })] };
    const after = { at: 104, partners: [partner({ sent: flow(140), received: flow(60) })] };
    assert.deepEqual(partnerRates(before, after).get('west'), { received: 2.5, sent: 10 });
  });

  test('unknown on the first poll, for a new partner, and after a counter reset', () => {
    const first = { at: 100, partners: [partner()] };
    assert.deepEqual(partnerRates(null, first).get('west'), { received: null, sent: null });
    const next = { at: 102, partners: [partner({ sent: flow(20), received: flow(80) }),
      partner({ partner: 'east' })] };
    const rates = partnerRates(first, next);
    assert.deepEqual(rates.get('west'), { received: 15, sent: null }); // sent went back
    assert.deepEqual(rates.get('east'), { received: null, sent: null });
  });

  test('no rate when no time passed or a counter is missing', () => {
    const a = { at: 100, partners: [partner()] };
    assert.deepEqual(partnerRates(a, { at: 100, partners: [partner()] }).get('west'),
      { received: null, sent: null });
    const broken = partner({ received: {}, sent: null });
    assert.deepEqual(partnerRates(a, { at: 101, partners: [broken] }).get('west'),
      { received: null, sent: null });
  });

  test('randomised: the rate times the interval is the counter difference', () => {
    const rand = prng(77);
    for (let i = 0; i < 200; i += 1) {
      const sent0 = rand.int(0, 1e6);
      const recv0 = rand.int(0, 1e6);
      const dSent = rand.int(0, 5000);
      const dRecv = rand.int(0, 5000);
      const dt = 0.1 + rand() * 10;
      const rates = partnerRates(
        { at: 1000, partners: [partner({ sent: flow(sent0), received: flow(recv0) })] },
        { at: 1000 + dt, partners: [partner({ sent: flow(sent0 + dSent),
          received: flow(recv0 + dRecv) })] }).get('west');
      assert.ok(Math.abs(rates.sent * dt - dSent) < 1e-6, `sent ${rates.sent}`);
      assert.ok(Math.abs(rates.received * dt - dRecv) < 1e-6, `received ${rates.received}`);
    }
  });
});

describe('formatting', () => {
  test('track rates: a decimal when small, whole above 10, a dash when unknown', () => {
    assert.equal(trackRate(0), '0.0/s');
    assert.equal(trackRate(0.46), '0.5/s');
    assert.equal(trackRate(9.94), '9.9/s');
    assert.equal(trackRate(9.96), '10/s');
    assert.equal(trackRate(1234.4), '1,234/s');
    assert.equal(trackRate(null), '–');
    assert.equal(trackRate(NaN), '–');
    assert.equal(flowText({ received: 2.5, sent: 10 }), 'in 2.5/s · out 10/s');
    assert.equal(flowText(undefined), 'in – · out –');
  });

  test('heard: how long ago, or never', () => {
    assert.equal(heardText(partner({ heard: 1000, silent_s: 3.7 })), 'heard 3 s ago');
    assert.equal(heardText(partner({ heard: 1000, silent_s: 125 })), 'heard 2 min ago');
    assert.equal(heardText(partner({ heard: null, silent_s: null })), 'never heard');
  });

  test('dropped: the total, and the reasons by count for the tooltip', () => {
    assert.equal(droppedSummary({}), null);
    assert.equal(droppedSummary(undefined), null);
    assert.equal(droppedSummary({ 'bad-signature': 0 }), null);
    assert.deepEqual(droppedSummary({ 'no-agreement': 1, 'bad-signature': 3, stale: 1 }),
      { count: 5, text: 'bad-signature: 3, no-agreement: 1, stale: 1' });
    assert.deepEqual(droppedSummary({ big: 12000, bad: 'x' }),
      { count: 12000, text: 'big: 12,000' });
  });

  test('agreements: counts of the active ones each way', () => {
    assert.equal(agreementsSummary({ outgoing: [agreement()], incoming: [
      agreement({ id: 'b' }), agreement({ id: 'c', active: false })] }),
    'agreements: 1 out · 1 in');
    assert.equal(agreementsSummary({ outgoing: [agreement({ active: false })], incoming: [] }),
      'agreements: none active');
    assert.equal(agreementsSummary(undefined), 'agreements: none active');
  });

  test('an agreement as one line: fields, sources, rate, delay, end, inactive', () => {
    assert.equal(agreementText(agreement()), 'home-to-west: position, identity · own sources');
    assert.equal(agreementText(agreement({ sources: 'all', max_rate_hz: 0.5, min_delay_s: 30,
      until: '2027-01-01T00:00:00Z', fields: ['position'] })),
    'home-to-west: position · all sources · ≤ 0.5 Hz · delayed 30 s · '
      + 'until 2027-01-01T00:00:00Z');
    assert.equal(agreementText(agreement({ active: false, min_delay_s: 0 })),
      'home-to-west: position, identity · own sources (inactive)');
    assert.equal(agreementText(agreement({ fields: [] })),
      'home-to-west: no fields · own sources');
  });

  test('provenance: the partner\'s track, its sources and when it last updated it', () => {
    const entry = { partner: 'west', remote_track_id: 12, sources: ['adsb', 'mlat'],
      last_seen: 1000 };
    assert.equal(provenanceText(entry, 1004.2), 'track 12 · adsb, mlat · 4 s ago');
    assert.equal(provenanceText({ ...entry, sources: [], last_seen: null }, 1004),
      'track 12 · – · not seen');
    // a partner clock ahead of ours reads as just now, never as a negative age
    assert.equal(provenanceText({ ...entry, last_seen: 1010 }, 1004),
      'track 12 · adsb, mlat · 0 s ago');
  });

  test('the provenance path puts the id in the template', () => {
    assert.equal(provenancePath(SETTINGS.partners.provenancePath, 42),
      '/api/tracks/42/provenance');
    assert.equal(provenancePath('/t/{id}', 'a/b'), '/t/a%2Fb');
  });
});
