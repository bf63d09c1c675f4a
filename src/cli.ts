// The `tokenladder` command. bin/tokenladder.mjs runs it built (bin/build-cli.mjs → dist/cli/).
// Keep this file to registrations. A command module defines its commands and options cheaply and
// imports what an action runs inside the action (`await import(…)`): --version, --help and the client
// commands then load commander and openapi-fetch only (test/e2e/cli.test.ts checks the packages
// loaded at start; bench/cli.ts measures the time).
import { registerClientCommands } from './cli/client-commands';
import { createProgram, run } from './cli/program';
import { registerServerCommands } from './cli/server-commands';

const program = createProgram();
registerServerCommands(program);
registerClientCommands(program);

await run(program, process.argv);
