// The tablet-manager calls of the VReplication engine: create, read, update and delete a
// workflow's streams on this (target primary) tablet, and wait for a stream's position.
import { ER, TesseraError } from '../mysql/errors.js';
import type { VReplicationEngine } from '../vreplication/engine.js';
import { formatBinlogSource, parseBinlogSource } from '../vreplication/binlog-source.js';
import type { StreamState } from '../vreplication/stream-store.js';
import type { CreateStreamWire, StreamWire, UpdateStreamsWire } from '../workflow/types.js';
import type { TabletManager } from './tablet-manager.js';

function engineOf(tm: TabletManager): VReplicationEngine {
  if (!tm.vreplication) throw new TesseraError(ER.UNKNOWN_ERROR, `tablet ${tm.server.alias} has no VReplication engine`);
  return tm.vreplication;
}

/** A stream's options as the wire carries them: a JSON object in text. */
function parseOptions(text: string): Record<string, unknown> {
  if (text === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new TesseraError(ER.WRONG_ARGUMENTS, `stream options must be a JSON object, not ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TesseraError(ER.WRONG_ARGUMENTS, `stream options must be a JSON object, not ${JSON.stringify(text.slice(0, 80))}`);
  return v as Record<string, unknown>;
}

export async function vreplicationCreate(tm: TabletManager, streams: readonly CreateStreamWire[]): Promise<number[]> {
  return engineOf(tm).create(
    streams.map((s) => ({
      workflow: s.workflow,
      source: parseBinlogSource(s.source),
      cell: s.cell,
      tabletTypes: s.tabletTypes.join(','),
      state: s.state as StreamState,
      workflowType: s.workflowType,
      workflowSubType: s.workflowSubType,
      deferSecondaryKeys: s.deferSecondaryKeys,
      options: parseOptions(s.options),
      stopPos: s.stopPos,
      copyTables: s.copyTables,
      pos: s.pos || undefined,
    })),
  );
}

export async function vreplicationRead(tm: TabletManager, workflow: string | undefined): Promise<StreamWire[]> {
  const list = await engineOf(tm).read(workflow);
  return list.map(({ record: r, copyStates, logs, progress }) => ({
    id: r.id,
    workflow: r.workflow,
    source: formatBinlogSource(r.source),
    pos: r.pos,
    stopPos: r.stopPos ?? '',
    state: r.state,
    message: r.message,
    dbName: r.dbName,
    cell: r.cell,
    tabletTypes: r.tabletTypes.split(',').filter((t) => t !== ''),
    rowsCopied: r.rowsCopied,
    timeUpdated: r.timeUpdated,
    transactionTimestamp: r.transactionTimestamp,
    timeHeartbeat: r.timeHeartbeat,
    timeThrottled: r.timeThrottled,
    componentThrottled: r.componentThrottled,
    reasonThrottled: r.reasonThrottled,
    workflowType: r.workflowType,
    workflowSubType: r.workflowSubType,
    deferSecondaryKeys: r.deferSecondaryKeys,
    options: JSON.stringify(r.options),
    maxTps: r.maxTps.toString(),
    maxReplicationLag: r.maxReplicationLag.toString(),
    copyStates,
    logs,
    progress,
  }));
}

export async function vreplicationUpdate(tm: TabletManager, u: UpdateStreamsWire): Promise<number> {
  return engineOf(tm).update(u.workflow, {
    ids: u.ids,
    message: u.message,
    pos: u.pos,
    state: u.state,
    options: u.options === undefined ? undefined : parseOptions(u.options),
    cell: u.cell,
    tabletTypes: u.tabletTypes,
    stopPos: u.stopPos,
    maxTps: u.maxTps,
    maxReplicationLag: u.maxReplicationLag,
  });
}

export async function vreplicationDelete(tm: TabletManager, workflow: string): Promise<number> {
  return engineOf(tm).delete(workflow);
}

export async function vreplicationWaitForPos(tm: TabletManager, id: number, position: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  await engineOf(tm).waitForPos(id, position, timeoutMs, signal);
}
