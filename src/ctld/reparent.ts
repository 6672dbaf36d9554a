// Reparent operations (filled in below).
import type { CommandTable } from './command.js';

export const REPARENT_COMMANDS: CommandTable = {};
export const REPARENT_COMMAND_ALIASES: Readonly<Record<string, string>> = {};
