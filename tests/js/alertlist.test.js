import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  ACTIONS, ANONYMOUS, actionPath, actionsFor, aircraftName, alertedTracks, badges, canSubmit,
  compareAlerts, describeUser, failure, groupAlerts, isOpen, listPath, openCount, requestBody,
} from '../../skyshare/web/static/alertlist.js';

// a case as GET /api/alerts sends it (skyshare/web/alerts_api.py case_json)
const alert = (over = {}) => ({
  id: 'a1', rule: 'squawk_7700', label: 'Squawk 7700: emergency', track_id: 17,
  icao24: '4ca1b2', callsign: 'EIN12', squawk: 7700, volume: null, value: null,
  verified: true, exercise: false, raised_at: 1000, condition_active: true, cleared_at: null,
  lat: 50, lon: 5, alt: 35000, state: 'new', partner: 'west', offered_to: null,
  escalation: 0, acknowledged_by: null, acknowledged_at: null, resolved_by: null,
  resolved_at: null, comment: '', updated_at: 1000, mine: true, can: [], ...over,
});
const WANDA = { user: 'wanda', partner: 'west', role: 'duty_officer' };
const PARTNERS = ['home', 'west', 'east'];
const ids = (list) => list.map((a) => a.id);

describe('order and groups', () => {
  test('open before resolved, newest first, ties by id', () => {
    const list = [
      alert({ id: 'old', raised_at: 10 }), alert({ id: 'done', raised_at: 99, state: 'resolved' }),
      alert({ id: 'new', raised_at: 50 }), alert({ id: 'b', raised_at: 20 }),
      alert({ id: 'a', raised_at: 20, state: 'acknowledged' }),
    ];
    assert.deepEqual(ids([...list].sort(compareAlerts)), ['new', 'a', 'b', 'old', 'done']);
  });

  test('your partner first, then the others; one group when nothing else is listed', () => {
    const list = [alert({ id: 'theirs', mine: false, raised_at: 90, partner: 'east' }),
      alert({ id: 'm1', raised_at: 10 }), alert({ id: 'm2', raised_at: 20 })];
    const groups = groupAlerts(list, WANDA);
    assert.deepEqual(groups.map((g) => g.title), ['west (yours)', 'other partners']);
    assert.deepEqual(groups.map((g) => ids(g.alerts)), [['m2', 'm1'], ['theirs']]);
    const mineOnly = groupAlerts(list.slice(1), WANDA);
    assert.deepEqual(mineOnly, [{ title: null, alerts: [list[2], list[1]] }]);
    const othersOnly = groupAlerts(list.slice(0, 1), WANDA);
    assert.deepEqual(othersOnly.map((g) => g.title), ['other partners']);
  });

  test('an anonymous reader gets one untitled group of every alert', () => {
    const list = [alert({ id: 'x', mine: false }), alert({ id: 'y', mine: false, raised_at: 5e3 })];
    assert.deepEqual(groupAlerts(list, ANONYMOUS), [{ title: null, alerts: [list[1], list[0]] }]);
    assert.deepEqual(groupAlerts([], ANONYMOUS), [{ title: null, alerts: [] }]);
  });

  test('the input is not reordered', () => {
    const list = [alert({ id: 'a', raised_at: 1 }), alert({ id: 'b', raised_at: 2 })];
    groupAlerts(list, WANDA);
    assert.deepEqual(ids(list), ['a', 'b']);
  });
});

describe('counts and the map', () => {
  const list = [alert({ id: '1' }), alert({ id: '2', state: 'acknowledged', track_id: 4 }),
    alert({ id: '3', state: 'resolved', track_id: 5 }),
    alert({ id: '4', mine: false, track_id: 6 })];

  test('open count: yours when logged in, all when anonymous', () => {
    assert.equal(openCount(list, WANDA), 2);
    assert.equal(openCount(list, ANONYMOUS), 3);
    assert.equal(openCount([], WANDA), 0);
    assert.equal(isOpen(list[2]), false);
  });

  test('the tracks of open alerts, whoever owns them', () => {
    assert.deepEqual(alertedTracks(list), new Set([17, 4, 6]));
    assert.deepEqual(alertedTracks([]), new Set());
  });
});

describe('badges', () => {
  const texts = (a) => badges(a).map((b) => b.text);
  test('a verified, live, unescalated alert has none', () => {
    assert.deepEqual(badges(alert()), []);
  });
  test('each mark, most important first', () => {
    const all = alert({ exercise: true, verified: false, escalation: 2, offered_to: 'east',
      condition_active: false });
    assert.deepEqual(badges(all).map((b) => b.kind),
      ['exercise', 'unverified', 'escalated', 'offered', 'ended']);
    assert.deepEqual(texts(all),
      ['EXERCISE', 'UNVERIFIED', 'ESCALATED 2', 'offered to east', 'condition ended']);
  });
  test('escalation and an ended condition no longer matter once resolved', () => {
    const done = alert({ state: 'resolved', escalation: 1, condition_active: false,
      verified: false, exercise: true });
    assert.deepEqual(texts(done), ['EXERCISE', 'UNVERIFIED']);
  });
});

