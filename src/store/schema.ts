import type { Generated } from 'kysely';

/** Kysely's view of the tables created by migrations/ (see schema.sql). Times are epoch seconds. */
export interface Database {
  teams: TeamsTable;
  users: UsersTable;
  workspaces: WorkspacesTable;
  bases: BasesTable;
  base_members: BaseMembersTable;
  account_tokens: AccountTokensTable;
  api_tokens: ApiTokensTable;
  signing_keys: SigningKeysTable;
}

export type Role = 'user' | 'team_admin' | 'system_admin';
export type BasePermission = 'r' | 'rw' | 'admin';
export type ApiTokenPermission = 'r' | 'rw';
export type SigningKeyState = 'next' | 'current' | 'retired';

export interface TeamsTable {
  id: string;
  name: string;
  created_at: number;
}

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  role: Role;
  team_id: string | null;
  password_hash: string | null;
  is_active: Generated<number>;
  created_at: number;
  updated_at: number;
}

export interface WorkspacesTable {
  id: string;
  name: string;
  owner_user_id: string;
  created_at: number;
}

export interface BasesTable {
  id: string;
  workspace_id: string;
  name: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface BaseMembersTable {
  base_id: string;
  user_id: string;
  permission: BasePermission;
  created_at: number;
}

export interface AccountTokensTable {
  id: string;
  user_id: string;
  name: string;
  secret_hash: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface ApiTokensTable {
  id: string;
  base_id: string;
  name: string;
  permission: ApiTokenPermission;
  secret_hash: string;
  created_by: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk_encrypted: string;
  state: SigningKeyState;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
}
