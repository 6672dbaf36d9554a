// The workflow layer: Materialize (and, next, MoveTables and Reshard) creating VReplication
// streams on target primaries, and the Workflow commands that show and steer them.
export { createStreams, parseConfigOverrides, parseOnDdl, parseTableSettings } from './materialize.js';
export type { MaterializeCreateRequest, TableSetting } from './materialize.js';
export { deleteWorkflow, gatherStreams, requireWorkflow, statusText, updateWorkflow, workflowsJson, workflowStatus } from './workflow.js';
export type { ShardStreams } from './workflow.js';
export { WORKFLOW_SUB_TYPE, WORKFLOW_TYPE, workflowSubTypeName, workflowTypeName } from './types.js';
export type { CreateStreamWire, StreamWire, UpdateStreamsWire, WorkflowTabletCalls } from './types.js';
export { MOVETABLES_DEFAULTS, cancelMoveTables, completeMoveTables, moveTablesCreate, moveTablesInfo, reverseWorkflowName, switchTraffic, trafficState } from './movetables.js';
export type { CancelOptions, CompleteOptions, MoveTablesCreateRequest, MoveTablesInfo, SwitchOptions, SwitchResult } from './movetables.js';
export { LOOKUP_BACKFILL_PAGE_ROWS, lookupVindexCancel, lookupVindexCreate, lookupVindexExternalize, lookupVindexShow } from './lookup-vindex.js';
export type { LookupVindexCreateRequest } from './lookup-vindex.js';
// The write switch's record in topo and its recovery (for ctld, and for anything that wants a
// workflow settled after a crash: recoverSwitch / recoverAllSwitches).
export { describeSwitch, recoverAllSwitches, recoverSwitch } from './switch-writes.js';
export type { RecoveryResult } from './switch-writes.js';
export { SWITCH_STEPS, POINT_OF_NO_RETURN, readSwitchRecord } from './switch-journal.js';
export type { SwitchRecord, SwitchStep } from './switch-journal.js';
