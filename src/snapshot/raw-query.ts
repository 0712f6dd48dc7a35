/**
 * A SELECT whose rows go straight from the wire into the data-file encoder.
 *
 * mysql2 turns every value of every row into a JavaScript object (a Buffer with typeCast: false) before
 * handing the row over; at a few million values that allocation is most of the snapshot's client CPU. This
 * command is mysql2's own text-protocol Query with one method replaced: each row packet's payload (the
 * length-encoded values exactly as the server sent them) is passed as a byte range to `onRow`, which encodes
 * it in place. Everything else — sending the query, column definitions, errors, EOF, pause/resume, large
 * packets reassembled by mysql2's parser — is mysql2's.
 *
 * It relies on mysql2's internal Query command (lib/commands/query.js), loaded by file path because the
 * package does not export it; the version is pinned by package-lock.json and test/snapshot.test.ts's
 * byte-exact round trip fails if that internal changes shape.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Connection as CoreConnection } from 'mysql2';

const require = createRequire(import.meta.url);

interface Packet {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
}

interface QueryCommand {
  row(packet: Packet, connection: unknown): unknown;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'end', listener: () => void): this;
}

type QueryClass = new (options: { sql: string; rowsAsArray?: boolean }, callback?: undefined) => QueryCommand;

let rawQueryClass: (new (sql: string, onRow: RowSink) => QueryCommand) | undefined;

export type RowSink = (buffer: Buffer, start: number, end: number) => void;

function loadClass(): new (sql: string, onRow: RowSink) => QueryCommand {
  if (rawQueryClass) return rawQueryClass;
  const root = path.dirname(require.resolve('mysql2'));
  const Query = require(path.join(root, 'lib', 'commands', 'query.js')) as QueryClass;
  if (typeof Query !== 'function' || typeof (Query.prototype as QueryCommand).row !== 'function') {
    throw new Error('this mysql2 version has no text-protocol Query command with a row() state (run npm ci)');
  }
  class RawRowsQuery extends Query {
    private readonly onRow: RowSink;
    constructor(sql: string, onRow: RowSink) {
      super({ sql, rowsAsArray: true });
      this.onRow = onRow;
    }
    override row(packet: Packet, connection: unknown): unknown {
      // The end of the result set (and multi-result handling) stays mysql2's.
      if (packet.isEOF()) return super.row(packet, connection);
      this.onRow(packet.buffer, packet.offset, packet.end);
      return RawRowsQuery.prototype.row;
    }
  }
  rawQueryClass = RawRowsQuery;
  return rawQueryClass;
}

/**
 * Runs `sql` on the connection and calls `onRow` with each row's raw payload; resolves when the result set
 * ends. An exception thrown by `onRow` fails the query (the connection is destroyed: the rest of the result
 * set cannot be skipped cleanly).
 */
export function queryRawRows(connection: CoreConnection, sql: string, onRow: RowSink): { done: Promise<void> } {
  const Cls = loadClass();
  let failure: unknown;
  const cmd = new Cls(sql, (buf, start, end) => {
    if (failure !== undefined) return;
    try {
      onRow(buf, start, end);
    } catch (err) {
      failure = err;
      connection.destroy();
    }
  });
  const done = new Promise<void>((resolve, reject) => {
    cmd.on('error', (err) => reject(failure ?? err));
    cmd.on('end', () => (failure !== undefined ? reject(failure) : resolve()));
  });
  // mysql2's internal command queue (not in its typings): read and checked at run time.
  const addCommand: unknown = Reflect.get(connection, 'addCommand');
  if (typeof addCommand !== 'function') throw new Error('this mysql2 version has no Connection.addCommand (run npm ci)');
  addCommand.call(connection, cmd);
  return { done };
}
