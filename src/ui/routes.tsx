/** @jsxImportSource hono/jsx */
import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { listAccountTokens, login, revokeAccountToken } from '../accounts/account-tokens';
import { listUsers, seesEveryUser } from '../accounts/users';
import { createBase, listBases, memberBase } from '../bases/bases';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { AppError, forbidden, notFound } from '../errors';
import { clientIp } from '../http/client-ip';
import { classifyError, logUnhandled, STATUS } from '../http/errors';
import { displayName, emailAddress, humanMessage, uuidParam } from '../http/validate';
import { createBaseApiTokenBody } from '../openapi/requests';
import { expiryOf } from '../tokens/expiry';
import {
  bulkRevokeApiTokens,
  mayRegenerateApiToken,
  regenerateApiToken,
  updateApiToken,
} from '../tokens/api-token-lifecycle';
import { baseApiTokensById, createApiToken, listBaseApiTokens } from '../tokens/api-tokens';
import { CSS, FAVICON_SVG, SCRIPT } from './assets';
import { CSRF_FIELD, CSRF_LABEL, csrfToken, csrfTokenMatches, sameOrigin } from './csrf';
import { noticeFrom } from './format';
import { AccountTokensPage } from './pages/account-tokens';
import { AdminUsersPage } from './pages/admin-users';
import { BasesPage } from './pages/bases';
import {
  BaseTokensPage,
  baseTokensUrl,
  SCOPE_CATEGORIES,
  scopeField,
  tokenUrl,
  type BaseTokensProps,
  type TokenFormValues,
} from './pages/base-tokens';
import { ConfirmDeletePage } from './pages/confirm-delete';
import { ConfirmRegeneratePage } from './pages/confirm-regenerate';
import { ErrorPage } from './pages/error';
import { render } from './pages/layout';
import { SignInPage } from './pages/sign-in';
import { TokenPage } from './pages/token';
import {
  clearSessionCookie,
  clearSignInCookie,
  CsrfError,
  field,
  fields,
  formOf,
  requireCsrf,
  requireSession,
  SESSION_DAYS,
  SESSION_TOKEN_NAME,
  setSessionCookie,
  signInSecret,
  type UiEnv,
} from './session';

/**
 * Scripts only from our own origin, no inline code or styles, no framing, forms only to ourselves.
 * The API's own headers stay; these replace them on /ui responses.
 */
export const UI_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const UI_HEADERS: Record<string, string> = {
  'Content-Security-Policy': UI_CSP,
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  // Not no-referrer: with it, browsers send `Origin: null` on same-origin form posts, which the CSRF check refuses.
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

const uiHeaders = createMiddleware(async (c, next) => {
  for (const [name, value] of Object.entries(UI_HEADERS)) c.header(name, value);
  c.header('Cache-Control', 'no-store');
  await next();
  // After the handler too: whatever an outer middleware or the error path put there, /ui gets its own.
  for (const [name, value] of Object.entries(UI_HEADERS)) c.res.headers.set(name, value);
  if (!c.req.path.startsWith('/ui/assets/')) c.res.headers.set('Cache-Control', 'no-store');
});

const TOKEN_ID = /^[a-z2-7]{16}$/;
const EXPIRES = z.enum(['7', '30', '60', '90', '365', 'never']);
/** The form's own choices; what they grant is then checked by the API's schema (createBaseApiTokenBody). */
const createTokenForm = z.object({
  permission: z.enum(['r', 'rw', 'custom'], 'choose read-only, read & write or custom'),
  expires: EXPIRES,
});

/** Form field names that differ from the API's in a message. */
const FIELD_LABELS: Record<string, string> = {
  scopes: 'Custom permissions',
  expires_at: 'Expires after',
  expires_in_days: 'Expires after',
  allowed_networks: 'Only from networks',
};

/** The first problem of a form, for a person: "Name: must not be empty". */
function formProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'Please check the form.';
  const key = String(issue.path[0] ?? '');
  const label = FIELD_LABELS[key] ?? key;
  const detail = issue.path.length > 1 ? ` (${issue.path.slice(1).map(String).join(' ')})` : '';
  return label
    ? `${label.charAt(0).toUpperCase()}${label.slice(1)}${detail}: ${issue.message}`
    : issue.message;
}

/**
 * The create form as the API's request body: `permission`, or for "Custom" `scopes` built from the
 * selects (empty = none) and the record checkboxes (each checked operation on all tables, `"*"`).
 * Unknown values are passed on as sent, so the API's schema refuses them; nothing is checked twice.
 */
