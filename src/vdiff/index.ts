// VDiff: compares a workflow's source and target at one consistent point, on each target primary,
// in bounded memory; records every differing row for the report and the repair script.
export { VDiffEngine, VDIFF_ENGINE_DEFAULTS, UUID_RE } from './engine.js';
export type { VDiffEngineOptions } from './engine.js';
export { VDIFF_DEFAULTS } from './differ.js';
export type { VDiffLimits } from './differ.js';
export { VDiffStore, VDIFF_STATES, zeroCounts } from './store.js';
export type { VDiffOptions, VDiffState, VDiffRecord, VDiffTableRecord, DiffRow, DiffKind, TableCounts } from './store.js';
export { VDIFF_ACTIONS } from './wire.js';
export type { VDiffAction, VDiffRequest, VDiffResponse, VDiffWire, VDiffTableWire, DiffRowWire } from './wire.js';
export { compareDecimal, keyComparator, compareKeys, sameValue, storeValue, loadValue, displayValue, sqlLiteral } from './values.js';
export type { StoredValue } from './values.js';
