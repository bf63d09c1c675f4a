// Reference: the cheapest node:http endpoint.
import { createServer } from 'node:http';
import { listenNodeServer } from '../lib/child';

listenNodeServer(
  createServer((_request, response) =>
    response.writeHead(200, { 'content-type': 'text/plain' }).end('hello'),
  ),
);
