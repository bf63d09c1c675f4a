import type { Role } from '../store/schema';

/** The authenticated caller of an Account-Token route. */
export interface Principal {
  userId: string;
  email: string;
  name: string;
  role: Role;
  teamId: string | null;
  /** The Account-Token this request came with. */
  tokenId: string;
  tokenName: string;
  /**
   * When that Account-Token ends (epoch seconds): the earlier of its expiry and its creation plus the
   * configured maximum age; null for never. Base-Tokens exchanged with it end by then too.
   */
  tokenEndsAt: number | null;
  /**
   * The revocation feed's position read with the Account-Token (src/revocations/feed.ts,
   * feedPosition): Base-Tokens and temporary API-Tokens made with this request carry it as `gen`.
   */
  gen: number;
  /** Where the request came from (set by the HTTP layer; for the audit log). */
  clientIp?: string | null;
}
