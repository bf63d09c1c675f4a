import type { Generated } from 'kysely';

/** Kysely's view of the tables created by migrations/ (see schema.sql). Times are epoch seconds. */
export interface Database {
  teams: TeamsTable;
  users: UsersTable;
  workspaces: WorkspacesTable;
  bases: BasesTable;
  base_members: BaseMembersTable;
  account_tokens: AccountTokensTable;
  temp_api_tokens: TempApiTokensTable;
  api_tokens: ApiTokensTable;
  api_token_bases: ApiTokenBasesTable;
  api_token_base_blocks: ApiTokenBaseBlocksTable;
  signing_keys: SigningKeysTable;
  settings: SettingsTable;
  audit_events: AuditEventsTable;
  revocations: RevocationsTable;
  throttle_counters: ThrottleCountersTable;
}

export type Role = 'user' | 'team_admin' | 'system_admin';
export type BasePermission = 'r' | 'rw' | 'admin';
export type ApiTokenPermission = 'r' | 'rw';
export type SigningKeyState = 'next' | 'current' | 'retired';
export type UserKind = 'person' | 'service';
export type ScopeType = 'base' | 'bases' | 'workspace' | 'all';

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
  /** `service`: a non-login account that owns tokens for an integration. */
  kind: Generated<UserKind>;
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

/** A temporary API-Token (SeaTable's, a JWT) while it lives: which Account-Token made it. */
export interface TempApiTokensTable {
  jti: string;
  account_token_id: string;
  expires_at: number;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  /** The token's owner: its grant is always intersected with this user's current permissions. */
  created_by: string;
  scope_type: ScopeType;
  /** The base of a `base`-scoped token; null for the other scopes. */
  base_id: string | null;
  workspace_id: string | null;
  /** The coarse summary (SeaTable's `r`/`rw`) of `grants`. */
  permission: ApiTokenPermission;
  /** Fine-grained grants as JSON (see src/tokens/grants.ts); null means exactly `permission`. */
  grants: string | null;
  secret_hash: string;
  /** After a regenerate with a grace period, the old secret until `previous_secret_expires_at`. */
  previous_secret_hash: string | null;
  previous_secret_expires_at: number | null;
  previous_last_used_at: number | null;
  enabled: Generated<number>;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /**
   * The client networks the token may be exchanged from: a JSON array of canonical CIDR strings
   * (src/verify/networks.ts); null = any address.
   */
  allowed_networks: string | null;
}

export interface ApiTokenBasesTable {
  token_id: string;
  base_id: string;
}

/** A base a kill switch took from a workspace- or all-bases token. */
export interface ApiTokenBaseBlocksTable {
  token_id: string;
  base_id: string;
  created_at: number;
}

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
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

export type AuditOutcome = 'success' | 'failure';

export interface AuditEventsTable {
  seq: number;
  at: number;
  action: string;
  outcome: AuditOutcome;
  actor_user_id: string | null;
  actor_token_id: string | null;
  subject_user_id: string | null;
  base_id: string | null;
  target_id: string | null;
  client_ip: string | null;
  /** JSON object of ids, codes and changed fields; never a secret. */
  details: string | null;
  prev_hash: string;
  hash: string;
}

export type RevocationKind = 'client' | 'jti' | 'client_base' | 'subject_base';

export interface RevocationsTable {
  seq: number;
  kind: RevocationKind;
  value: string;
  /** `client_base`, `subject_base`: the base; null otherwise. */
  base_id: string | null;
  /** `jti`: the Base-Token's source token; null otherwise. */
  client_id: string | null;
  revoked_at: number;
  expires_at: number;
  reason: string;
  /**
   * Refuses the Base-Tokens the entry matches whose `gen` claim is below this (they were exchanged
   * before the entry was written); null for entries written before migration 0007: `seq`.
   */
  gen: number | null;
}

export interface ThrottleCountersTable {
  key: string;
  hits: number;
  window_start: number;
}
