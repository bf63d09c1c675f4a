// The tokenladder configuration every benchmark process shares (seeding and the servers under test),
// built from the documented environment variables so new settings keep their defaults.
import type { ScryptParams } from '../../src/accounts/passwords';
import { appConfigFromEnv, parseEnv, type AppConfig } from '../../src/config';
import type { Logger } from '../../src/deps';

export const ISSUER = 'http://tokenladder.bench';

/** Cheap scrypt for setting the fixture up; the servers under test use the production default. */
export const SETUP_SCRYPT: ScryptParams = { ln: 10, r: 8, p: 1 };

/** Settings a scenario gives its servers by their documented names (scenario oauth: its resource server). */
const PASSED_THROUGH = ['TOKENLADDER_INTROSPECTION_CLIENTS'] as const;

export const benchConfig = (scrypt?: ScryptParams): AppConfig => {
  const passed = PASSED_THROUGH.flatMap((name) => {
    const value = process.env[name];
    return value === undefined ? [] : [[name, value] as const];
  });
  const config = appConfigFromEnv(parseEnv({ TOKENLADDER_ISSUER: ISSUER, ...Object.fromEntries(passed) }));
  return scrypt ? { ...config, scrypt } : config;
};

/** Logging costs nothing in the measurements: every line is dropped. */
export const discardLog: Logger = { info() {}, warn() {}, error() {} };
