// Reading binlog files directly: a 4-byte magic, then the same event stream the dump thread sends.
// Used for fixtures, the bench, and `tessera binlog tail --file`.
import fs from 'node:fs';
import path from 'node:path';
import { TesseraError } from '../errors.js';
import { BINLOG_MAGIC, ER_CORRUPT_EVENT, EVENT_HEADER_LENGTH } from './constants.js';
import { EventDecoder, type BinlogEvent, type EventDecoderOptions } from './events.js';

/** Largest event accepted from a file (MariaDB's max_allowed_packet tops out at 1 GiB). */
export const FILE_EVENT_SIZE_MAX = 1024 * 1024 * 1024;

/** Splits a whole binlog file's bytes into event buffers (views into `data`). */
export function splitBinlogFile(data: Buffer, file = 'binlog'): Buffer[] {
  if (data.length < 4 || !data.subarray(0, 4).equals(BINLOG_MAGIC)) {
    throw new TesseraError(ER_CORRUPT_EVENT, `${file} is not a binlog file: it does not start with the binlog magic fe 62 69 6e`);
  }
  const out: Buffer[] = [];
  let pos = 4;
  while (pos < data.length) {
    if (pos + EVENT_HEADER_LENGTH > data.length) {
      throw new TesseraError(ER_CORRUPT_EVENT, `${file}:${pos}: ${data.length - pos} trailing bytes are not a whole event header`);
    }
    const size = data.readUInt32LE(pos + 9);
    if (size < EVENT_HEADER_LENGTH || pos + size > data.length) {
      throw new TesseraError(ER_CORRUPT_EVENT, `${file}:${pos}: event size ${size} does not fit the file (${data.length - pos} bytes left)`);
    }
    out.push(data.subarray(pos, pos + size));
    pos += size;
  }
  return out;
}

/** Streams the events of a binlog file without holding it in memory. Yields whole event buffers. */
export async function* binlogFileEvents(file: string, opts: { readonly chunkSize?: number } = {}): AsyncGenerator<Buffer> {
  const stream = fs.createReadStream(file, { highWaterMark: opts.chunkSize ?? 1024 * 1024 });
  let buf: Buffer = Buffer.alloc(0);
  let fileOffset = 0;
  let sawMagic = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    let pos = 0;
    if (!sawMagic) {
      if (buf.length < 4) continue;
      if (!buf.subarray(0, 4).equals(BINLOG_MAGIC)) throw new TesseraError(ER_CORRUPT_EVENT, `${file} is not a binlog file: it does not start with the binlog magic fe 62 69 6e`);
      sawMagic = true;
      pos = 4;
    }
    while (buf.length - pos >= EVENT_HEADER_LENGTH) {
      const size = buf.readUInt32LE(pos + 9);
      if (size < EVENT_HEADER_LENGTH || size > FILE_EVENT_SIZE_MAX) {
        throw new TesseraError(ER_CORRUPT_EVENT, `${path.basename(file)}:${fileOffset + pos}: event size ${size} is out of range`);
      }
      if (buf.length - pos < size) break;
      yield buf.subarray(pos, pos + size);
      pos += size;
    }
    fileOffset += pos;
    buf = buf.subarray(pos);
  }
  if (buf.length > 0) {
    // A file being written may end mid-event; the caller reads it again later or via the dump.
    return;
  }
}

/** Decodes every event of a binlog file (convenience for tests and tools). */
export async function* readBinlogFile(file: string, opts: EventDecoderOptions = {}): AsyncGenerator<BinlogEvent> {
  const decoder = new EventDecoder({ ...opts, file: opts.file ?? path.basename(file) });
  for await (const ev of binlogFileEvents(file)) yield decoder.decode(ev);
}
