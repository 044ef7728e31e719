// The login form in the alerts panel's header: user name and password, or who is
// logged in with a Log out button. Data in, DOM out; the controller (alerts.js) talks
// to the node through `onLogin(user, password)` and `onLogout()`, which resolve to a
// failure text or null.

import { describeUser } from './alertlist.js';

function input(name, type, placeholder, autocomplete) {
  const box = document.createElement('input');
  Object.assign(box, { name, type, placeholder, autocomplete, required: true,
    spellcheck: false });
  box.setAttribute('aria-label', placeholder);
  return box;
}

export class LoginForm {
  constructor(root, { onLogin, onLogout }) {
    this.user = input('user', 'text', 'user', 'username');
    this.password = input('password', 'password', 'password', 'current-password');
    const submit = document.createElement('button');
    submit.type = 'submit';
    submit.textContent = 'Log in';
    this.form = document.createElement('form');
    this.form.className = 'login';
    this.form.dataset.role = 'login';
    this.form.append(this.user, this.password, submit);

    this.who = document.createElement('span');
    this.who.dataset.role = 'who';
    const logout = document.createElement('button');
    logout.type = 'button';
    logout.dataset.role = 'logout';
    logout.textContent = 'Log out';
    this.session = document.createElement('div');
    this.session.className = 'session';
    this.session.hidden = true;
    this.session.append(this.who, logout);

    this.error = document.createElement('p');
    this.error.className = 'error';
    this.error.dataset.role = 'login-error';
    this.error.setAttribute('role', 'alert');
    this.error.hidden = true;
    root.replaceChildren(this.form, this.session, this.error);

    this.form.addEventListener('submit', async (event) => {
      event.preventDefault();
      submit.disabled = true;
      const failed = await onLogin(this.user.value.trim(), this.password.value);
      submit.disabled = false;
      this.showError(failed);
      if (!failed) this.password.value = '';
    });
    logout.addEventListener('click', async () => {
      logout.disabled = true;
      this.showError(await onLogout());
      logout.disabled = false;
    });
  }

  // the form for an anonymous reader, the user and Log out otherwise; what is typed
  // survives (the panel calls this on every poll)
  show(me) {
    this.form.hidden = Boolean(me.user);
    this.session.hidden = !me.user;
    this.who.textContent = describeUser(me);
  }

  showError(text) {
    this.error.textContent = text ?? '';
    this.error.hidden = !text;
  }

  focus() {
    if (!this.form.hidden) this.user.focus();
  }
}
