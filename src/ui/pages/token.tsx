/** @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import type { ApiToken } from '../../tokens/api-tokens';
import { grantKind, PERMISSION_LABEL, scopeLines } from '../format';
import { ActiveSwitch, baseTokensUrl, tokenUrl, type BaseInfo } from './base-tokens';
import { CsrfField, ErrorAlert, Layout, Time, type Viewer } from './layout';

export const TokenPage: FC<{
  viewer: Viewer;
  base: BaseInfo;
  token: ApiToken;
  /** Whether the viewer may obtain a new secret (its owner only: src/tokens/api-token-lifecycle.ts). */
  regenerable: boolean;
  notice?: string;
  error?: string;
  name?: string;
}> = ({ viewer, base, token, regenerable, notice, error, name }) => (
  <Layout title={`${token.name}: API-Token`} viewer={viewer} section="bases" notice={notice}>
    <div class="page-head">
      <div>
        <p class="crumbs">
          <a href="/ui/bases">Bases</a> <span aria-hidden="true">›</span>{' '}
          <a href={baseTokensUrl(base.uuid)}>{base.name}</a> <span aria-hidden="true">›</span>
        </p>
        <h1>{token.name}</h1>
        <p>API-Token</p>
      </div>
    </div>
    <div class="split">
      <section class="card" aria-labelledby="about">
        <h2 id="about">Details</h2>
        <dl class="details">
          <dt>Permission</dt>
          <dd>
            <span class={`badge badge-${grantKind(token)}`}>
              {PERMISSION_LABEL[grantKind(token)] ?? grantKind(token)}
            </span>
          </dd>
          <dt id="scopes-term">Scopes</dt>
          <dd>
            <ul class="scope-list" aria-labelledby="scopes-term" aria-describedby="scopes-note">
              {scopeLines(token).map((line) => (
                <li class={line.granted ? undefined : 'muted'}>
                  <span class="scope-name">{line.category}</span> <span class="scope-level">{line.text}</span>
                </li>
              ))}
            </ul>
            <p class="hint" id="scopes-note">
              Each exchange also caps these at the creator’s current role on this base.
            </p>
          </dd>
          <dt>Creator</dt>
          <dd>{token.createdByEmail}</dd>
          <dt>Created</dt>
          <dd>
            <Time at={token.createdAt} />
          </dd>
          <dt>Last used</dt>
          <dd>
            <Time at={token.lastUsedAt} />
          </dd>
          <dt>Expires</dt>
          <dd>
            {token.expired ? <span class="badge badge-danger">expired</span> : <Time at={token.expiresAt} />}
          </dd>
          <dt>Networks</dt>
          <dd>{token.allowedNetworks ? token.allowedNetworks.join(', ') : 'any address'}</dd>
          <dt>Active</dt>
          <dd>
            <ActiveSwitch viewer={viewer} base={base} token={token} back="token" />
          </dd>
          <dt>Id</dt>
          <dd class="mono">{token.id}</dd>
        </dl>
      </section>
      <div>
        <section class="card" aria-labelledby="rename">
          <h2 id="rename">Rename</h2>
          <ErrorAlert text={error} />
          <form method="post" action={`${tokenUrl(base.uuid, token.id)}/rename`} class="inline-form">
            <CsrfField token={viewer.csrf} />
            <div class="field">
              <label for="new-name">New name</label>
              <input
                id="new-name"
                name="name"
                type="text"
                required
                maxlength={100}
                value={name ?? token.name}
                autocomplete="off"
              />
            </div>
            <button type="submit" class="btn btn-primary">
              Rename
            </button>
          </form>
        </section>
        {regenerable && (
          <section class="card" aria-labelledby="regenerate">
            <h2 id="regenerate">Regenerate the secret</h2>
            <p>
              A new secret replaces the current one, which stops working at once. Name, permission and expiry
              stay.
            </p>
            <a class="btn btn-secondary" href={`${tokenUrl(base.uuid, token.id)}/regenerate`}>
              Regenerate…
            </a>
          </section>
        )}
        <section class="card danger-zone" aria-labelledby="delete">
          <h2 id="delete">Delete</h2>
          <p>Whatever uses this token is refused from then on. This cannot be undone.</p>
          <a class="btn btn-danger" href={`${baseTokensUrl(base.uuid)}/delete?ids=${token.id}`}>
            Delete…
          </a>
        </section>
      </div>
    </div>
  </Layout>
);
