/** @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import type { AccountToken } from '../../accounts/account-tokens';
import { CsrfField, Layout, Time, TimesNote, type Viewer } from './layout';

export type AccountTokenItem = AccountToken & { current: boolean };

export const AccountTokensPage: FC<{ viewer: Viewer; tokens: AccountTokenItem[]; notice?: string }> = ({
  viewer,
  tokens,
  notice,
}) => (
  <Layout title="Account-Tokens" viewer={viewer} section="account-tokens" notice={notice}>
    <div class="page-head">
      <div>
        <h1>Account-Tokens</h1>
        <p>
          Every sign-in (this browser, the API, SeaTable clients) holds one. Revoke the ones you do not
          recognise.
        </p>
      </div>
    </div>
    <div class="table-wrap">
      {tokens.length === 0 ? (
        <p class="empty">No Account-Tokens.</p>
      ) : (
        <table class="stack">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((token) => (
              <tr>
                <td class="name">
                  {token.name} {token.current && <span class="badge badge-r">this session</span>}
                </td>
                <td data-label="Created">
                  <Time at={token.createdAt} day />
                </td>
                <td data-label="Last used">
                  <Time at={token.lastUsedAt} short />
                </td>
                <td data-label="Expires">
                  <Time at={token.expiresAt} day />
                </td>
                <td class="actions">
                  <form method="post" action={`/ui/account-tokens/${token.id}/revoke`}>
                    <CsrfField token={viewer.csrf} />
                    <button
                      type="submit"
                      class="btn btn-secondary btn-small"
                      aria-label={`Revoke ${token.name}${token.current ? ' (this session: signs you out)' : ''}`}
                    >
                      {token.current ? 'Revoke (sign out)' : 'Revoke'}
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
    {tokens.length > 0 && <TimesNote />}
  </Layout>
);
