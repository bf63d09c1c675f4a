/** @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import { Layout, type Viewer } from './layout';

export const ErrorPage: FC<{ title: string; message: string; viewer?: Viewer }> = ({
  title,
  message,
  viewer,
}) => (
  <Layout title={title} viewer={viewer}>
    <div class="card">
      <h1>{title}</h1>
      <p>{message}</p>
      <p>
        <a href={viewer ? '/ui/bases' : '/ui/login'}>{viewer ? 'Back to your bases' : 'Go to sign-in'}</a>
      </p>
    </div>
  </Layout>
);
