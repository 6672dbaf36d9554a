// One structured logger for every process. JSON lines on stderr (stdout stays clean for command
// output such as `tessera ctl GetKeyspace`); level from TESSERA_LOG_LEVEL.
import { pino, type Logger } from 'pino';

export type { Logger };

const level = process.env.TESSERA_LOG_LEVEL ?? 'info';

export const log: Logger = pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));

/** A child logger tagged with the component name (`gate`, `tablet`, `mysqlctl`, ...). */
export function logger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return log.child({ component, ...bindings });
}
