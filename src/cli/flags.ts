// Flag spellings: Vitess users type `--tablet-uid`, `--tablet_uid` and the seeds' `-tablet_uid`.
// Commander understands only the first, so argv is normalised once before parsing: a single-dash
// long flag becomes double-dash, and underscores in a flag name become dashes. The seeds'
// `vtctlclient MoveTables -- --source …` puts a `--` between a ctl command and its flags (it kept
// vtctlclient's own flags apart); right after a command name (CamelCase) it is dropped.

/**
 * Boolean flags that Vitess scripts also pass as `--flag=false` (Go's flag package accepts a value
 * on a boolean). Commander does not, so `--flag=false` becomes `--no-flag` and `--flag=true` the
 * bare flag; the command declares both spellings.
 */
const GO_BOOL_FLAGS: ReadonlySet<string> = new Set(['disable-query-service']);

export function normalizeFlagSpellings(argv: readonly string[]): string[] {
  const out: string[] = [];
  let passthrough = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!passthrough && arg === '--' && i > 0 && /^[A-Z][A-Za-z]+$/.test(argv[i - 1])) continue;
    if (passthrough || arg === '--') {
      passthrough = true;
      out.push(arg);
      continue;
    }
    const m = /^(-{1,2})([A-Za-z][A-Za-z0-9_-]+)(=.*)?$/s.exec(arg);
    if (!m || (m[1] === '-' && m[2].length === 1)) {
      out.push(arg);
      continue;
    }
    // A single dash followed by several letters is a long flag in Go's flag package (`-force`).
    const name = m[2].replace(/_/g, '-');
    const value = m[3]?.slice(1).toLowerCase();
    if (GO_BOOL_FLAGS.has(name) && (value === 'false' || value === '0')) out.push(`--no-${name}`);
    else if (GO_BOOL_FLAGS.has(name) && (value === 'true' || value === '1')) out.push(`--${name}`);
    else out.push(`--${name}${m[3] ?? ''}`);
  }
  return out;
}

export function parseIntFlag(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got '${v}'`);
    return n;
  };
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A Go duration flag (`10s`, `1m`, `1m30s`, `500ms`, `0`), as milliseconds. */
export function parseDurationFlag(name: string): (v: string) => number {
  return (v: string) => {
    const text = v.trim();
    if (text === '0') return 0;
    const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
    let ms = 0;
    let at = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      ms += Number(m[1]) * DURATION_UNITS_MS[m[2]];
      at = re.lastIndex;
    }
    if (at === 0 || at !== text.length) throw new Error(`${name} must be a duration such as 10s, 1m or 500ms, got '${v}'`);
    return Math.round(ms);
  };
}
