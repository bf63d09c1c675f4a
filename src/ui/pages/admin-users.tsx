/** @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import type { User } from '../../accounts/users';
import { ROLE_LABEL } from '../format';
import { Layout, Time, TimesNote, type Viewer } from './layout';

export type UserItem = User;

export const AdminUsersPage: FC<{ viewer: Viewer; users: UserItem[] }> = ({ viewer, users }) => (
  <Layout title="Users" viewer={viewer} section="users">
    <div class="page-head">
      <div>
        <h1>Users</h1>
        <p>Everyone on this instance ({users.length}). Manage them with the API or the command line.</p>
      </div>
    </div>
    <div class="table-wrap">
      <table class="stack">
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Team</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr>
              <td class="name">{user.email}</td>
              <td data-label="Name">{user.name || <span class="muted">—</span>}</td>
              <td data-label="Role">{ROLE_LABEL[user.role] ?? user.role}</td>
              <td data-label="Team">
                {user.teamId ? (
                  <span class="mono small">{user.teamId.slice(0, 8)}</span>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
              <td data-label="Status">
                {user.isActive ? (
                  <span class="badge badge-rw">active</span>
                ) : (
                  <span class="badge badge-danger">deactivated</span>
                )}
              </td>
              <td data-label="Created">
                <Time at={user.createdAt} day />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    <TimesNote />
  </Layout>
);
