/** @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import type { ApiToken } from '../../tokens/api-tokens';
import { baseTokensUrl, type BaseInfo } from './base-tokens';
import { CsrfField, Layout, type Viewer } from './layout';

export const ConfirmDeletePage: FC<{ viewer: Viewer; base: BaseInfo; tokens: ApiToken[] }> = ({
  viewer,
  base,
  tokens,
}) => {
  const what = tokens.length === 1 ? `the API-Token “${tokens[0]!.name}”` : `${tokens.length} API-Tokens`;
  return (
    <Layout title="Delete API-Tokens" viewer={viewer} section="bases">
      <div class="card danger-zone narrow">
        <h1>Delete {what}?</h1>
        <p>
          Scripts and integrations using {tokens.length === 1 ? 'it' : 'them'} are refused at once. This
          cannot be undone.
        </p>
        {tokens.length > 1 && (
          <ul>
            {tokens.map((token) => (
              <li>{token.name}</li>
            ))}
          </ul>
        )}
        <form method="post" action={`${baseTokensUrl(base.uuid)}/delete`} class="row-actions">
          <CsrfField token={viewer.csrf} />
          {tokens.map((token) => (
            <input type="hidden" name="ids" value={token.id} />
          ))}
          <button type="submit" class="btn btn-danger">
            Delete
          </button>
          <a class="btn btn-secondary" href={baseTokensUrl(base.uuid)}>
            Cancel
          </a>
        </form>
      </div>
    </Layout>
  );
};
