// The alerts panel's decisions as pure functions: which alerts in what order, which
// badges and which buttons each shows, and what each action sends. No DOM, no fetch.
// An alert is one case of GET /api/alerts (see skyshare/web/alerts_api.py).

export const ANONYMOUS = Object.freeze({ user: null, partner: null, role: null });

export const isOpen = (alert) => alert.state !== 'resolved';

// the actions the panel knows, in the API's words: the button's label, and the text
// field or choice the action sends (`field`), `required` when it may not be empty
export const ACTIONS = Object.freeze({
  acknowledge: { label: 'Acknowledge', field: null },
  resolve: { label: 'Resolve', field: 'comment', required: true,
    placeholder: 'how it was resolved' },
  hand_over: { label: 'Hand over', field: 'to', required: true, choices: true },
  accept: { label: 'Accept', field: null },
  decline: { label: 'Decline', field: 'reason', required: true,
    placeholder: 'why you decline' },
  reopen: { label: 'Reopen', field: 'reason', required: true, placeholder: 'why reopen' },
});

// open before resolved, then newest first (ties by id, so the order is stable)
export function compareAlerts(a, b) {
  return (isOpen(b) - isOpen(a)) || (b.raised_at - a.raised_at)
    || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

// [{title, alerts}]: your partner's alerts, then (when the list holds them) the other
// partners'; one untitled group for an anonymous reader, who sees every partner's
export function groupAlerts(alerts, me) {
  const sorted = [...alerts].sort(compareAlerts);
  if (!me.user) return [{ title: null, alerts: sorted }];
  const mine = sorted.filter((a) => a.mine);
  const others = sorted.filter((a) => !a.mine);
  if (!others.length) return [{ title: null, alerts: mine }];
  return [{ title: `${me.partner} (yours)`, alerts: mine },
    { title: 'other partners', alerts: others }].filter((g) => g.alerts.length);
}

// the count in the panel's header: open alerts that are yours to answer (every open
// alert for an anonymous reader)
export function openCount(alerts, me) {
  return alerts.filter((a) => isOpen(a) && (!me.user || a.mine)).length;
}

// track ids of the open alerts, which the map draws as emergencies
export function alertedTracks(alerts) {
  return new Set(alerts.filter(isOpen).map((a) => a.track_id));
}

// [{kind, text}]: what a duty officer must not miss about an alert, most important first
export function badges(alert) {
  const out = [];
  if (alert.exercise) out.push({ kind: 'exercise', text: 'EXERCISE' });
  if (!alert.verified) out.push({ kind: 'unverified', text: 'UNVERIFIED' });
  if (alert.escalation > 0 && isOpen(alert)) {
    out.push({ kind: 'escalated', text: `ESCALATED ${alert.escalation}` });
  }
  if (alert.offered_to) out.push({ kind: 'offered', text: `offered to ${alert.offered_to}` });
  if (!alert.condition_active && isOpen(alert)) {
    out.push({ kind: 'ended', text: 'condition ended' });
  }
  // a partner node's case (a mirror): actions go to that node, which answers
  if (alert.refused) {
    out.push({ kind: 'refused', text: `refused by ${alert.origin}: ${alert.refused}` });
  }
  if (alert.pending) {
    const label = ACTIONS[alert.pending]?.label ?? alert.pending;
    out.push({ kind: 'pending', text: `${label} sent to ${alert.origin}…` });
  }
  if (alert.origin) out.push({ kind: 'origin', text: `from ${alert.origin}` });
  return out;
}

// the aircraft as a person names it: callsign and ICAO address, whichever are known;
// a readiness alert (sensor silent or degraded) names its sensor instead
export function aircraftName(alert) {
  if (alert.sensor) return `sensor ${alert.sensor}`;
  return [alert.callsign, alert.icao24].filter(Boolean).join(' · ') || `track ${alert.track_id}`;
}

// 'wanda (west, duty officer)'
export function describeUser(me) {
  return me.user ? `${me.user} (${me.partner}, ${String(me.role).replaceAll('_', ' ')})` : '';
}

// [{action, label, field, required, placeholder, choices}] for the actions in `can`
// that the panel knows, in the API's order; a hand-over offers every partner but the
// owner (and is left out when there is none)
export function actionsFor(alert, partners) {
  const out = [];
  for (const action of alert.can ?? []) {
    const spec = ACTIONS[action];
    if (!spec) continue;
    const choices = spec.choices ? partners.filter((p) => p !== alert.partner) : null;
    if (choices && !choices.length) continue;
    out.push({ action, ...spec, choices });
  }
  return out;
}

// whether the action may be sent with `value` (the text typed or the partner chosen)
export function canSubmit(spec, value) {
  return !spec.field || !spec.required || String(value ?? '').trim() !== '';
}

// the JSON body of POST /api/alerts/{id}/{action}
export function requestBody(action, value) {
  const field = ACTIONS[action]?.field;
  return field ? { [field]: String(value ?? '').trim() } : {};
}

export function listPath(base, all) {
  return all ? `${base}?all=1` : base;
}

export function actionPath(base, id, action) {
  return `${base}/${encodeURIComponent(id)}/${encodeURIComponent(action)}`;
}

// what to tell the user when a request failed: the API's own error text when it sent
// one; `login` when logging in (again) is the way out
export function failure(status, body) {
  const said = body && typeof body.error === 'string' ? body.error : null;
  if (status === 0) return { text: said ?? 'the node does not answer', login: false };
  return { text: said ?? `the node answered HTTP ${status}`, login: status === 401 };
}
