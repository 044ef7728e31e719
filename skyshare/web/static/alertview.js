// The alert list's DOM: one <article> per alert, kept by id and updated in place, so
// that a comment being typed survives the panel's once-a-second refresh.  Text from
// the API goes in through textContent only.  Decisions come from alertlist.js.

import * as fmt from './format.js';
import { actionsFor, aircraftName, badges, canSubmit, isOpen } from './alertlist.js';

const PARTS = ['label', 'who', 'partner', 'state', 'age', 'badges'];

function span(role, className = role) {
  const s = document.createElement('span');
  s.dataset.role = role;
  s.className = className;
  return s;
}

// one action as a small form: [text field or partner choice] [button], the button
// disabled while the action may not be sent; `onSubmit(action, value)` resolves to
// true when it was done
function actionForm(spec, onSubmit) {
  const form = document.createElement('form');
  form.className = 'alert-action';
  form.dataset.action = spec.action;
  let field = null;
  if (spec.choices) {
    field = document.createElement('select');
    const prompt = new Option('to partner…', '');
    field.append(prompt, ...spec.choices.map((p) => new Option(p, p)));
  } else if (spec.field) {
    field = document.createElement('input');
    Object.assign(field, { type: 'text', placeholder: spec.placeholder, maxLength: 500 });
  }
  if (field) {
    field.name = spec.field;
    field.setAttribute('aria-label', spec.placeholder ?? spec.label);
  }
  const button = document.createElement('button');
  button.type = 'submit';
  button.textContent = spec.label;
  const sync = () => {
    button.disabled = !canSubmit(spec, field?.value);
  };
  field?.addEventListener('input', sync);
  form.append(...(field ? [field] : []), button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!canSubmit(spec, field?.value)) return;
    for (const control of form.elements) control.disabled = true;
    const done = await onSubmit(spec.action, field?.value);
    if (done) return; // the next refresh shows the new state and its actions
    if (field) field.disabled = false;
    sync();
  });
  sync();
  return form;
}

export class AlertList {
  // onSelect(alert): the alert was clicked; onAct(alert, action, value) -> Promise<bool>
  constructor(root, { onSelect, onAct }) {
    this.root = root;
    this.onSelect = onSelect;
    this.onAct = onAct;
    this.entries = new Map(); // alert id -> {item, parts, actions, error, alert, keys}
    this.selectedTrack = null;
  }

  entry(alert) {
    const known = this.entries.get(alert.id);
    if (known) return known;
    const item = document.createElement('article');
    item.className = 'alert';
    item.dataset.alertId = alert.id;
    const summary = document.createElement('button');
    summary.type = 'button';
    summary.className = 'alert-summary';
    summary.dataset.role = 'select';
    summary.title = 'show on the map';
    const parts = Object.fromEntries(PARTS.map((p) => [p, span(p)]));
    const line = document.createElement('span');
    line.className = 'meta';
    line.append(parts.partner, ' · ', parts.state, ' · ', parts.age);
    summary.append(parts.label, parts.who, line, parts.badges);
    const actions = document.createElement('div');
    actions.className = 'alert-actions';
    const error = document.createElement('p');
    error.className = 'error';
    error.dataset.role = 'error';
    error.setAttribute('role', 'alert');
    error.hidden = true;
    item.append(summary, actions, error);
    const entry = { item, parts, actions, error, alert, keys: {} };
    summary.addEventListener('click', () => this.onSelect(entry.alert));
    this.entries.set(alert.id, entry);
    return entry;
  }

  update(entry, alert, partners, now) {
    const { item, parts } = entry;
    entry.alert = alert;
    item.dataset.state = alert.state;
    item.dataset.trackId = String(alert.track_id);
    item.classList.toggle('open', isOpen(alert));
    item.classList.toggle('exercise', alert.exercise);
    item.classList.toggle('selected', alert.track_id === this.selectedTrack);
    parts.label.textContent = alert.label;
    parts.who.textContent = aircraftName(alert);
    parts.partner.textContent = alert.partner;
    parts.partner.title = alert.origin ? `a case of ${alert.origin}'s node: actions go there` : '';
    parts.state.textContent = alert.state;
    parts.state.title = [alert.acknowledged_by && `acknowledged by ${alert.acknowledged_by}`,
      alert.resolved_by && `resolved by ${alert.resolved_by}: ${alert.comment}`]
      .filter(Boolean).join('; ');
    parts.age.textContent = fmt.age(now - alert.raised_at);
    parts.age.title = `raised ${new Date(alert.raised_at * 1000).toISOString()}`;
    const marks = badges(alert);
    if (this.changed(entry, 'badges', marks)) {
      parts.badges.replaceChildren(...marks.map((b) => {
        const s = span('badge', `badge ${b.kind}`);
        s.textContent = b.text;
        return s;
      }));
    }
    const specs = actionsFor(alert, partners);
    if (this.changed(entry, 'actions', specs)) {
      entry.actions.replaceChildren(...specs.map((spec) => actionForm(spec,
        async (action, value) => {
          const done = await this.onAct(entry.alert, action, value);
          if (done) entry.keys.actions = null; // rebuilt (enabled) on the next render
          return done;
        })));
    }
  }

  // whether `value` differs from what the entry last showed under `key` (and remember it)
  changed(entry, key, value) {
    const text = JSON.stringify(value);
    if (entry.keys[key] === text) return false;
    entry.keys[key] = text;
    return true;
  }

  // groups: [{title, alerts}] (alertlist.groupAlerts); `now`: the node's clock, s
  render(groups, partners, now) {
    const seen = new Set();
    const nodes = [];
    for (const group of groups) {
      if (group.title) {
        const h = document.createElement('h3');
        h.textContent = group.title;
        nodes.push(h);
      }
      for (const alert of group.alerts) {
        const entry = this.entry(alert);
        this.update(entry, alert, partners, now);
        seen.add(alert.id);
        nodes.push(entry.item);
      }
    }
    for (const id of [...this.entries.keys()]) if (!seen.has(id)) this.entries.delete(id);
    // re-insert only when the order changed: moving a node would take the focus away
    const current = [...this.root.children];
    const same = current.length === nodes.length && nodes.every((n, i) => n === current[i]
      || (n.tagName === 'H3' && current[i].tagName === 'H3'
        && n.textContent === current[i].textContent));
    if (!same) this.root.replaceChildren(...nodes);
  }

  showError(id, text) {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.error.textContent = text ?? '';
    entry.error.hidden = !text;
  }

  markSelected(trackId) {
    this.selectedTrack = trackId;
    for (const { item, alert } of this.entries.values()) {
      item.classList.toggle('selected', alert.track_id === trackId);
    }
  }
}
