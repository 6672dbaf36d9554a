// MariaDB GTIDs and positions. A MariaDB GTID is `domain-server-sequence`; a position (a "GTID
// list" in MariaDB's words, `@@gtid_current_pos`, `@slave_connect_state`) holds the last GTID
// applied in each replication domain. Positions print the way Vitess prints them,
// `MariaDB/0-100-42,1-101-7`, so a Vitess user can paste one where a position is asked for.
//
// Sequences are 64-bit unsigned, hence bigint. Within one domain, gtid_strict_mode (which mysqlctl
// sets) guarantees sequences only grow, which is what makes "at least" a per-domain comparison.
import { ER, TesseraError } from '../errors.js';

export const MARIADB_FLAVOR = 'MariaDB';

const U32_MAX = 0xffffffff;
const U64_MAX = 0xffffffffffffffffn;

export interface Gtid {
  readonly domain: number;
  readonly server: number;
  readonly sequence: bigint;
}

export function gtid(domain: number, server: number, sequence: bigint | number): Gtid {
  const seq = typeof sequence === 'bigint' ? sequence : BigInt(sequence);
  if (!Number.isInteger(domain) || domain < 0 || domain > U32_MAX) throw badGtid(`${domain}-${server}-${seq}`, 'domain is not a 32-bit unsigned integer');
  if (!Number.isInteger(server) || server < 0 || server > U32_MAX) throw badGtid(`${domain}-${server}-${seq}`, 'server id is not a 32-bit unsigned integer');
  if (seq < 0n || seq > U64_MAX) throw badGtid(`${domain}-${server}-${seq}`, 'sequence is not a 64-bit unsigned integer');
  return { domain, server, sequence: seq };
}

export function formatGtid(g: Gtid): string {
  return `${g.domain}-${g.server}-${g.sequence}`;
}

function badGtid(text: string, why: string): TesseraError {
  return new TesseraError(ER.WRONG_ARGUMENTS, `invalid MariaDB GTID '${text}': ${why} (expected domain-server-sequence, e.g. 0-100-42)`);
}

const DIGITS = /^[0-9]{1,20}$/;

export function parseGtid(text: string): Gtid {
  const parts = text.trim().split('-');
  if (parts.length !== 3 || !parts.every((p) => DIGITS.test(p))) throw badGtid(text, 'not three dash-separated numbers');
  return gtid(Number(parts[0]), Number(parts[1]), BigInt(parts[2]));
}

/**
 * An immutable MariaDB replication position: at most one GTID per domain, kept sorted by domain so
 * that equal positions print equally.
 */
export class GtidPosition {
  static readonly EMPTY = new GtidPosition([]);

  /** Sorted by domain, one per domain. */
  readonly gtids: readonly Gtid[];

  private constructor(sorted: readonly Gtid[]) {
    this.gtids = sorted;
  }

  /** Builds a position; two GTIDs of the same domain is an error, since the position would be ambiguous. */
  static of(gtids: Iterable<Gtid>): GtidPosition {
    const byDomain = new Map<number, Gtid>();
    for (const g of gtids) {
      if (byDomain.has(g.domain)) {
        throw new TesseraError(ER.WRONG_ARGUMENTS, `invalid MariaDB position: domain ${g.domain} appears twice (${formatGtid(byDomain.get(g.domain)!)} and ${formatGtid(g)})`);
      }
      byDomain.set(g.domain, g);
    }
    return new GtidPosition([...byDomain.values()].sort((a, b) => a.domain - b.domain));
  }

  /**
   * Parses `MariaDB/0-100-42,1-101-7`, the same without the flavor prefix (as MariaDB prints
   * `@@gtid_current_pos`), or an empty string / `MariaDB/` for the empty position.
   */
  static parse(text: string): GtidPosition {
    let body = text.trim();
    const slash = body.indexOf('/');
    if (slash >= 0) {
      const flavor = body.slice(0, slash);
      if (flavor.toLowerCase() !== MARIADB_FLAVOR.toLowerCase()) {
        throw new TesseraError(ER.WRONG_ARGUMENTS, `invalid position '${text}': flavor '${flavor}' is not supported; Tessera reads MariaDB positions such as MariaDB/0-100-42`);
      }
      body = body.slice(slash + 1);
    }
    if (body.trim() === '') return GtidPosition.EMPTY;
    return GtidPosition.of(body.split(',').map((p) => parseGtid(p)));
  }

  get isEmpty(): boolean {
    return this.gtids.length === 0;
  }

  /** The GTID of one domain, if the position has one. */
  domain(domain: number): Gtid | undefined {
    for (const g of this.gtids) if (g.domain === domain) return g;
    return undefined;
  }

  /** `0-100-42,1-101-7`: MariaDB's own form, for `@slave_connect_state` and `MASTER_GTID_WAIT`. */
  gtidList(): string {
    return this.gtids.map(formatGtid).join(',');
  }

  /** `MariaDB/0-100-42,1-101-7`. */
  toString(): string {
    return `${MARIADB_FLAVOR}/${this.gtidList()}`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** True if the transaction `g` is at or before this position in its domain. */
  contains(g: Gtid): boolean {
    const mine = this.domain(g.domain);
    return mine !== undefined && mine.sequence >= g.sequence;
  }

  /**
   * True if this position has reached `other`: every domain of `other` is present here with a
   * sequence at least as high. Every position is at least the empty one.
   */
  atLeast(other: GtidPosition): boolean {
    for (const g of other.gtids) if (!this.contains(g)) return false;
    return true;
  }

  equals(other: GtidPosition): boolean {
    if (this.gtids.length !== other.gtids.length) return false;
    for (let i = 0; i < this.gtids.length; i++) {
      const a = this.gtids[i];
      const b = other.gtids[i];
      if (a.domain !== b.domain || a.server !== b.server || a.sequence !== b.sequence) return false;
    }
    return true;
  }

  /**
   * The position after applying transaction `g`: its domain now ends at `g`. Used by the reader
   * after each whole transaction; in strict mode `g` is always ahead of the domain's current GTID.
   */
  advance(g: Gtid): GtidPosition {
    const out: Gtid[] = [];
    let placed = false;
    for (const mine of this.gtids) {
      if (mine.domain === g.domain) {
        out.push(g);
        placed = true;
      } else {
        if (!placed && mine.domain > g.domain) {
          out.push(g);
          placed = true;
        }
        out.push(mine);
      }
    }
    if (!placed) out.push(g);
    return new GtidPosition(out);
  }

  /** The union: per domain, the GTID with the higher sequence (this one's on a tie). */
  merge(other: GtidPosition): GtidPosition {
    const byDomain = new Map<number, Gtid>();
    for (const g of this.gtids) byDomain.set(g.domain, g);
    for (const g of other.gtids) {
      const mine = byDomain.get(g.domain);
      if (mine === undefined || g.sequence > mine.sequence) byDomain.set(g.domain, g);
    }
    return new GtidPosition([...byDomain.values()].sort((a, b) => a.domain - b.domain));
  }

  /**
   * Orders two positions: -1 if this is strictly behind `other`, 1 if strictly ahead, 0 if equal
   * in every domain's sequence, undefined if each is ahead in some domain (not comparable).
   */
  compare(other: GtidPosition): -1 | 0 | 1 | undefined {
    const ge = this.atLeast(other);
    const le = other.atLeast(this);
    if (ge && le) return 0;
    if (ge) return 1;
    if (le) return -1;
    return undefined;
  }
}
