import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../src/core/until.js';
import { ROOT } from '../support/lab.js';

const AGENT = join(ROOT, 'roles', 'patroni', 'files', 'pgprov-replica-agent.py');

/** One connection to the agent, as HAProxy's agent-check makes it: the line it answers. */
const ask = (port: number): Promise<string> =>
  new Promise((resolve, reject) => {
    let line = '';
    const socket = connect(port, '127.0.0.1');
    socket.on('data', (d) => (line += d.toString()));
    socket.on('end', () => resolve(line));
    socket.on('error', reject);
  });

/**
 * The agent of HAProxy's replica pool, run as on a host, against a stand-in for psql that answers what
 * PostgreSQL would (the query itself is PostgreSQL's business: the e2e suite runs it on real replicas).
 */
describe('pgprov-replica-agent', () => {
  let dir = '';
  let agent: ChildProcess;
  const port = 20_000 + (process.pid % 20_000);
  const answer = (text: string, code = 0) => writeFile(join(dir, 'answer'), `${text}\n${code}\n`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgprov-agent-'));
    const psql = join(dir, 'psql');
    // Prints the first line of ./answer, exits with the second; records its arguments.
    await writeFile(
      psql,
      `#!/bin/sh\nprintf '%s\\n' "$@" > ${dir}/args\nsed -n 1p ${dir}/answer\nexit "$(sed -n 2p ${dir}/answer)"\n`,
    );
    await chmod(psql, 0o755);
    await answer('streaming');
    // 0: asks PostgreSQL at each connection, so that each answer below is seen at once.
    agent = spawn('python3', [AGENT, '127.0.0.1', String(port), psql, '5433', '0'], { stdio: 'ignore' });
    await until(
      'the agent to listen',
      () => ask(port).catch(() => ''),
      (l) => l !== '',
      10_000,
    );
  });

  afterAll(async () => {
    agent.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('says up while the WAL receiver streams, and on a primary (the REST check keeps that out)', async () => {
    await answer('streaming');
    expect(await ask(port)).toBe('up\n');
    await answer('primary');
    expect(await ask(port)).toBe('up\n');
  });

  it("says down, with the receiver's status as the reason, when it does not stream", async () => {
    await answer('stopping');
    expect(await ask(port)).toBe('down #WAL receiver: stopping\n');
    await answer('no WAL receiver');
    expect(await ask(port)).toBe('down #WAL receiver: no WAL receiver\n');
  });

  it('says down when PostgreSQL does not answer', async () => {
    await answer('', 2);
    expect(await ask(port)).toBe('down #PostgreSQL does not answer\n');
  });

  it('asks the configured port, without psqlrc', async () => {
    await answer('streaming');
    await ask(port);
    const args = (await readFile(join(dir, 'args'), 'utf8')).split('\n');
    expect(args.slice(0, 3)).toEqual(['-XAtq', '-p', '5433']);
  });

  it('asks PostgreSQL at most once per period, whoever asks the agent', async () => {
    const cached = spawn('python3', [AGENT, '127.0.0.1', String(port + 1), join(dir, 'psql'), '5433'], {
      stdio: 'ignore',
    });
    try {
      await answer('streaming');
      await until(
        'the agent to listen',
        () => ask(port + 1).catch(() => ''),
        (l) => l !== '',
        10_000,
      );
      await answer('stopping');
      // Within the default period (2 s) the answer is the one read before.
      expect(await ask(port + 1)).toBe('up\n');
      await until(
        'the next reading',
        () => ask(port + 1),
        (l) => l.startsWith('down'),
        5_000,
      );
    } finally {
      cached.kill();
    }
  });
});
