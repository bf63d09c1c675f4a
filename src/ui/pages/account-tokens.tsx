/** @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import { CsrfField, Layout, Time, TimesNote, type Viewer } from './layout';

export interface AccountTokenItem {
  id: string;
  name: string;
  created_at: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  current: boolean;
}

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
                  <Time iso={token.created_at} day />
                </td>
                <td data-label="Last used">
                  <Time iso={token.last_used_at} short />
                </td>
                <td data-label="Expires">
                  <Time iso={token.expires_at} day />
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
