/** @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import type { ApiToken } from '../../tokens/api-tokens';
import { CATEGORIES, RECORD_OPERATIONS, scopesOfPermission } from '../../verify/scopes';
import { CATEGORY_LABEL, grantKind, OPERATION_LABEL, PERMISSION_LABEL } from '../format';
import { CsrfField, ErrorAlert, Layout, Time, TimesNote, type Viewer } from './layout';

export interface BaseInfo {
  uuid: string;
  name: string;
  permission: string;
}

/** A secret to show once, in the dialog, in the response to the POST that made it. */
export interface ShownSecret {
  heading: string;
  tokenName: string;
  token: string;
  /** A regenerated token that is still disabled (or expired): the new secret is refused until that changes. */
  disabled?: boolean;
  expired?: boolean;
}

export interface TokenFormValues {
  name?: string;
  permission?: string;
  expires?: string;
  /** Client networks, one per line or comma-separated (empty: any address). */
  networks?: string;
  /** Custom permissions: a level per category but records (`scope_<category>` fields)… */
  scopes?: Partial<Record<string, string>>;
  /** …and the record operations (`records` checkboxes). */
  records?: string[];
}

/** Every category but records: a select each; records has one checkbox per operation. */
export const SCOPE_CATEGORIES = CATEGORIES.filter((category) => category !== 'records');
export const scopeField = (category: string) => `scope_${category}`;

export const EXPIRY_CHOICES = [
  ['7', '7 days'],
  ['30', '30 days'],
  ['60', '60 days'],
  ['90', '90 days'],
  ['365', '1 year'],
  ['never', 'Never'],
] as const;

export const baseTokensUrl = (uuid: string) => `/ui/bases/${uuid}`;
export const tokenUrl = (uuid: string, id: string) => `/ui/bases/${uuid}/tokens/${id}`;

/** The Active switch: a real button posting the opposite state. */
export const ActiveSwitch: FC<{ viewer: Viewer; base: BaseInfo; token: ApiToken; back?: 'token' }> = ({
  viewer,
  base,
  token,
  back,
}) => (
  <form method="post" action={`${tokenUrl(base.uuid, token.id)}/enabled`} class="switch-form">
    <CsrfField token={viewer.csrf} />
    <input type="hidden" name="enabled" value={token.enabled ? 'false' : 'true'} />
    {back && <input type="hidden" name="back" value={back} />}
    <button
      type="submit"
      class="switch"
      role="switch"
      aria-checked={token.enabled ? 'true' : 'false'}
      aria-label={`Active: ${token.name}`}
    >
      <span class="track" aria-hidden="true"></span>
      <span class="state" aria-hidden="true">
        {token.enabled ? 'On' : 'Off'}
      </span>
    </button>
  </form>
);

const SecretDialog: FC<{ base: BaseInfo; secret: ShownSecret }> = ({ base, secret }) => (
  <dialog
    id="secret-dialog"
    open
    aria-labelledby="secret-title"
    aria-describedby="secret-help"
    data-next={baseTokensUrl(base.uuid)}
  >
    <h2 id="secret-title">{secret.heading}</h2>
    <p id="secret-help">
      Copy the token now and store it somewhere safe: it is shown <strong>only once</strong>. tokenladder
      keeps only a hash of it.
    </p>
    {secret.disabled && (
      <p class="alert alert-warn" id="secret-disabled">
        This API-Token is still disabled: the new secret is refused until you turn Active on.
      </p>
    )}
    {secret.expired && (
      <p class="alert alert-warn" id="secret-expired">
        This API-Token has expired: the new secret is refused too. Create a new token instead.
      </p>
    )}
    <label for="secret-value">API-Token “{secret.tokenName}”</label>
    <div class="copy-row">
      <input
        id="secret-value"
        type="text"
        readonly
        value={secret.token}
        spellcheck={false}
        autocomplete="off"
        autocapitalize="off"
      />
      <button type="button" id="secret-copy" class="btn btn-primary">
        Copy
      </button>
    </div>
    <p id="secret-status" class="copy-status" role="status" aria-live="polite">
      Copy the token to continue.
    </p>
    <div class="dialog-actions">
      <button type="button" id="secret-done" class="btn btn-secondary" disabled>
        Done
      </button>
    </div>
    <noscript>
      <p class="alert alert-warn">
        Select and copy the token, then <a href={baseTokensUrl(base.uuid)}>go back to the list</a>.
      </p>
    </noscript>
  </dialog>
);

