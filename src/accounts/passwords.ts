import { AppError } from '../errors';
import { base64NoPad, constantTimeEqual, fromBase64NoPad, randomBytes } from '../lib/bytes';
import { COMMON_PASSWORDS } from './common-passwords';

/** scrypt cost parameters; N = 2^ln. Stored beside every hash in its PHC string. */
export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

/** The runtime's scrypt (node:crypto on Node and on Workers with nodejs_compat), injected by the entry. */
export type ScryptFunction = (
  password: Uint8Array,
  salt: Uint8Array,
  options: { N: number; r: number; p: number; keylen: number; maxmem: number },
) => Promise<Uint8Array>;

export const DEFAULT_SCRYPT: ScryptParams = { ln: 15, r: 8, p: 3 };
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Workers cap scrypt at N·r·p ≤ 2^20; the same bound everywhere keeps a database portable. */
const MAX_COST = 2 ** 20;
const PHC_PATTERN =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{22,88})\$([A-Za-z0-9+/]{43})$/;

/** Why parameters are unacceptable, or null. Checked for the policy at start-up and for every stored hash before any work. */
export function scryptParamsProblem({ ln, r, p }: ScryptParams): string | null {
  if (!Number.isInteger(ln) || ln < 10 || ln > 17) return 'ln must be an integer from 10 to 17';
  if (!Number.isInteger(r) || r < 1 || r > 16) return 'r must be an integer from 1 to 16';
  if (!Number.isInteger(p) || p < 1 || p > 4) return 'p must be an integer from 1 to 4';
  if (2 ** ln * r * p > MAX_COST) return 'N·r·p must not exceed 2^20';
  return null;
}

export const formatScryptParams = ({ ln, r, p }: ScryptParams) => `ln=${ln},r=${r},p=${p}`;

export interface PasswordVerification {
  ok: boolean;
  /** The hash was made with other parameters than the current policy: store a fresh one. */
  needsRehash: boolean;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Verifies against a PHC string; with `null` (unknown user) it spends one hash on a dummy and fails. */
  verify(password: string, phc: string | null): Promise<PasswordVerification>;
}

export interface PasswordHasherOptions {
  scrypt: ScryptFunction;
  params: ScryptParams;
  /** Hashes computed at once; more wait in a queue (Node's threadpool has 4 threads). */
  maxConcurrent?: number;
  /** Waiting hashes beyond which a request is turned away with 503 instead of queueing. */
  maxQueued?: number;
}

/** NFKC (NIST SP 800-63B) so the same password typed on another keyboard or OS still matches. */
export const normalizePassword = (password: string) => password.normalize('NFKC');

/** The password rules: lengths (in code points after NFKC) from the configuration. */
export interface PasswordPolicyConfig {
  passwordMinLength: number;
  passwordMaxLength: number;
}

/**
 * Why a new password is refused, or null (NIST SP 800-63B-4 §3.1.1.2). Length in code points after
 * NFKC, no composition rules, and no password that is on the list of common passwords or is the
 * account's email address or its local part (case-insensitively after NFKC; also with digits,
 * spaces or symbols added at the end, "alice2024!", the usual way to pad a known word). The whole
 * password is compared, never substrings: `correct horse battery staple` is fine.
 */
export function passwordPolicyProblem(
  deps: { config: PasswordPolicyConfig },
  password: string,
  context: { email?: string } = {},
): string | null {
  const length = [...normalizePassword(password)].length;
  const { passwordMinLength: min, passwordMaxLength: max } = deps.config;
  if (length < min) return `password must be at least ${min} characters`;
  if (length > max) return `password must be at most ${max} characters`;
  const folded = foldPassword(password);
  const padded = folded.replace(/[\p{N}\p{P}\p{S}\p{Z}]+$/u, '');
  const variants = padded === folded || padded === '' ? [folded] : [folded, padded];
  if (context.email !== undefined) {
    const email = foldPassword(context.email.trim());
    const local = email.slice(0, Math.max(0, email.lastIndexOf('@')));
    if (variants.some((variant) => variant === email || (local !== '' && variant === local)))
      return 'password must not be your email address or part of it';
  }
  if (variants.some((variant) => variant === SERVICE_NAME))
    return 'password must not be the name of this service';
  if (variants.some(isCommonPassword))
    return 'password is too common: it is on a list of frequently used passwords';
  return null;
}

