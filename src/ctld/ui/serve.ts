// Serves the web UI: the page at `/`, its stylesheet, and its module compiled from client.ts (read
// from dist next to this file, so a plain `tsc` build is all it needs). Everything else the page
// shows comes from the JSON API (ClusterOverview, GetTabletHealth).
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UI_CSS, UI_HTML } from './page.js';

const CLIENT_JS = new URL('./client.js', import.meta.url);
const CLIENT_MAP = new URL('./client.js.map', import.meta.url);

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
    case '/ui/client.js':
    case '/ui/client.js.map': {
      const file = pathname.endsWith('.map') ? CLIENT_MAP : CLIENT_JS;
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
    default:
      return false;
  }
}
