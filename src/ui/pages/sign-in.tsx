/** @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import { CsrfField, ErrorAlert, Layout } from './layout';

export const SignInPage: FC<{ csrf: string; email?: string; error?: string; notice?: string }> = ({
  csrf,
  email,
  error,
  notice,
}) => (
  <Layout title="Sign in" notice={notice}>
    <div class="signin">
      <div class="brand">
        <span class="brand-mark" aria-hidden="true">
          tl
        </span>
        tokenladder
      </div>
      <div class="card">
        <h1>Sign in</h1>
        <ErrorAlert text={error} />
        <form method="post" action="/ui/login">
          <CsrfField token={csrf} />
          <div class="field">
            <label for="email">Email</label>
            <input
              id="email"
              name="email"
              type="email"
              autocomplete="username"
              required
              maxlength={254}
              value={email ?? ''}
              autofocus
            />
          </div>
          <div class="field">
            <label for="password">Password</label>
            <input
              id="password"
              name="password"
              type="password"
              autocomplete="current-password"
              required
              maxlength={1024}
            />
          </div>
          <button type="submit" class="btn btn-primary">
            Sign in
          </button>
        </form>
      </div>
      <p class="muted small">
        Signing in creates an Account-Token named “Web session”; signing out revokes it.
      </p>
    </div>
  </Layout>
);