/**
 * Custom permissions, all tables. Without the script the fieldset is always visible (and used only when
 * "Custom" is chosen); the script shows it only while "Custom" is chosen, and disables it otherwise.
 * Choices above the member's own role are disabled here and refused by the server anyway.
 */
const CustomScopes: FC<{ base: BaseInfo; values: TokenFormValues }> = ({ base, values }) => {
  const ceiling = scopesOfPermission(
    base.permission === 'admin' || base.permission === 'rw' ? base.permission : 'r',
  );
  const canWriteRecords = ceiling.c.records === 'rw';
  const records = values.records ?? [];
  return (
    <fieldset
      id="custom-scopes"
      class="custom-scopes"
      data-custom-scopes
      aria-describedby="custom-scopes-hint"
    >
      <legend>Custom permissions</legend>
      <p class="hint" id="custom-scopes-hint">
        Grant each category on its own; anything not granted is denied. Record operations apply to all tables.
        Choices above your own permission on this base are unavailable.
        <noscript> Used only when Permission is “Custom”.</noscript>
      </p>
      <div class="scope-grid">
        <fieldset class="scope-records">
          <legend>Records</legend>
          <div class="choices">
            {RECORD_OPERATIONS.map((op) => (
              <label class="choice" for={`scope-records-${op}`}>
                <input
                  type="checkbox"
                  id={`scope-records-${op}`}
                  name="records"
                  value={op}
                  checked={records.includes(op)}
                  disabled={op !== 'read' && !canWriteRecords}
                />
                {OPERATION_LABEL[op]}
              </label>
            ))}
          </div>
        </fieldset>
        {SCOPE_CATEGORIES.map((category) => {
          const selected = values.scopes?.[category] ?? '';
          return (
            <div class="field">
              <label for={`scope-${category}`}>{CATEGORY_LABEL[category]}</label>
              <select id={`scope-${category}`} name={scopeField(category)}>
                <option value="" selected={selected === ''}>
                  None
                </option>
                <option value="r" selected={selected === 'r'}>
                  Read
                </option>
                <option value="rw" selected={selected === 'rw'} disabled={ceiling.c[category] !== 'rw'}>
                  Read &amp; write
                </option>
              </select>
            </div>
          );
        })}
      </div>
    </fieldset>
  );
};

