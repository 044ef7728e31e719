// The alerts panel: polls GET /api/alerts about once a second (not while the tab is
// hidden), lists the alerts (alertview.js), sends the duty officer's actions, and keeps
// the login form (login.js) in step with the session.  The session is the node's
// HttpOnly cookie: this page never sees or keeps the token.

import {
  ANONYMOUS, actionPath, alertedTracks, failure, groupAlerts, listPath, openCount, requestBody,
} from './alertlist.js';
import { AlertList } from './alertview.js';
import { LoginForm } from './login.js';

// GET (or POST `body` as JSON) on the node -> {ok, status, data}; never throws
async function callApi(path, body = undefined) {
  const init = { cache: 'no-store', credentials: 'same-origin' };
  if (body !== undefined) {
    Object.assign(init, { method: 'POST', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' } });
  }
  try {
    const response = await fetch(path, init);
    const data = await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, data };
  } catch (error) {
    return { ok: false, status: 0, data: null };
  }
}

// els: {root, count, login, allRow, all, note, list}; hooks: {now() -> node clock s,
// onSelect(alert), onAlerted(Set of track ids)}.  Returns {markSelected(trackId)}.
export function startAlerts(els, settings, hooks) {
  const paths = settings.alerts;
  const state = { me: ANONYMOUS, all: false, data: null, timer: null, generation: 0 };

  // who is logged in: at once on logging in or out; the list follows with its refresh
  const showSession = () => {
    login.show(state.me);
    els.allRow.hidden = !state.me.user;
  };
  const show = () => {
    const alerts = state.data?.alerts ?? [];
    const open = openCount(alerts, state.me);
    showSession();
    els.count.textContent = String(open);
    els.count.dataset.open = String(open);
    els.root.classList.toggle('has-open', open > 0);
    list.render(groupAlerts(alerts, state.me), state.data?.partners ?? [], hooks.now());
    hooks.onAlerted(alertedTracks(alerts));
  };
  const note = (text) => {
    els.note.textContent = text ?? '';
    els.note.hidden = !text;
  };

  const poll = async () => {
    state.timer = null;
    if (document.hidden) return; // visibilitychange polls again
    state.generation += 1;
    const generation = state.generation;
    const got = await callApi(listPath(paths.list, state.all && Boolean(state.me.user)));
    if (generation !== state.generation) return; // a newer poll is under way
    if (got.ok && got.data) {
      state.me = got.data.me ?? ANONYMOUS;
      state.data = got.data;
      note(state.data.alerts.length ? null : 'no alerts');
    } else {
      if (got.status === 401) state.data = null; // this node shows alerts to users only
      note(failure(got.status, got.data).text);
    }
    show();
    state.timer = window.setTimeout(poll, paths.pollMs);
  };
  const refresh = () => {
    window.clearTimeout(state.timer);
    poll();
  };

  const act = async (alert, action, value) => {
    list.showError(alert.id, null);
    const got = await callApi(actionPath(paths.list, alert.id, action),
      requestBody(action, value));
    if (got.ok) {
      refresh();
      return true;
    }
    const failed = failure(got.status, got.data);
    list.showError(alert.id, failed.login ? `${failed.text}: log in above` : failed.text);
    if (failed.login) {
      state.me = ANONYMOUS;
      showSession();
      els.root.open = true;
      login.focus();
    }
    refresh(); // the list was stale (someone else acted, the session ended): re-read it
    return false;
  };
  const onLogin = async (user, password) => {
    const got = await callApi(paths.login, { user, password });
    if (!got.ok) return failure(got.status, got.data).text;
    state.me = { user: got.data.user, partner: got.data.partner, role: got.data.role };
    showSession();
    refresh();
    return null;
  };
  const onLogout = async () => {
    const got = await callApi(paths.logout, {});
    if (!got.ok) return failure(got.status, got.data).text;
    state.me = ANONYMOUS;
    showSession();
    refresh();
    return null;
  };

  const list = new AlertList(els.list, { onSelect: hooks.onSelect, onAct: act });
  const login = new LoginForm(els.login, { onLogin, onLogout });
  els.all.addEventListener('change', () => {
    state.all = els.all.checked;
    refresh();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refresh();
  });
  // restore the session the cookie may hold, then start polling
  callApi(paths.me).then((got) => {
    if (got.ok && got.data.user) state.me = got.data;
    showSession();
    refresh();
  });
  return { markSelected: (trackId) => list.markSelected(trackId) };
}
