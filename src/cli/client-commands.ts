// The client commands of `tokenladder`: they talk to a running server through the typed client
// (src/client), unlike serve/migrate/user/keys, which open the database directly.
import { InvalidArgumentError, type Command } from 'commander';
import { registerApiTokenCommands } from './api-token-commands';
import { registerBaseCommands } from './base-commands';
import { registerBaseTokenCommands } from './base-token-commands';
import { registerSessionCommands } from './session-commands';

const wholeNumber = (min: number, max: number, unit: string) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
    throw new InvalidArgumentError(`${unit} from ${min} to ${max}`);
  return Number(value);
};

export function registerClientCommands(program: Command) {
  const days = wholeNumber(1, 3650, 'whole days');
  const seconds = wholeNumber(0, 30 * 86400, 'whole seconds');
  registerSessionCommands(program, days);
  registerBaseCommands(program);
  registerApiTokenCommands(program, days, seconds);
  registerBaseTokenCommands(program, seconds);
}
