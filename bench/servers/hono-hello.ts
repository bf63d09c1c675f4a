// Reference: the cheapest Hono endpoint on @hono/node-server.
import { Hono } from 'hono';
import { serveFetch } from '../lib/child';

serveFetch(new Hono().post('/api/v1/base-tokens', (c) => c.text('hello')).fetch);
