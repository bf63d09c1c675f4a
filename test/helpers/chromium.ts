import { existsSync } from 'node:fs';

// Installed by `npm run setup:browser` (scripts/ensure-chromium.sh, which .ci/run calls), never by the tests.
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Headless, and no background connections: this machine's network refuses them, many at a time.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const HAS_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
if (!HAS_CHROMIUM && IN_CI)
  throw new Error(`no Chromium at ${CHROMIUM}: CI must run \`npm run setup:browser\` first`);
