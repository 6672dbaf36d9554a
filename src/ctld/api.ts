// The admin API: every command ctld answers, by name. One explicit table; later issues add their
// tables (tablet management, schema, reparent, workflows) here.
import type { CommandTable } from './command.js';
import { REPARENT_COMMANDS, REPARENT_COMMAND_ALIASES } from './reparent.js';
import { TABLET_COMMANDS, TABLET_COMMAND_ALIASES } from './tablet-commands.js';
import { TOPO_COMMANDS } from './topo-commands.js';
import { UI_COMMANDS } from './ui/commands.js';
import { UI_WORKFLOW_COMMANDS } from './ui/workflows.js';
import { WORKFLOW_COMMANDS } from './workflow-commands.js';
import { VDIFF_COMMANDS } from './vdiff-commands.js';

export const CTLD_COMMANDS: CommandTable = {
  ...TOPO_COMMANDS,
  ...UI_COMMANDS,
  // After the topology commands: GetTablets gains --replication (health asked of each tablet).
  ...TABLET_COMMANDS,
  ...REPARENT_COMMANDS,
  ...WORKFLOW_COMMANDS,
  ...VDIFF_COMMANDS,
  ...UI_WORKFLOW_COMMANDS,
};

/** Older spellings a Vitess user may type (COMPATIBILITY.md), mapped to the command they mean. */
export const CTLD_COMMAND_ALIASES: Readonly<Record<string, string>> = {
  DeleteShard: 'DeleteShards',
  DeleteTablet: 'DeleteTablets',
  ...TABLET_COMMAND_ALIASES,
  ...REPARENT_COMMAND_ALIASES,
};
