// The `tokenladder` command. bin/tokenladder.mjs runs it built (bin/build-cli.mjs → dist/cli/).
// Keep this file to registrations: a command module defines its options here-cheap and imports what
// it runs inside its action (`await import(…)`), so --version and --help load commander only
// (test/e2e/cli.test.ts checks the packages loaded at start; bench/cli.ts measures).
import { registerClientCommands } from './cli/client-commands';
import { createProgram, run } from './cli/program';
import { registerServerCommands } from './cli/server-commands';

const program = createProgram();
registerServerCommands(program);
registerClientCommands(program);

await run(program, process.argv);
