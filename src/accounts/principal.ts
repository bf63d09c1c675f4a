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
  /** Where the request came from (set by the HTTP layer; for the audit log). */
  clientIp?: string | null;
}
