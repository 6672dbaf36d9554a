// Where a profiled gate-bench run spent its CPU, by part of the hot path (docs/hot-path.md).
//
//   GATE_BENCH_PROFILE=/tmp/prof node dist/bench/gate-bench.js 5 16 ps 1 point
//   node dist/bench/profile-summary.js /tmp/prof/gate-combined-oltp_point_select.cpuprofile [top=25]
//
// Each sample is charged to the nearest frame of our code (dist/src/...) or of Node's own
// JavaScript (node:...), so a builtin (JSON.stringify, Buffer copies) counts for the code that
// called it; samples with no such frame are V8's (GC, compiling). The socket write system call is
// its own part: on a busy machine a write to a loopback socket wakes the reader and the writer
// often loses the CPU inside it, so that part is wall time more than CPU. Figures are main-thread
// µs per query (sampled time over the queries sysbench ran, from the .json gate-bench writes
// beside each profile), not scaled: the process CPU per query is printed for comparison.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Parts of the hot path, by source file (first match wins). */
const PARTS: readonly (readonly [string, RegExp])[] = [
  ['SQL parse (lexer, parser)', /\/src\/sql\/(lexer|parser|parse|tokens|keywords)/],
  ['normalize, plan cache lookup', /\/src\/sql\/normalize|\/src\/gate\/plan-cache|\/src\/gate\/planner\//],
  ['shard query text (format)', /\/src\/sql\/format/],
  ['other SQL tree walks (rewrite, walk)', /\/src\/sql\//],
  ['session, transaction bookkeeping, executor', /\/src\/gate\/(executor|session|metrics|buffer|errors)\b/],
  ['vindex and shard resolution', /\/src\/(vindexes|key)\/|\/src\/gate\/(resolver|engine\/route)\b/],
  ['tablet pick (health check)', /\/src\/gate\/health-check/],
  ['result values (gate values, binary rows)', /\/src\/gate\/values|\/src\/mysql\/values/],
  ['MySQL server side (packets to the client)', /\/src\/mysql\/(server|protocol|packet|socket-read)/],
  ['tablet query path and pools', /\/src\/tablet\/(tablet-server|pool|schema-engine)/],
  ['MariaDB client (tablet to MariaDB)', /\/src\/mysql\/(client|client-result)/],
  ['RPC framing and messages', /\/src\/rpc\/|\/src\/tablet\/(tablet-conn|rpc-service)/],
  ['other gate code', /\/src\/gate\//],
  ['binlog reader (events, row decode)', /\/src\/mysql\/binlog\//],
  ['vstream codec (encode, decode rows)', /\/src\/vreplication\/vstream-codec/],
  ['vreplication apply SQL (player, packer, sql-bytes)', /\/src\/vreplication\/(apply|player|sql-bytes)\b/],
  ['vreplication source (row filter, streamer)', /\/src\/vreplication\/(row-streamer|filter|local-vstreamer|vstreamer|vstreamer-client)\b/],
  ['vreplication copy (copier, lastpk)', /\/src\/vreplication\/(copier|lastpk|snapshot)\b/],
  ['other vreplication (controller, store)', /\/src\/vreplication\//],
  ['other Tessera code', /\/src\//],
  ['Node sockets, streams, timers, promises (JS)', /^node:/],
];

/** Node's functions that make the write system call (directly or through a native child frame). */
const SOCKET_WRITES = new Set(['handleWriteReq', 'writeGeneric', 'writevGeneric']);

function partOf(url: string): string | null {
  if (!url) return null;
  for (const [name, re] of PARTS) if (re.test(url)) return name;
  return null;
}

const file = process.argv[2];
if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [top]');
const top = Number(process.argv[3] ?? 25);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
let meta: { queries: number; cpuUs: number } | null = null;
try {
  meta = JSON.parse(readFileSync(file.replace(/\.cpuprofile$/, '.json'), 'utf8')) as { queries: number; cpuUs: number };
} catch {
  meta = null;
}

const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** The part and the function a sample is charged to. */
const charged = new Map<number, { part: string; fn: string }>();
function chargeOf(id: number): { part: string; fn: string } {
  const hit = charged.get(id);
  if (hit) return hit;
  const self = byId.get(id)!.callFrame;
  let out: { part: string; fn: string };
  if (self.functionName === '(idle)') out = { part: '(idle)', fn: '(idle)' };
  else if (self.functionName === '(garbage collector)') out = { part: 'V8: garbage collection', fn: '(garbage collector)' };
  else {
    let cur: number | undefined = id;
    out = { part: 'V8 / native (no JS frame)', fn: self.functionName || '(anonymous)' };
    while (cur !== undefined) {
      const f = byId.get(cur)!.callFrame;
      if (SOCKET_WRITES.has(f.functionName) && f.url.startsWith('node:')) {
        out = { part: 'socket write system calls (see above)', fn: `${f.functionName} (native write under it)` };
        break;
      }
      const part = partOf(f.url);
      if (part) {
        const at = f.url.replace(/^.*\/dist\//, '').replace(/\.js$/, '');
        out = { part, fn: `${f.functionName || '(anonymous)'} ${at}:${f.lineNumber + 1}` };
        break;
      }
      cur = parent.get(cur);
    }
  }
  charged.set(id, out);
  return out;
}

const parts = new Map<string, number>();
const fns = new Map<string, number>();
let busy = 0;
let idle = 0;
for (let i = 0; i < p.samples.length; i++) {
  const dt = p.timeDeltas[i] ?? 0;
  const c = chargeOf(p.samples[i]);
  if (c.part === '(idle)') {
    idle += dt;
    continue;
  }
  busy += dt;
  parts.set(c.part, (parts.get(c.part) ?? 0) + dt);
  fns.set(`${c.fn}  [${c.part}]`, (fns.get(`${c.fn}  [${c.part}]`) ?? 0) + dt);
}

const perQuery = meta && meta.queries > 0 ? meta.cpuUs / meta.queries : null;
const fmt = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%` + (meta && meta.queries > 0 ? `  ${(us / meta.queries).toFixed(1).padStart(6)} µs/query` : '');
console.log(`${file}: main thread busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s` + (meta ? `; ${meta.queries} queries, process CPU ${(meta.cpuUs / 1e6).toFixed(2)} s = ${perQuery!.toFixed(1)} µs/query` : ''));
console.log('by part:');
for (const [k, v] of [...parts].sort((a, b) => b[1] - a[1])) console.log(`  ${fmt(v)}  ${k}`);
console.log(`top ${top} functions (self time, builtins charged to their caller):`);
for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${fmt(v)}  ${k}`);
