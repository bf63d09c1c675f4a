// Setup file of the `postgres` vitest project: the test apps of every file run on PostgreSQL
// (TOKENLADDER_TEST_STORE=postgres, set by the project), each over a database of its own, dropped
// after the file.
import { afterAll } from 'vitest';
import { closeOpenedTestApps } from '../helpers/app';

afterAll(closeOpenedTestApps);
