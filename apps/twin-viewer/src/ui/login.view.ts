/**
 * The sign-in form (contract §8: the viewer asks for a token when it has
 * none). The token goes once to `POST /api/session`, which answers with an
 * HttpOnly session cookie; the viewer never keeps the token (not in
 * localStorage, not in a variable after the request), so a script injected
 * into the page could not read it either.
 *
 * Accessible: a labelled dialog with one password field, focus moved into
 * it, errors announced (role="alert"), Enter submits.
 */
import { byId, h } from './dom.helpers';

/** What the form calls with the token; rejects with a message to show. */
export type SignIn = (token: string) => Promise<void>;

export class LoginView {
  private pending: Promise<void> | null = null;

  constructor(
    private readonly host: HTMLElement = byId('login'),
    private readonly signIn: SignIn,
  ) {}

  /** Whether the form is showing. */
  get open(): boolean {
    return !this.host.hidden;
  }

  /**
   * Shows the form (once, however many requests were refused meanwhile) and
   * resolves when the operator has signed in.
   */
  ask(reason?: string): Promise<void> {
    this.pending ??= new Promise<void>((resolve) => this.render(reason, () => {
      this.pending = null;
      this.host.hidden = true;
      this.host.replaceChildren();
      document.body.classList.remove('signing-in');
      resolve();
    }));
    return this.pending;
  }

  private render(reason: string | undefined, done: () => void): void {
    const input = h('input', { id: 'login-token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'login-help' });
    const error = h('p', { id: 'login-error', class: 'login-error', role: 'alert' });
    const button = h('button', { type: 'submit' }, 'Sign in');
    const form = h(
      'form',
      { class: 'login-form', 'aria-labelledby': 'login-title', novalidate: true },
      h('h2', { id: 'login-title' }, 'Sign in to the park twin'),
      h('p', { id: 'login-help', class: 'login-help' }, reason ?? 'Paste an operator token (made with npm run tokens -- add, or printed by npm start).'),
      h('label', { for: 'login-token' }, 'Operator token'),
      input,
      button,
      error,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const token = input.value.trim();
      if (token === '') {
        error.textContent = 'Enter a token.';
        input.focus();
        return;
      }
      button.disabled = true;
      error.textContent = '';
      this.signIn(token).then(
        () => {
          input.value = '';
          done();
        },
        (e: unknown) => {
          button.disabled = false;
          error.textContent = (e as Error)?.message ?? String(e);
          input.select();
          input.focus();
        },
      );
    });
    this.host.replaceChildren(form);
    this.host.hidden = false;
    document.body.classList.add('signing-in');
    input.focus();
  }
}