function apiTokenBody(
  values: TokenFormValues,
  permission: 'r' | 'rw' | 'custom',
  expires: z.infer<typeof EXPIRES>,
) {
  const expiry = expires === 'never' ? { expires_at: null } : { expires_in_days: Number(expires) };
  const networks = (values.networks ?? '').split(/[\s,]+/).filter((entry) => entry !== '');
  if (networks.length > 0) Object.assign(expiry, { allowed_networks: networks });
  if (permission !== 'custom') return { name: values.name, permission, ...expiry };
  const scopes: Record<string, unknown> = {};
  const operations = [...new Set(values.records ?? [])];
  if (operations.length > 0) scopes.records = Object.fromEntries(operations.map((op) => [op, '*']));
  for (const category of SCOPE_CATEGORIES) {
    const level = values.scopes?.[category] ?? '';
    if (level !== '') scopes[category] = level;
  }
  return { name: values.name, scopes, ...expiry };
}

/** Expected failures a form shows next to itself instead of an error page. */
const FORM_ERRORS = new Set(['invalid_request', 'conflict', 'insufficient_permission']);
const formError = (error: unknown): error is AppError =>
  error instanceof AppError && FORM_ERRORS.has(error.code);
const pageStatus = (error: AppError) => STATUS[error.code] as 400 | 403 | 409;

function baseUuidOf(c: Context): string {
  const parsed = uuidParam.safeParse(c.req.param('uuid'));
  if (!parsed.success) throw notFound('base');
  return parsed.data;
}

function tokenIdOf(c: Context): string {
  const id = c.req.param('id') ?? '';
  if (!TOKEN_ID.test(id)) throw notFound('API-Token');
  return id;
}

