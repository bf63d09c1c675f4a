// The token-management web page at /ui: server-rendered with hono/jsx, runtime-neutral (Node and Workers).
export { uiRoutes, UI_CSP } from './routes';
export { SESSION_COOKIE, SESSION_TOKEN_NAME } from './session';
