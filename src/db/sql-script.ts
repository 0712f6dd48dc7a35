/**
 * SQL scripts: splitting a file into statements the way the standard `mariadb` client does (aware of
 * quotes, backticks, comments and `DELIMITER`), and running them on a connection.
 *
 * Note: OCS's own updater splits naively on every `;` — the OCS runner replicates that on purpose
 * (src/rehearse); this module is for well-formed dumps and reference schemas.
 */
import type { Connection } from 'mysql2/promise';

export function splitSqlStatements(sql: string): string[] {
  const out: string[] = [];
  let delimiter = ';';
  let current = '';
  let i = 0;
  const n = sql.length;
  const atLineStart = () => current.trim() === '';
  while (i < n) {
    const ch = sql[i];
    // DELIMITER command (client-side), only at the start of a statement.
    if ((ch === 'D' || ch === 'd') && atLineStart() && /^delimiter\s/i.test(sql.slice(i, i + 10))) {
      const end = sql.indexOf('\n', i);
      const line = sql.slice(i, end < 0 ? n : end).trim();
      delimiter = line.split(/\s+/)[1] ?? ';';
      current = '';
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (ch === '-' && sql[i + 1] === '-' && (i + 2 >= n || /\s/.test(sql[i + 2]))) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
      current += '\n';
      continue;
    }
    if (ch === '#') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
      current += '\n';
      continue;
    }
    if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const comment = sql.slice(i, end < 0 ? n : end + 2);
      // Keep executable comments (/*! … */ and /*M! … */): the server runs them.
      if (/^\/\*M?!/.test(comment)) current += comment;
      else current += ' ';
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '\\' && ch !== '`') {
          j += 2;
          continue;
        }
        if (sql[j] === ch) {
          if (sql[j + 1] === ch) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      current += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (sql.startsWith(delimiter, i)) {
      const stmt = current.trim();
      if (stmt) out.push(stmt);
      current = '';
      i += delimiter.length;
      continue;
    }
    current += ch;
    i++;
  }
  const last = current.trim();
  if (last) out.push(last);
  return out;
}

export interface RunScriptResult {
  statements: number;
}

/** Runs every statement of a script in order on one connection; the first error is thrown with its index. */
export async function runSqlScript(conn: Connection, sql: string): Promise<RunScriptResult> {
  const statements = splitSqlStatements(sql);
  let index = 0;
  for (const stmt of statements) {
    index++;
    try {
      await conn.query(stmt);
    } catch (err) {
      const e = err as Error & { statementIndex?: number; statement?: string };
      e.statementIndex = index;
      e.statement = stmt.slice(0, 200);
      throw e;
    }
  }
  return { statements: statements.length };
}
