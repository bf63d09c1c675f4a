// Ceiling of HTTP verification: the example base service's read route with no auth at all.
import { Hono } from 'hono';
import { serveFetch } from '../lib/child';

const rowsByBase = new Map<string, unknown[]>();
const app = new Hono().get('/bases/:base_uuid/rows', (c) =>
  c.json({ rows: rowsByBase.get(c.req.param('base_uuid')) ?? [] }),
);
serveFetch(app.fetch);