/** The token management web page (server-rendered, progressive: every action is a plain form). */
export function uiRoutes(deps: Deps) {
  const session = requireSession(deps);
  const csrf = requireCsrf(deps);
  const app = new Hono<UiEnv>();

  const baseInfo = async (c: Context<UiEnv>, uuid: string) => {
    const { name, permission } = await memberBase(deps, c.var.principal, uuid);
    return { uuid, name, permission };
  };

  const basePage = async (
    c: Context<UiEnv>,
    uuid: string,
    extra: Partial<BaseTokensProps>,
    status: 200 | 400 | 403 | 409 = 200,
  ) => {
    const base = await baseInfo(c, uuid);
    const tokens = await listBaseApiTokens(deps, c.var.principal, uuid);
    return render(
      c,
      <BaseTokensPage
        viewer={c.var.viewer}
        base={base}
        tokens={tokens}
        notice={noticeFrom(c.req.query('notice'))}
        {...extra}
      />,
      status,
    );
  };

  /** A single-base token of this base the caller may manage; 404 otherwise. */
  const baseToken = async (c: Context<UiEnv>, uuid: string, id: string) =>
    (await baseApiTokensById(deps, c.var.principal, uuid, [id]))[0]!;

  const signInPage = async (
    c: Context,
    props: { email?: string; error?: string; notice?: string; fresh?: boolean },
    status: 200 | 400 | 401 | 403 | 429 | 503 = 200,
  ) => {
    const secret = signInSecret(c, props.fresh);
    return render(
      c,
      <SignInPage
        csrf={await csrfToken(secret, CSRF_LABEL.signIn)}
        email={props.email}
        error={props.error}
        notice={props.notice}
      />,
      status,
    );
  };

  app.use('/ui', uiHeaders);
  app.use('/ui/*', uiHeaders);

  app.get('/ui/assets/app.css', (c) =>
    c.body(CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=86400' }),
  );
  app.get('/ui/assets/app.js', (c) =>
    c.body(SCRIPT, 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=86400',
    }),
  );

  // The favicon, under /ui like the other assets (the pages link it; no route outside /ui to document).
  app.get('/ui/assets/favicon.svg', (c) =>
    c.body(FAVICON_SVG, 200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' }),
  );

  app.get('/ui', (c) => c.redirect('/ui/bases', 303));

  app.get('/ui/login', (c) => signInPage(c, { notice: noticeFrom(c.req.query('notice')) }));

  app.post('/ui/login', async (c) => {
    const form = await formOf(c);
    const email = field(form, 'email').slice(0, 254);
    const password = field(form, 'password');
    const secret = signInSecret(c);
    if (
      !sameOrigin(c, deps.config.issuer) ||
      !(await csrfTokenMatches(secret, CSRF_LABEL.signIn, form[CSRF_FIELD]))
    ) {
      return signInPage(
        c,
        {
          email,
          error: 'This sign-in form has expired or did not come from this site. Please try again.',
          fresh: true,
        },
        403,
      );
    }
    const incorrect = () => signInPage(c, { email, error: 'Email or password is incorrect.' }, 401);
    const parsedEmail = emailAddress.safeParse(email);
    if (!parsedEmail.success || password === '') return incorrect();
    let created: Awaited<ReturnType<typeof login>>;
    try {
      created = await login(deps, {
        email: parsedEmail.data,
        password,
        name: SESSION_TOKEN_NAME,
        expiresInDays: SESSION_DAYS,
        clientIp: clientIp(c, deps.config.clientIpHeader),
      });
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      if (error.code === 'rate_limited' || error.code === 'service_unavailable') {
        if (error.retryAfterSeconds !== undefined) c.header('Retry-After', String(error.retryAfterSeconds));
        const wait =
          error.retryAfterSeconds !== undefined
            ? ` Try again in ${error.retryAfterSeconds} seconds.`
            : ' Try again later.';
        const message =
          error.code === 'rate_limited' ? `Too many sign-in attempts.${wait}` : `The service is busy.${wait}`;
        return signInPage(c, { email, error: message }, error.code === 'rate_limited' ? 429 : 503);
      }
      return incorrect();
    }
    setSessionCookie(
      c,
      created.token,
      created.expiresAt === null ? SESSION_DAYS * 86400 : created.expiresAt - epochSeconds(deps.clock),
    );
    clearSignInCookie(c);
    return c.redirect('/ui/bases', 303);
  });

  app.post('/ui/logout', session, csrf, async (c) => {
    await revokeAccountToken(deps, c.var.principal, c.var.principal.tokenId);
    clearSessionCookie(c);
    return c.redirect('/ui/login?notice=signed-out', 303);
  });

  app.get('/ui/bases', session, async (c) =>
    render(
      c,
      <BasesPage
        viewer={c.var.viewer}
        bases={await listBases(deps, c.var.principal)}
        notice={noticeFrom(c.req.query('notice'))}
      />,
    ),
  );

  app.post('/ui/bases', session, csrf, async (c) => {
    const name = field(await formOf(c), 'name');
    const parsed = displayName.safeParse(name, { error: humanMessage });
    const fail = async (message: string, status: 400 | 403 | 409) =>
      render(
        c,
        <BasesPage
          viewer={c.var.viewer}
          bases={await listBases(deps, c.var.principal)}
          error={message}
          name={name}
        />,
        status,
      );
    if (!parsed.success || parsed.data.includes('/'))
      return fail(parsed.success ? 'Name: must not contain "/"' : formProblem(parsed.error), 400);
    try {
      const base = await createBase(deps, c.var.principal, { name: parsed.data });
      return c.redirect(`${baseTokensUrl(base.uuid)}?notice=base-created`, 303);
    } catch (error) {
      if (formError(error)) return fail(error.message, pageStatus(error));
      throw error;
    }
  });

  app.get('/ui/bases/:uuid', session, async (c) => basePage(c, baseUuidOf(c), {}));

  app.post('/ui/bases/:uuid/tokens', session, csrf, async (c) => {
    const uuid = baseUuidOf(c);
    const form = await formOf(c);
    const values: TokenFormValues = {
      name: field(form, 'name'),
      permission: field(form, 'permission'),
      expires: field(form, 'expires'),
      networks: field(form, 'networks'),
      scopes: Object.fromEntries(
        SCOPE_CATEGORIES.map((category) => [category, field(form, scopeField(category))]),
      ),
      records: [...new Set(fields(form, 'records'))],
    };
    const choices = createTokenForm.safeParse(values, { error: humanMessage });
    if (!choices.success) return basePage(c, uuid, { error: formProblem(choices.error), values }, 400);
    const parsed = createBaseApiTokenBody.safeParse(
      apiTokenBody(values, choices.data.permission, choices.data.expires),
      { error: humanMessage },
    );
    if (!parsed.success) return basePage(c, uuid, { error: formProblem(parsed.error), values }, 400);
    const { expires_at, expires_in_days, allowed_networks, ...body } = parsed.data;
    try {
      const expiry = { expiresAt: expires_at, expiresInDays: expires_in_days };
      const created = await createApiToken(deps, c.var.principal, {
        ...body,
        allowedNetworks: allowed_networks,
        resources: { type: 'base', baseUuid: uuid },
        expiresAt: expiryOf(expiry, epochSeconds(deps.clock)) ?? null,
      });
      return basePage(c, uuid, {
        secret: { heading: 'API-Token created', tokenName: created.name, token: created.token },
        notice: undefined,
      });
    } catch (error) {
      if (formError(error)) return basePage(c, uuid, { error: error.message, values }, pageStatus(error));
      throw error;
    }
  });

  app.get('/ui/bases/:uuid/tokens/:id', session, async (c) => {
    const uuid = baseUuidOf(c);
    const token = await baseToken(c, uuid, tokenIdOf(c));
    return render(
      c,
      <TokenPage
        viewer={c.var.viewer}
        base={await baseInfo(c, uuid)}
        token={token}
        regenerable={await mayRegenerateApiToken(deps, c.var.principal, token.createdBy)}
        notice={noticeFrom(c.req.query('notice'))}
      />,
    );
  });

  app.post('/ui/bases/:uuid/tokens/:id/enabled', session, csrf, async (c) => {
    const uuid = baseUuidOf(c);
    const id = tokenIdOf(c);
    const form = await formOf(c);
    const enabled = field(form, 'enabled');
    if (enabled !== 'true' && enabled !== 'false')
      throw new AppError('invalid_request', 'enabled: must be true or false');
    await baseToken(c, uuid, id);
    await updateApiToken(deps, c.var.principal, id, { enabled: enabled === 'true' });
    const notice = enabled === 'true' ? 'token-enabled' : 'token-disabled';
    const back =
      field(form, 'back') === 'token'
        ? `${tokenUrl(uuid, id)}?notice=${notice}`
        : `${baseTokensUrl(uuid)}?notice=${notice}#token-${id}`;
    return c.redirect(back, 303);
  });

  app.post('/ui/bases/:uuid/tokens/:id/rename', session, csrf, async (c) => {
    const uuid = baseUuidOf(c);
    const id = tokenIdOf(c);
    const token = await baseToken(c, uuid, id);
    const name = field(await formOf(c), 'name');
    const parsed = displayName.safeParse(name, { error: humanMessage });
    const fail = async (message: string, status: 400 | 403 | 409) =>
      render(
        c,
        <TokenPage
          viewer={c.var.viewer}
          base={await baseInfo(c, uuid)}
          token={token}
          regenerable={await mayRegenerateApiToken(deps, c.var.principal, token.createdBy)}
          error={message}
          name={name}
        />,
        status,
      );
    if (!parsed.success) return fail(formProblem(parsed.error), 400);
    try {
      await updateApiToken(deps, c.var.principal, id, { name: parsed.data });
    } catch (error) {
      if (formError(error))
        return fail(
          error.code === 'conflict' ? 'Another API-Token of this base already has this name.' : error.message,
          pageStatus(error),
        );
      throw error;
    }
    return c.redirect(`${tokenUrl(uuid, id)}?notice=token-renamed`, 303);
  });

  /** Step one of Regenerate: a confirmation page; GET, so it changes nothing. */
  app.get('/ui/bases/:uuid/tokens/:id/regenerate', session, async (c) => {
    const uuid = baseUuidOf(c);
    const token = await baseToken(c, uuid, tokenIdOf(c));
    if (!(await mayRegenerateApiToken(deps, c.var.principal, token.createdBy)))
      throw forbidden("only a token's owner obtains its secret: administering it may disable or delete it");
    return render(
      c,
      <ConfirmRegeneratePage viewer={c.var.viewer} base={await baseInfo(c, uuid)} token={token} />,
    );
  });

  app.post('/ui/bases/:uuid/tokens/:id/regenerate', session, csrf, async (c) => {
    const uuid = baseUuidOf(c);
    const id = tokenIdOf(c);
    const token = await baseToken(c, uuid, id);
    const regenerated = await regenerateApiToken(deps, c.var.principal, id);
    return basePage(c, uuid, {
      secret: {
        heading: 'New secret generated',
        tokenName: regenerated.name,
        token: regenerated.token,
        // A new secret does not enable the token: say so while it is shown.
        disabled: !token.enabled,
        expired: token.expired,
      },
    });
  });

  /** Step one of (bulk) delete: a confirmation page; GET, so it changes nothing. */
  app.get('/ui/bases/:uuid/delete', session, async (c) => {
    const uuid = baseUuidOf(c);
    const ids = [...new Set(c.req.queries('ids') ?? [])];
    if (ids.length === 0) return c.redirect(baseTokensUrl(uuid), 303);
    if (ids.length > 100 || !ids.every((id) => TOKEN_ID.test(id)))
      throw new AppError('invalid_request', 'select at most 100 API-Tokens');
    const tokens = await baseApiTokensById(deps, c.var.principal, uuid, ids);
    return render(
      c,
      <ConfirmDeletePage viewer={c.var.viewer} base={await baseInfo(c, uuid)} tokens={tokens} />,
    );
  });

  app.post('/ui/bases/:uuid/delete', session, csrf, async (c) => {
    const uuid = baseUuidOf(c);
    const ids = [...new Set(fields(await formOf(c), 'ids'))];
    if (ids.length === 0 || ids.length > 100 || !ids.every((id) => TOKEN_ID.test(id)))
      throw new AppError('invalid_request', 'select 1 to 100 API-Tokens');
    await baseApiTokensById(deps, c.var.principal, uuid, ids);
    await bulkRevokeApiTokens(deps, c.var.principal, ids);
    return c.redirect(`${baseTokensUrl(uuid)}?notice=tokens-deleted`, 303);
  });

  app.get('/ui/account-tokens', session, async (c) =>
    render(
      c,
      <AccountTokensPage
        viewer={c.var.viewer}
        tokens={await listAccountTokens(deps, c.var.principal)}
        notice={noticeFrom(c.req.query('notice'))}
      />,
    ),
  );

  app.post('/ui/account-tokens/:id/revoke', session, csrf, async (c) => {
    const id = c.req.param('id');
    if (!TOKEN_ID.test(id)) throw notFound('Account-Token');
    await revokeAccountToken(deps, c.var.principal, id);
    if (id === c.var.principal.tokenId) {
      clearSessionCookie(c);
      return c.redirect('/ui/login?notice=signed-out', 303);
    }
    return c.redirect('/ui/account-tokens?notice=account-token-revoked', 303);
  });

  app.get('/ui/admin/users', session, async (c) => {
    if (!seesEveryUser(c.var.principal)) {
      return render(
        c,
        <ErrorPage
          title="Not allowed"
          message="Only system admins can see this page."
          viewer={c.var.viewer}
        />,
        403,
      );
    }
    return render(c, <AdminUsersPage viewer={c.var.viewer} users={await listUsers(deps, c.var.principal)} />);
  });

  app.all('/ui/*', session, async (c) =>
    render(c, <ErrorPage title="Not found" message="There is no such page." viewer={c.var.viewer} />, 404),
  );

  app.onError(async (error, c) => {
    const viewer = c.get('viewer');
    if (error instanceof CsrfError) {
      return render(
        c,
        <ErrorPage
          title="Form rejected"
          message="This form has expired or did not come from this site. Go back, reload the page and try again."
          viewer={viewer}
        />,
        403,
      );
    }
    // Pages for the application's own errors and a busy store; anything else is an internal error.
    const problem = classifyError(error, c, deps.log);
    const { message, retryAfterSeconds } = problem;
    const status = STATUS[problem.code];
    if (problem.source === 'app' || problem.source === 'store') {
      if (status === 401) {
        clearSessionCookie(c);
        return c.redirect('/ui/login?notice=session-ended', 303);
      }
      if (status === 404)
        return render(
          c,
          <ErrorPage
            title="Not found"
            message={`${message.charAt(0).toUpperCase()}${message.slice(1)}.`}
            viewer={viewer}
          />,
          404,
        );
      if (status === 403)
        return render(c, <ErrorPage title="Not allowed" message={message} viewer={viewer} />, 403);
      if (status === 400 || status === 409)
        return render(c, <ErrorPage title="That did not work" message={message} viewer={viewer} />, status);
      if (status === 429 || status === 503) {
        if (retryAfterSeconds !== undefined) c.header('Retry-After', String(retryAfterSeconds));
        return render(
          c,
          <ErrorPage title="Please retry shortly" message={message} viewer={viewer} />,
          status,
        );
      }
    }
    if (problem.source === 'hono' && status === 413) {
      return render(
        c,
        <ErrorPage title="Too large" message="The form was too large." viewer={viewer} />,
        400,
      );
    }
    // classifyError logs only what it calls unexpected; an error the UI has no page for is logged here.
    if (problem.source !== 'unexpected') logUnhandled(error, c, deps.log);
    return render(
      c,
      <ErrorPage
        title="Something went wrong"
        message="An internal error occurred. Please try again."
        viewer={viewer}
      />,
      500,
    );
  });

  return app;
}
