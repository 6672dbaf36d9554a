// Serves the web UI: the page at `/`, its stylesheet, and its modules compiled from client.ts and its imports (read
// from dist next to this file, so a plain `tsc` build is all it needs). Everything else the page
// shows comes from the JSON API (ClusterOverview, GetTabletHealth, GetWorkflowsOverview, GetWorkflowDetail).
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UI_CSS, UI_HTML } from './page.js';

/** The page's modules, compiled next to this file: the entry and what it imports. */
const MODULES = new Set(['client', 'client-util', 'workflow-pages']);

// The page loads only its own files and talks only to this server.
const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
  });
  res.end(head ? undefined : body);
}

/** Answers the UI's own paths; false for any other path. */
export async function serveUi(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const head = req.method === 'HEAD';
  switch (pathname) {
    case '/':
    case '/index.html':
      send(res, 200, 'text/html; charset=utf-8', UI_HTML, head);
      return true;
    case '/ui/style.css':
      send(res, 200, 'text/css; charset=utf-8', UI_CSS, head);
      return true;
    default: {
      const m = /^\/ui\/([a-z-]+)\.js(\.map)?$/.exec(pathname);
      if (!m || !MODULES.has(m[1])) return false;
      const file = new URL(`./${m[1]}.js${m[2] ?? ''}`, import.meta.url);
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch {
        send(res, 404, 'text/plain; charset=utf-8', `${pathname} is missing from the build; run npx tsc -p tsconfig.json\n`, head);
        return true;
      }
      send(res, 200, pathname.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8', body, head);
      return true;
    }
  }
}
