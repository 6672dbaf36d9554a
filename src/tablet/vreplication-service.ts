// The tablet-manager calls of the VReplication engine: create, read, update and delete a
// workflow's streams on this (target primary) tablet, and wait for a stream's position.
import { ER, TesseraError } from '../mysql/errors.js';
import type { Json } from '../rpc/index.js';
import type { VReplicationEngine } from '../vreplication/engine.js';
import type { StreamState } from '../vreplication/stream-store.js';
import type { CreateStreamWire, StreamWire, UpdateStreamsWire } from '../workflow/types.js';
import type { TabletManager } from './tablet-manager.js';

function engineOf(tm: TabletManager): VReplicationEngine {
  if (!tm.vreplication) throw new TesseraError(ER.UNKNOWN_ERROR, `tablet ${tm.server.alias} has no VReplication engine`);
  return tm.vreplication;
}

export async function vreplicationCreate(tm: TabletManager, streams: readonly CreateStreamWire[]): Promise<number[]> {
  return engineOf(tm).create(
    streams.map((s) => ({
      workflow: s.workflow,
      source: s.source,
      cell: s.cell,
      tabletTypes: s.tabletTypes,
      state: s.state as StreamState,
      workflowType: s.workflowType,
      workflowSubType: s.workflowSubType,
      deferSecondaryKeys: s.deferSecondaryKeys,
      options: s.options,
      stopPos: s.stopPos,
      copyTables: s.copyTables,
    })),
  );
}

export async function vreplicationRead(tm: TabletManager, workflow: string | undefined): Promise<StreamWire[]> {
  const list = await engineOf(tm).read(workflow);
  return list.map(({ record: r, copyStates, logs, progress }) => ({
    id: r.id,
    workflow: r.workflow,
    source: r.source,
    pos: r.pos,
    stopPos: r.stopPos,
    state: r.state,
    message: r.message,
    dbName: r.dbName,
    cell: r.cell,
    tabletTypes: [...r.tabletTypes],
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
    options: r.options,
    maxTps: r.maxTps.toString(),
    maxReplicationLag: r.maxReplicationLag.toString(),
    copyStates,
    logs,
    progress,
  }));
}

export function vreplicationHandlers(tm: TabletManager): Record<'VReplicationCreate' | 'VReplicationRead' | 'VReplicationUpdate' | 'VReplicationDelete' | 'VReplicationWaitForPos', (a: Record<string, unknown>) => Promise<Json>> {
  return {
    VReplicationCreate: async (a) => (await vreplicationCreate(tm, a.streams as CreateStreamWire[])) as unknown as Json,
    VReplicationRead: async (a) => (await vreplicationRead(tm, typeof a.workflow === 'string' ? a.workflow : undefined)) as unknown as Json,
    VReplicationUpdate: async (a) => {
      const u = a as unknown as UpdateStreamsWire;
      return engineOf(tm).update(u.workflow, { state: u.state, options: u.options, cell: u.cell, tabletTypes: u.tabletTypes, stopPos: u.stopPos });
    },
    VReplicationDelete: async (a) => engineOf(tm).delete(String(a.workflow)),
    VReplicationWaitForPos: async (a) => {
      await engineOf(tm).waitForPos(Number(a.id), String(a.position), Number(a.timeoutMs ?? 30_000));
      return null;
    },
  };
}
