// The tokenladder configuration every benchmark process shares (seeding and the servers under test),
// built from the documented environment variables so new settings keep their defaults.
import type { ScryptParams } from '../../src/accounts/passwords';
import { appConfigFromEnv, parseEnv, type AppConfig } from '../../src/config';
import type { Logger } from '../../src/deps';

export const ISSUER = 'http://tokenladder.bench';

/** Cheap scrypt for setting the fixture up; the servers under test use the production default. */
export const SETUP_SCRYPT: ScryptParams = { ln: 10, r: 8, p: 1 };

export const benchConfig = (scrypt?: ScryptParams): AppConfig => {
  const config = appConfigFromEnv(parseEnv({ TOKENLADDER_ISSUER: ISSUER }));
  return scrypt ? { ...config, scrypt } : config;
};

/** Logging costs nothing in the measurements: every line is dropped. */
export const discardLog: Logger = { info() {}, warn() {}, error() {} };
