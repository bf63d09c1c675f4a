/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { Child, FC } from 'hono/jsx';
import { CSS_URL, SCRIPT_URL } from '../assets';
import { CSRF_FIELD } from '../csrf';
import { isoTime } from '../../clock';
import { formatTime } from '../format';

/** The signed-in user as the pages need them. */
export interface Viewer {
  email: string;
  name: string;
  /** Whether the Users page is theirs (src/accounts/users.ts seesEveryUser). */
  seesEveryUser: boolean;
  /** The CSRF token for this session's forms. */
  csrf: string;
}

export type Section = 'bases' | 'account-tokens' | 'users';

export interface LayoutProps {
  title: string;
  viewer?: Viewer;
  section?: Section;
  notice?: string;
  children?: Child;
}

export const CsrfField: FC<{ token: string }> = ({ token }) => (
  <input type="hidden" name={CSRF_FIELD} value={token} />
);

/**
 * A time (epoch seconds); in tables `short` (to the minute, UTC said below the table) or `day`, the
 * full time as a tooltip.
 */
export const Time: FC<{ at: number | null; empty?: string; short?: boolean; day?: boolean }> = ({
  at,
  empty = 'never',
  short = false,
  day = false,
}) =>
  at === null ? (
    <span class="muted">{empty}</span>
  ) : (
    <time datetime={isoTime(at)} title={short || day ? formatTime(at) : undefined}>
      {formatTime(at, day ? 'date' : short ? 'minute' : 'full')}
    </time>
  );

export const TimesNote: FC = () => <p class="table-note">Times are UTC.</p>;

export const Notice: FC<{ text?: string }> = ({ text }) =>
  text ? (
    <div class="alert alert-ok" role="status">
      {text}
    </div>
  ) : null;

export const ErrorAlert: FC<{ text?: string }> = ({ text }) =>
  text ? (
    <div class="alert alert-error" role="alert">
      {text}
    </div>
  ) : null;

const NavLink: FC<{ href: string; current: boolean; children?: Child }> = ({ href, current, children }) => (
  <li>
    <a href={href} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  </li>
);

export const Layout: FC<LayoutProps> = ({ title, viewer, section, notice, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex" />
      <title>{`${title} · tokenladder`}</title>
      <link rel="icon" href="/ui/assets/favicon.svg" type="image/svg+xml" />
      <link rel="stylesheet" href={CSS_URL} />
      <script src={SCRIPT_URL} defer></script>
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to content
      </a>
      {viewer && (
        <header class="top">
          <div class="top-inner">
            <a class="brand" href="/ui/bases">
              <span class="brand-mark" aria-hidden="true">
                tl
              </span>
              tokenladder
            </a>
            <nav aria-label="Main">
              <ul class="nav">
                <NavLink href="/ui/bases" current={section === 'bases'}>
                  Bases
                </NavLink>
                <NavLink href="/ui/account-tokens" current={section === 'account-tokens'}>
                  Account-Tokens
                </NavLink>
                {viewer.seesEveryUser && (
                  <NavLink href="/ui/admin/users" current={section === 'users'}>
                    Users
                  </NavLink>
                )}
              </ul>
            </nav>
            <div class="who">
              <span class="who-email" title={viewer.email}>
                {viewer.email}
              </span>
              <form method="post" action="/ui/logout">
                <CsrfField token={viewer.csrf} />
                <button type="submit" class="btn btn-secondary btn-small">
                  Sign out
                </button>
              </form>
            </div>
          </div>
        </header>
      )}
      <main id="main" tabindex={-1}>
        <Notice text={notice} />
        {children}
      </main>
    </body>
  </html>
);

/** Sends a page: doctype, HTML, the given status. */
export async function render(
  c: Context,
  page: string | Promise<string>,
  status: 200 | 400 | 401 | 403 | 404 | 409 | 429 | 500 | 503 = 200,
): Promise<Response> {
  return c.html(`<!DOCTYPE html>${await page}`, status);
}
