// The admin API: every command ctld answers, by name. One explicit table; later issues add their
// tables (tablet management, schema, reparent, workflows) here.
import type { CommandTable } from './command.js';
import { TOPO_COMMANDS } from './topo-commands.js';
import { UI_COMMANDS } from './ui/commands.js';

export const CTLD_COMMANDS: CommandTable = {
  ...TOPO_COMMANDS,
  ...UI_COMMANDS,
};

/** Older spellings a Vitess user may type (COMPATIBILITY.md), mapped to the command they mean. */
export const CTLD_COMMAND_ALIASES: Readonly<Record<string, string>> = {
  DeleteShard: 'DeleteShards',
  DeleteTablet: 'DeleteTablets',
};
