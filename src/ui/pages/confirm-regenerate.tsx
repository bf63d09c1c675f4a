/** @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import type { ApiToken } from '../../tokens/api-tokens';
import { tokenUrl, type BaseInfo } from './base-tokens';
import { CsrfField, Layout, type Viewer } from './layout';

/** Step one of Regenerate: what it does, asked before it is done (GET, so it changes nothing). */
export const ConfirmRegeneratePage: FC<{ viewer: Viewer; base: BaseInfo; token: ApiToken }> = ({
  viewer,
  base,
  token,
}) => (
  <Layout title="Regenerate the secret" viewer={viewer} section="bases">
    <div class="card danger-zone narrow">
      <h1>Regenerate the secret of “{token.name}”?</h1>
      <p>
        A new secret is shown once. The current secret stops working at once: scripts and integrations using
        it are refused until they get the new one. Name, permission and expiry stay.
      </p>
      {!token.enabled && (
        <p class="alert alert-warn">
          This API-Token is disabled. Regenerating does not enable it: the new secret is refused too until you
          turn Active on.
        </p>
      )}
      <form method="post" action={`${tokenUrl(base.uuid, token.id)}/regenerate`} class="row-actions">
        <CsrfField token={viewer.csrf} />
        <button type="submit" class="btn btn-danger">
          Regenerate
        </button>
        <a class="btn btn-secondary" href={tokenUrl(base.uuid, token.id)}>
          Cancel
        </a>
      </form>
    </div>
  </Layout>
);
