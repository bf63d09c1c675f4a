import type { Command } from 'commander';
import { clientOptions, signedInClient, type ClientOptions } from './context';
import { ok } from './http';
import { printJson, printTable } from './output';

/** `bases list|create`. */
export function registerBaseCommands(program: Command) {
  const bases = program.command('bases').description('your bases');

  clientOptions(
    bases.command('list').description('the bases you are a member of, with your permission'),
  ).action(async (options: ClientOptions) => {
    const { bases: list } = ok(await signedInClient(options).GET('/api/v1/bases'));
    if (options.json) return printJson(list);
    printTable(
      ['uuid', 'name', 'permission', 'created_at'],
      list.map((base) => [base.uuid, base.name, base.permission, base.created_at]),
      'no bases',
    );
  });

  clientOptions(
    bases
      .command('create')
      .description('create a base in your workspace (you become its admin)')
      .argument('<name>', 'the base name')
      .option('--workspace <id>', 'workspace id (default: your personal workspace)'),
  ).action(async (name: string, options: ClientOptions & { workspace?: string }) => {
    const base = ok(
      await signedInClient(options).POST('/api/v1/bases', {
        body: { name, workspace_id: options.workspace },
      }),
    );
    if (options.json) return printJson(base);
    console.log(`created base ${base.name} (${base.uuid})`);
  });
}