const SERVICE_NAME = 'tokenladder';

/** What the blocklist compares: NFKC, then lower case. */
const foldPassword = (text: string) => normalizePassword(text).toLowerCase();

/**
 * The start-up warning for a minimum below NIST SP 800-63B-4's 15 characters for single-factor
 * passwords (8 is allowed only with a second factor), or null.
 */
export function passwordLengthDeviation(config: PasswordPolicyConfig): string | null {
  if (config.passwordMinLength >= 15) return null;
  return `TOKENLADDER_PASSWORD_MIN_LENGTH=${config.passwordMinLength} is below the 15 characters NIST SP 800-63B-4 requires for passwords used as the only factor`;
}

let commonPasswords: Set<string> | undefined;
/** Whole-password lookup in the shipped list (src/accounts/common-passwords.ts), built on first use. */
export function isCommonPassword(password: string): boolean {
  commonPasswords ??= new Set(COMMON_PASSWORDS.split('\n'));
  return commonPasswords.has(foldPassword(password));
}

export function createPasswordHasher(options: PasswordHasherOptions): PasswordHasher {
  const problem = scryptParamsProblem(options.params);
  if (problem) throw new Error(`invalid scrypt parameters: ${problem}`);
  const policy = formatScryptParams(options.params);
  const limit = createLimiter(options.maxConcurrent ?? 4, options.maxQueued ?? 64);
  let dummyHash: Promise<string> | undefined;

  const derive = (password: string, salt: Uint8Array, { ln, r, p }: ScryptParams) =>
    limit(() =>
      options.scrypt(new TextEncoder().encode(normalizePassword(password)), salt, {
        N: 2 ** ln,
        r,
        p,
        keylen: KEY_LENGTH,
        maxmem: 2 ** ln * r * 256 + 1024 * 1024,
      }),
    );

  const hash = async (password: string) => {
    const salt = randomBytes(SALT_LENGTH);
    const key = await derive(password, salt, options.params);
    return `$scrypt$${policy}$${base64NoPad(salt)}$${base64NoPad(key)}`;
  };

  return {
    hash,
    async verify(password, phc) {
      const parsed = phc === null ? null : parsePhc(phc);
      if (!parsed) {
        // Same work as a real check, so an unknown user costs what a known one does.
        dummyHash ??= hash('tokenladder dummy password');
        const dummy = parsePhc(await dummyHash)!;
        await derive(password, dummy.salt, dummy.params);
        return { ok: false, needsRehash: false };
      }
      const key = await derive(password, parsed.salt, parsed.params);
      const ok = constantTimeEqual(base64NoPad(key), parsed.key);
      return { ok, needsRehash: ok && formatScryptParams(parsed.params) !== policy };
    },
  };
}

function parsePhc(phc: string): { params: ScryptParams; salt: Uint8Array; key: string } | null {
  const match = PHC_PATTERN.exec(phc);
  if (!match) return null;
  const params = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  // A tampered row must not make us spend 2^30 work: bounds before computing.
  if (scryptParamsProblem(params)) return null;
  return { params, salt: fromBase64NoPad(match[4]!), key: match[5]! };
}

/** A counting semaphore with a bounded queue. */
function createLimiter(maxConcurrent: number, maxQueued: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= maxConcurrent) {
      if (waiting.length >= maxQueued) {
        throw new AppError('service_unavailable', 'too many sign-ins at once, retry shortly', 1);
      }
      // The finishing task hands its slot over directly, so `running` never overshoots.
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else {
      running++;
    }
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
