// A statement's fate when it fails on a primary for a reason where nothing ran (the primary is
// changing, the shard's writes are being switched, its table is denied during a MoveTables
// switch): it waits in the failover buffer (src/gate/buffer.ts) and runs again, planned again so
// a routing change is picked up; an open transaction that lost its shard's primary is rolled back
// and reported as such (1213 / 40001, so drivers retry it). The executor runs every planned
// statement through runBuffered; the success path costs a property read and a try.
import { primaryChangedError, TesseraError } from '../mysql/index.js';
import { BufferedRequest, failedShard, failoverCause, transactionLost } from './buffer.js';
import type { Gate } from './gate.js';
import type { GateSession } from './session.js';
import type { Result, StreamCallback } from './types.js';

/** Runs `attempt` (which plans and runs one statement) under the failover buffer. */
export async function runBuffered(gate: Gate, gs: GateSession, attempt: () => Promise<Result>): Promise<Result> {
  const generation = gate.resolver.generation;
  let r: Result;
  try {
    r = await attempt();
  } catch (err) {
    r = await afterFailure(gate, gs, err, attempt, generation);
  }
  return r.stream === undefined ? r : bufferedStream(gate, gs, r.stream, attempt, generation);
}

/** A streamed read's failure after rows went to the client: carried through the failover buffer untouched. */
class StreamedAlready {
  constructor(readonly cause: unknown) {}
}

/**
 * A streamed result (an OLAP read) runs when it is written, after runBuffered has returned. Until
 * its first chunk reaches the client it may still wait in the failover buffer and start again,
 * as every other request: a stream that fails on a primary changing before it sent anything runs again
 * on the new one. Once rows went out, a failure is the client's: they cannot be taken back.
 */
function bufferedStream(gate: Gate, gs: GateSession, first: NonNullable<Result['stream']>, attempt: () => Promise<Result>, generation: number): Result {
  const stream = async (onChunk: StreamCallback): Promise<void> => {
    let sent = false;
    const counted: StreamCallback = (chunk) => {
      sent = true;
      return onChunk(chunk);
    };
    // Each attempt after a failure plans again and runs its stream to the end; an error after
    // rows went out is wrapped so the buffer lets it through, then unwrapped for the client.
    const again = async (): Promise<Result> => {
      const r = await attempt();
      if (r.stream === undefined) throw new Error('internal: a streamed read planned again did not stream');
      try {
        await r.stream(counted);
      } catch (err) {
        throw sent ? new StreamedAlready(err) : err;
      }
      return r;
    };
    try {
      await first(counted);
    } catch (err) {
      if (sent) throw err;
      try {
        await afterFailure(gate, gs, err, again, generation);
      } catch (e) {
        throw e instanceof StreamedAlready ? e.cause : e;
      }
    }
  };
  return { fields: [], rows: [], raw: null, rowsAffected: 0, insertId: 0n, warnings: 0, info: '', stream };
}

/** After `attempt` failed with `err0`: waits and runs it again while the failure is a failover's, else throws. */
async function afterFailure(gate: Gate, gs: GateSession, err0: unknown, attempt: () => Promise<Result>, generation0: number): Promise<Result> {
  let err = err0;
  let generation = generation0;
  const request = new BufferedRequest();
  try {
    for (;;) {
      const failed = failedShard(err);
      if (!failed || failed.tabletType !== 'primary') throw err;
      if (gs.inTransaction && gs.shardSessions.size > 0) {
        // The transaction holds shards: it cannot be moved to a new primary, nor this statement
        // run again without running its other shards' part twice.
        if (!transactionLost(err)) throw err;
        await gs.rollback();
        throw primaryChangedError(`${failed.keyspace}/${failed.shard}`, (err as Error).message, err);
      }
      const cause = failoverCause(err);
      if (cause === null) throw err;
      if (!gate.buffer.on) {
        // Without buffering, a table denied on a shard the plan predates is planned once more
        // against the routing rules that moved it (issue 17: never an error when they already
        // point elsewhere).
        if (cause !== 'routing' || request.immediate > 0 || gate.resolver.generation === generation) throw err;
        request.immediate++;
        generation = gate.resolver.generation;
        return await attempt();
      }
      const wait = gate.buffer.admit(failed, cause, err as TesseraError, generation, request, gs.signal);
      if (wait === null) throw err;
      if (wait instanceof TesseraError) throw wait;
      await wait;
      generation = gate.resolver.generation;
      try {
        return await attempt();
      } catch (e) {
        request.done();
        err = e;
      }
    }
  } finally {
    request.done();
  }
}
