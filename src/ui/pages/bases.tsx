/** @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import type { Base } from '../../bases/bases';
import { PERMISSION_LABEL } from '../format';
import { CsrfField, ErrorAlert, Layout, Time, TimesNote, type Viewer } from './layout';

export type BaseItem = Base;

export const BasesPage: FC<{
  viewer: Viewer;
  bases: BaseItem[];
  notice?: string;
  error?: string;
  name?: string;
}> = ({ viewer, bases, notice, error, name }) => (
  <Layout title="Bases" viewer={viewer} section="bases" notice={notice}>
    <div class="page-head">
      <div>
        <h1>Bases</h1>
        <p>Pick a base to manage its API-Tokens.</p>
      </div>
    </div>
    <section class="card" aria-labelledby="new-base">
      <h2 id="new-base">Create a base</h2>
      <ErrorAlert text={error} />
      <form method="post" action="/ui/bases" class="inline-form">
        <CsrfField token={viewer.csrf} />
        <div class="field">
          <label for="base-name">Name</label>
          <input
            id="base-name"
            name="name"
            type="text"
            required
            maxlength={100}
            value={name ?? ''}
            autocomplete="off"
          />
        </div>
        <button type="submit" class="btn btn-primary">
          Create base
        </button>
      </form>
    </section>
    <section aria-labelledby="your-bases">
      <h2 id="your-bases">Your bases</h2>
      <div class="table-wrap">
        {bases.length === 0 ? (
          <p class="empty">No bases yet. Create one above.</p>
        ) : (
          <table class="stack">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Your permission</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {bases.map((base) => (
                <tr>
                  <td class="name">
                    <a href={`/ui/bases/${base.uuid}`}>{base.name}</a>
                  </td>
                  <td data-label="Your permission">
                    <span class={`badge badge-${base.permission}`}>
                      {PERMISSION_LABEL[base.permission] ?? base.permission}
                    </span>
                  </td>
                  <td data-label="Created">
                    <Time at={base.createdAt} day />
                  </td>
                  <td class="actions">
                    <a
                      class="btn btn-secondary btn-small"
                      href={`/ui/bases/${base.uuid}`}
                      aria-label={`API-Tokens of ${base.name}`}
                    >
                      API-Tokens
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {bases.length > 0 && <TimesNote />}
    </section>
  </Layout>
);