describe('actions', () => {
  test('only what `can` allows, in its order, with their fields', () => {
    const specs = actionsFor(alert({ can: ['acknowledge', 'hand_over'] }), PARTNERS);
    assert.deepEqual(specs.map((s) => s.action), ['acknowledge', 'hand_over']);
    assert.equal(specs[0].field, null);
    assert.equal(specs[1].field, 'to');
    assert.deepEqual(specs[1].choices, ['home', 'east'], 'every partner but the owner');
    assert.deepEqual(actionsFor(alert({ can: [] }), PARTNERS), []);
    assert.deepEqual(actionsFor(alert({ can: undefined }), PARTNERS), []);
  });

  test('the labels of every action, and unknown actions left out', () => {
    const can = ['acknowledge', 'resolve', 'hand_over', 'accept', 'decline', 'reopen', 'explode'];
    const specs = actionsFor(alert({ can }), PARTNERS);
    assert.deepEqual(specs.map((s) => s.label),
      ['Acknowledge', 'Resolve', 'Hand over', 'Accept', 'Decline', 'Reopen']);
    assert.deepEqual(specs.map((s) => s.field),
      [null, 'comment', 'to', null, 'reason', 'reason']);
  });

  test('no hand-over without another partner', () => {
    assert.deepEqual(actionsFor(alert({ can: ['hand_over'] }), ['west']), []);
  });

  test('resolve, decline and reopen need text; hand over needs a partner', () => {
    for (const action of ['resolve', 'decline', 'reopen', 'hand_over']) {
      const spec = ACTIONS[action];
      assert.equal(canSubmit(spec, ''), false, action);
      assert.equal(canSubmit(spec, '   '), false, action);
      assert.equal(canSubmit(spec, undefined), false, action);
      assert.equal(canSubmit(spec, 'east'), true, action);
    }
    assert.equal(canSubmit(ACTIONS.acknowledge, undefined), true);
    assert.equal(canSubmit(ACTIONS.accept, ''), true);
  });

  test('request bodies as the API reads them', () => {
    assert.deepEqual(requestBody('acknowledge'), {});
    assert.deepEqual(requestBody('accept', 'ignored'), {});
    assert.deepEqual(requestBody('resolve', '  crew OK, diverting  '),
      { comment: 'crew OK, diverting' });
    assert.deepEqual(requestBody('hand_over', 'east'), { to: 'east' });
    assert.deepEqual(requestBody('decline', 'not ours'), { reason: 'not ours' });
    assert.deepEqual(requestBody('reopen', 'still squawking'), { reason: 'still squawking' });
  });

  test('paths', () => {
    assert.equal(listPath('/api/alerts', false), '/api/alerts');
    assert.equal(listPath('/api/alerts', true), '/api/alerts?all=1');
    assert.equal(actionPath('/api/alerts', 'x-1', 'hand_over'), '/api/alerts/x-1/hand_over');
    assert.equal(actionPath('/api/alerts', '../me?x', 'resolve'),
      '/api/alerts/..%2Fme%3Fx/resolve', 'an id cannot leave its path segment');
  });
});

describe('text', () => {
  test('failures: the API\'s own words; 401 asks to log in', () => {
    assert.deepEqual(failure(401, { error: 'log in to act on alerts' }),
      { text: 'log in to act on alerts', login: true });
    assert.deepEqual(failure(409, { error: 'alert a1 is already acknowledged' }),
      { text: 'alert a1 is already acknowledged', login: false });
    assert.deepEqual(failure(502, null), { text: 'the node answered HTTP 502', login: false });
    assert.deepEqual(failure(500, { error: 42 }),
      { text: 'the node answered HTTP 500', login: false });
    assert.deepEqual(failure(0, null), { text: 'the node does not answer', login: false });
  });

  test('the user and the aircraft', () => {
    assert.equal(describeUser(WANDA), 'wanda (west, duty officer)');
    assert.equal(describeUser(ANONYMOUS), '');
    assert.equal(aircraftName(alert()), 'EIN12 · 4ca1b2');
    assert.equal(aircraftName(alert({ callsign: '' })), '4ca1b2');
    assert.equal(aircraftName(alert({ callsign: '', icao24: '' })), 'track 17');
    // a readiness alert's evidence row has no aircraft (icao24 'ffffffff'): its sensor
    assert.equal(aircraftName(alert({ sensor: 'rx-north', callsign: '', icao24: 'ffffffff' })),
      'sensor rx-north');
  });
});
