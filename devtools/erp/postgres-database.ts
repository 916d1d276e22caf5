import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../../core/errors.js';
import { type ErpDatabaseConnection, openErpSession } from '../../connectors/postgres/session.js';

/** Where a replication slot stands: streaming to a WAL sender, idle (keeping WAL), or gone. */
export type ReplicationSlotState = 'active' | 'inactive' | 'absent';

/** The sample ERP's DDL and seed, PostgreSQL flavour (psql scripts: `\gexec` and `\connect` lead the DDL). */
const SQL_FILES = {
  schema: fileURLToPath(new URL('../sql/postgres/erp-schema.sql', import.meta.url)),
  seed: fileURLToPath(new URL('../sql/postgres/seed.sql', import.meta.url)),
} as const;
/** The database name the sample DDL uses; replaced by the caller's. */
const SAMPLE_DATABASE = 'erp_demo';
/**
 * Creates the database `name` (fresh: UTF-8, from template0, unless it
 * exists) on the server of `admin`, applies devtools/sql/postgres/erp-schema.sql
 * to it (tables, the signal table and the publication `dbz_publication` with
 * its explicit table list) and seed.sql (locations, items, inventory
 * balances), and resolves with the connection to it. Both scripts are
 * idempotent, so an existing database is completed rather than failed.
 * `name` must be lower-case letters, digits and underscores (a `ConfigError`
 * otherwise), so it needs no quoting.
 */
export async function createErpDatabase(admin: ErpDatabaseConnection, name: string): Promise<ErpDatabaseConnection> {
  checkName(name);
  const ddl = readFileSync(SQL_FILES.schema, 'utf8');
  // The DDL is a psql script: it creates erp_demo with \gexec, then \connect-s to it. pg runs neither meta-command,
  // so the database is created here and the rest of the script, from \connect on, runs in it.
  const connectLine = /^\\connect\s+erp_demo\s*$/m.exec(ddl);
  if (connectLine === null) throw new ConfigError(`${SQL_FILES.schema} no longer contains "\\connect erp_demo"`);
  const schema = ddl.slice(connectLine.index + connectLine[0].length).replaceAll(SAMPLE_DATABASE, name);

  const session = await openErpSession(admin);
  try {
    const exists = await session.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.length === 0) await session.query(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`);
  } finally {
    await session.close();
  }

  const database = { ...admin, database: name };
  const erp = await openErpSession(database);
  try {
    await erp.query(schema);
    await erp.query(readFileSync(SQL_FILES.seed, 'utf8'));
  } finally {
    await erp.close();
  }
  return database;
}

/** Whether the replication slot `slot` on the server of `connection` streams, idles or does not exist. */
export async function replicationSlotState(
  connection: ErpDatabaseConnection,
  slot: string,
): Promise<ReplicationSlotState> {
  const session = await openErpSession(connection);
  try {
    const rows = await session.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (rows.length === 0) return 'absent';
    return rows[0]!['active'] === true ? 'active' : 'inactive';
  } finally {
    await session.close();
  }
}

/**
 * Drops the replication slot `slot` and the database `name` with everything
 * in it. Waits up to 30 s for the slot's WAL sender (a deleted connector's
 * task) to let go, then terminates it, since an active slot cannot be
 * dropped and an idle one would keep WAL forever. A missing slot or database
 * is not an error.
 */
export async function dropErpDatabase(admin: ErpDatabaseConnection, name: string, slot: string): Promise<void> {
  checkName(name);
  const session = await openErpSession(admin);
  try {
    const state = async (): Promise<ReplicationSlotState> => {
      const rows = await session.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      return rows.length === 0 ? 'absent' : rows[0]!['active'] === true ? 'active' : 'inactive';
    };
    const deadline = Date.now() + 30_000;
    while ((await state()) === 'active' && Date.now() < deadline) await sleep(250);
    await session.query(
      'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active',
      [slot],
    );
    for (let attempt = 0; (await state()) !== 'absent'; attempt++) {
      try {
        await session.query('SELECT pg_drop_replication_slot($1)', [slot]);
      } catch (error: unknown) {
        // The terminated WAL sender may hold the slot for a moment longer.
        if (attempt > 20) throw error;
        await sleep(500);
      }
    }
    await session.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await session.close();
  }
}

function checkName(name: string): void {
  if (!/^[a-z0-9_]+$/.test(name)) {
    throw new ConfigError(`Unsafe ERP database name ${JSON.stringify(name)}; use lower-case letters, digits and _`);
  }
}