const CreateTokenForm: FC<{ viewer: Viewer; base: BaseInfo; values: TokenFormValues; error?: string }> = ({
  viewer,
  base,
  values,
  error,
}) => {
  const permission = values.permission ?? 'r';
  const expires = values.expires ?? '90';
  const canWrite = base.permission !== 'r';
  return (
    <section class="card" aria-labelledby="new-token">
      <h2 id="new-token">Create an API-Token</h2>
      <ErrorAlert text={error} />
      <form method="post" action={`${baseTokensUrl(base.uuid)}/tokens`}>
        <CsrfField token={viewer.csrf} />
        <div class="form-grid">
          <div class="field">
            <label for="token-name">Name</label>
            <input
              id="token-name"
              name="name"
              type="text"
              required
              maxlength={100}
              value={values.name ?? ''}
              autocomplete="off"
              aria-describedby="token-name-hint"
            />
            <p class="hint" id="token-name-hint">
              Say what uses it, e.g. “nightly-report”.
            </p>
          </div>
          <div class="field">
            <label for="token-networks">Only from networks</label>
            <textarea
              id="token-networks"
              name="networks"
              rows={2}
              maxlength={1500}
              aria-describedby="token-networks-hint"
            >
              {values.networks ?? ''}
            </textarea>
            <p class="hint" id="token-networks-hint">
              Optional: IPv4/IPv6 networks or addresses, e.g. “203.0.113.0/24, 2001:db8::/48”. Empty: any
              address.
            </p>
          </div>
          <div class="field">
            <label for="token-expires">Expires after</label>
            <select id="token-expires" name="expires">
              {EXPIRY_CHOICES.map(([value, label]) => (
                <option value={value} selected={value === expires}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          <fieldset>
            <legend>Permission</legend>
            <div class="choices">
              <label class="choice">
                <input type="radio" name="permission" value="r" checked={permission === 'r'} />
                Read-only
              </label>
              <label class="choice">
                <input
                  type="radio"
                  name="permission"
                  value="rw"
                  checked={permission === 'rw' && canWrite}
                  disabled={!canWrite}
                />
                Read &amp; write
              </label>
              <label class="choice">
                <input
                  type="radio"
                  name="permission"
                  value="custom"
                  checked={permission === 'custom'}
                  aria-describedby="custom-scopes-hint"
                />
                Custom
              </label>
            </div>
          </fieldset>
          <CustomScopes base={base} values={values} />
          <div class="actions">
            <button type="submit" class="btn btn-primary">
              Create token
            </button>
          </div>
        </div>
      </form>
    </section>
  );
};

export interface BaseTokensProps {
  viewer: Viewer;
  base: BaseInfo;
  tokens: ApiToken[];
  notice?: string;
  error?: string;
  values?: TokenFormValues;
  secret?: ShownSecret;
}

export const BaseTokensPage: FC<BaseTokensProps> = ({
  viewer,
  base,
  tokens,
  notice,
  error,
  values = {},
  secret,
}) => (
  <Layout title={`${base.name}: API-Tokens`} viewer={viewer} section="bases" notice={notice}>
    <div class="page-head">
      <div>
        <p class="crumbs">
          <a href="/ui/bases">Bases</a> <span aria-hidden="true">›</span>
        </p>
        <h1>{base.name}</h1>
        <p>
          API-Tokens for this base · your permission:{' '}
          <span class={`badge badge-${base.permission}`}>
            {PERMISSION_LABEL[base.permission] ?? base.permission}
          </span>
        </p>
        <p class="base-uuid">
          <span>Base UUID</span> <code id="base-uuid">{base.uuid}</code>{' '}
          <button
            type="button"
            class="btn btn-secondary btn-small"
            data-copy="base-uuid"
            aria-label="Copy the base UUID"
            hidden
          >
            Copy
          </button>
          <span class="copy-status" role="status" aria-live="polite" data-copy-status="base-uuid"></span>
        </p>
      </div>
    </div>
    <CreateTokenForm viewer={viewer} base={base} values={values} error={error} />
    <section aria-labelledby="token-list">
      <div class="toolbar">
        <h2 id="token-list">API-Tokens</h2>
        {tokens.length > 0 && (
          <form id="bulk" method="get" action={`${baseTokensUrl(base.uuid)}/delete`} data-bulk>
            <button type="submit" class="btn btn-danger btn-small">
              Delete selected
            </button>
          </form>
        )}
      </div>
      <div class="table-wrap">
        {tokens.length === 0 ? (
          <p class="empty">No API-Tokens for this base yet.</p>
        ) : (
          <table class="stack">
            <thead>
              <tr>
                <th scope="col" class="check">
                  <input type="checkbox" data-select-all="bulk" aria-label="Select all API-Tokens" hidden />
                </th>
                <th scope="col">Name</th>
                <th scope="col">Permission</th>
                <th scope="col">Creator</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">Active</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((token) => (
                <tr id={`token-${token.id}`}>
                  <td class="check">
                    <input
                      type="checkbox"
                      name="ids"
                      value={token.id}
                      form="bulk"
                      aria-label={`Select ${token.name}`}
                    />
                  </td>
                  <td class="name">{token.name}</td>
                  <td data-label="Permission">
                    <span class={`badge badge-${grantKind(token)}`}>
                      {PERMISSION_LABEL[grantKind(token)] ?? grantKind(token)}
                    </span>
                  </td>
                  <td data-label="Creator" class="creator">
                    {token.createdByEmail}
                  </td>
                  <td data-label="Created">
                    <Time at={token.createdAt} day />
                  </td>
                  <td data-label="Last used">
                    <Time at={token.lastUsedAt} short />
                  </td>
                  <td data-label="Expires">
                    {token.expired ? (
                      <span class="badge badge-danger">expired</span>
                    ) : (
                      <Time at={token.expiresAt} day />
                    )}
                  </td>
                  <td data-label="Active">
                    <ActiveSwitch viewer={viewer} base={base} token={token} />
                  </td>
                  <td class="actions">
                    <div class="row-actions">
                      <a
                        class="btn btn-secondary btn-small"
                        href={tokenUrl(base.uuid, token.id)}
                        aria-label={`Manage ${token.name}`}
                      >
                        Manage
                      </a>
                      <a
                        class="btn btn-secondary btn-small"
                        href={`${baseTokensUrl(base.uuid)}/delete?ids=${token.id}`}
                        aria-label={`Delete ${token.name}`}
                      >
                        Delete
                      </a>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {tokens.length > 0 && <TimesNote />}
    </section>
    {secret && <SecretDialog base={base} secret={secret} />}
  </Layout>
);
