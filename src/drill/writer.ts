import type pg from 'pg';

/** One attempted write through the VIP. */
export interface Write {
  id: number;
  /** ms since the writer started, when the write was sent and when it was answered. */
  sent: number;
  answered: number;
  /** Acknowledged: the commit returned. A write that timed out is neither acknowledged nor refused. */
  ok: boolean;
  /** The member (its address) that acknowledged it. */
  server?: string;
  error?: string;
}

export interface Writer {
  /** When the writer started (epoch ms): the origin of each write's `sent` and `answered`. */
  readonly startedAt: number;
  /** The attempts so far (a live view: it grows while the writer runs). */
  readonly writes: readonly Write[];
  /** Stops writing and returns every attempt, in order. */
  stop(): Promise<Write[]>;
}

/**
 * The address of the member that runs the statement. Not inet_server_addr(): through PgBouncer that is the
 * pooler's connection, 127.0.0.1 on every member. Patroni sets listen_addresses to the member's own address first.
 */
export const SERVER_ADDRESS_SQL = "split_part(current_setting('listen_addresses'), ',', 1)";

/**
 * A write that leaves nothing behind: txid_current() assigns a transaction id, which only a writable primary can
 * (a standby answers "cannot assign TransactionIds during recovery").
 */
const WRITE_PROBE = `SELECT txid_current() AS id, ${SERVER_ADDRESS_SQL} AS server`;

/**
 * A client in the style of Jepsen's set test, for failover drills (the e2e tests and `npm run bench`): writes numbered rows through the VIP's primary port one after
 * another (or, with no table, transactions that store nothing: for switchovers on a production cluster), keeping its connection while it works and reconnecting after an error, and records which ids were
 * acknowledged. After a fault, lost = acknowledged - present.
 */
export function startWriter(
  connect: () => Promise<pg.Client>,
  table: string | undefined,
  pauseMs = 100,
): Writer {
  const started = Date.now();
  const writes: Write[] = [];
  let running = true;
  const loop = (async () => {
    let client: pg.Client | undefined;
    for (let id = 1; running; id++) {
      const sent = Date.now() - started;
      try {
        client ??= await connect();
        const { rows } = table
          ? await client.query<{ server: string }>(
              `INSERT INTO ${table} (id) VALUES ($1) RETURNING ${SERVER_ADDRESS_SQL} AS server`,
              [id],
            )
          : await client.query<{ server: string }>(WRITE_PROBE);
        writes.push({ id, sent, answered: Date.now() - started, ok: true, server: rows[0]?.server ?? '' });
      } catch (error) {
        writes.push({ id, sent, answered: Date.now() - started, ok: false, error: (error as Error).message });
        const broken = client;
        client = undefined;
        await broken?.end().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
    await client?.end().catch(() => undefined);
  })();
  return {
    startedAt: started,
    writes,
    stop: async () => {
      running = false;
      await loop;
      return writes;
    },
  };
}

/** The longest time between two consecutive acknowledged writes, in seconds: how long writes were refused. */
export function longestRefusal(writes: readonly Write[]): { seconds: number; from: number; to: number } {
  const acked = writes.filter((w) => w.ok);
  let worst = { seconds: 0, from: 0, to: 0 };
  for (let i = 1; i < acked.length; i++) {
    const gap = ((acked[i] as Write).answered - (acked[i - 1] as Write).answered) / 1000;
    if (gap > worst.seconds)
      worst = { seconds: gap, from: (acked[i - 1] as Write).answered, to: (acked[i] as Write).answered };
  }
  return worst;
}

/** Acknowledged ids missing from the rows read back. */
export function lostWrites(writes: readonly Write[], present: Iterable<number>): number[] {
  const have = new Set(present);
  return writes.filter((w) => w.ok && !have.has(w.id)).map((w) => w.id);
}
