import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.js';
import { connectHost } from '../../src/engine/run.js';
import { labHeal, labPartition } from '../../src/lab/index.js';
import type { Transport } from '../../src/transport/transport.js';
import { apply, changedTasks, ensureLab, LAB_INVENTORY, onHost, ROOT, totalChanged } from '../support/lab.js';

/** These tests are about the engine and etcd: they run the certificates and etcd phases only. */
const applyEtcd = (options: Parameters<typeof apply>[0] = {}) =>
  apply({ tags: ['certificates', 'etcd'], ...options });

const dir = mkdtempSync(join(tmpdir(), 'pgprov-faults-'));
const taskResults = (events: RunEvent[]) => events.filter((e) => e.type === 'task-result');
const failure = (events: RunEvent[], host: string) => {
  const e = events.find((x) => x.type === 'host-failed' && x.host === host);
  return e?.type === 'host-failed' ? e.error : undefined;
};

describe('faults: pgprov fails clearly and leaves hosts whole', () => {
  beforeAll(async () => {
    await ensureLab(3);
    // Converge first, so each case below starts from a known cluster.
    expect((await applyEtcd()).failed).toBe(false);
  });
  afterAll(async () => {
    await labHeal('pg2');
  });

  it('an unreachable host stops the run before anything is applied anywhere', async () => {
    const inventory = join(dir, 'unreachable.yaml');
    writeFileSync(
      inventory,
      readFileSync(LAB_INVENTORY, 'utf8')
        .replace(
          '    pg3:\n      ansible_host: 10.231.0.13\n',
          '    pg3:\n      ansible_host: 10.231.0.13\n    pg9:\n      ansible_host: 10.231.0.99\n',
        )
        .replace('cluster_name: pgprov-lab', 'cluster_name: pgprov-lab\n    etcd_heartbeat_interval_ms: 120'),
    );
    const run = await applyEtcd({ inventoryFile: inventory });
    expect(run.failed).toBe(true);
    expect(failure(run.events, 'pg9')?.code).toBe('E_CONNECT');
    expect(failure(run.events, 'pg9')?.message).toMatch(/10\.231\.0\.99:22/);
    expect(taskResults(run.events)).toEqual([]);
    expect(await onHost('pg1', 'grep HEARTBEAT /etc/default/etcd')).toBe('ETCD_HEARTBEAT_INTERVAL="100"\n');
  });

  it('a changed host key is refused with both fingerprints, nothing applied', async () => {
    const knownHosts = join(dir, 'known_hosts');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'impostor')]);
    const impostor = readFileSync(join(dir, 'impostor.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    const pinned = readFileSync('/var/lib/pgprov/lab/known_hosts', 'utf8')
      .split('\n')
      .map((l) => (l.startsWith('10.231.0.11 ') ? `10.231.0.11 ${impostor}` : l))
      .join('\n');
    writeFileSync(knownHosts, pinned);
    const run = await applyEtcd({
      extraVars: { pgprov_known_hosts: knownHosts, etcd_heartbeat_interval_ms: 120 },
    });
    expect(run.failed).toBe(true);
    const error = failure(run.events, 'pg1');
    expect(error?.code).toBe('E_HOST_KEY');
    expect(error?.message).toMatch(/SHA256:/);
    expect(error?.hint).toMatch(/ssh-keygen -R/);
    expect(taskResults(run.events)).toEqual([]);
  });

  it('a second apply while one holds a host is refused, naming the holder', async () => {
    await onHost(
      'pg2',
      "mkdir -p /run/lock/pgprov && echo 'alice@ops pid 4242 run 0badc0de since 2026-11-25T10:00:00Z' > /run/lock/pgprov/holder",
    );
    try {
      const run = await applyEtcd();
      expect(run.failed).toBe(true);
      expect(failure(run.events, 'pg2')?.code).toBe('E_LOCKED');
      expect(failure(run.events, 'pg2')?.message).toContain('alice@ops pid 4242');
      expect(taskResults(run.events)).toEqual([]);
      // The other hosts' locks were released on the way out.
      expect(await onHost('pg1', 'test -e /run/lock/pgprov && echo held || echo free')).toBe('free\n');
    } finally {
      await onHost('pg2', 'rm -rf /run/lock/pgprov');
    }
  });

  it('a host that drops mid-run fails alone; the others finish', async () => {
    let cut = false;
    const connect = async (
      host: Parameters<typeof connectHost>[0],
      inventory: Parameters<typeof connectHost>[1],
    ) => {
      const t = await connectHost(host, inventory);
      if (host.name !== 'pg2') return t;
      // Cut pg2's network as it is about to write its first changed file.
      const wrapped: Transport = {
        host: t.host,
        exec: (c, o) => t.exec(c, o),
        get: (p, o) => t.get(p, o),
        close: () => t.close(),
        get roundTrips() {
          return t.roundTrips;
        },
        put: async (f, o) => {
          if (!cut) {
            cut = true;
            await labPartition('pg2');
          }
          return t.put(f, o);
        },
      };
      return wrapped;
    };
    const run = await applyEtcd({ connect, extraVars: { etcd_heartbeat_interval_ms: 150 } });
    await labHeal('pg2');
    expect(cut).toBe(true);
    expect(failure(run.events, 'pg2')?.code).toBe('E_CONNECT');
    expect(run.recap.pg2?.failed).toBe(1);
    expect(changedTasks(run, 'pg1')).toContain('pg1: etcd configuration');
    expect(changedTasks(run, 'pg3')).toContain('pg3: etcd configuration');
    // pg2 kept its old file whole (atomic write), and the next apply converges it.
    expect(await onHost('pg2', 'grep HEARTBEAT /etc/default/etcd')).toBe('ETCD_HEARTBEAT_INTERVAL="100"\n');
    const again = await applyEtcd({ extraVars: { etcd_heartbeat_interval_ms: 150 } });
    expect(again.failed).toBe(false);
    // pg2 could not be unlocked when its network went; the next run knows that run is over and takes over.
    expect(again.events).toContainEqual(
      expect.objectContaining({
        type: 'log',
        host: 'pg2',
        message: expect.stringMatching(/^took over a stale lock/),
      }),
    );
    expect(changedTasks(again)).toEqual(['pg2: etcd configuration', 'pg2: restart etcd']);
  });

  it('SIGINT stops cleanly with a recap and releases the locks', async () => {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'pgprov.js'),
        'apply',
        LAB_INVENTORY,
        '--plain',
        '--tags',
        'certificates,etcd',
        '-e',
        'etcd_heartbeat_interval_ms=110',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!sent && out.includes('PHASE certificates')) {
        sent = true; // once: a second Ctrl-C means "quit at once"
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    expect(out).toContain('RECAP');
    expect(out).toContain('INTERRUPTED');
    for (const h of ['pg1', 'pg2', 'pg3']) {
      expect(await onHost(h, 'test -e /run/lock/pgprov && echo held || echo free')).toBe('free\n');
    }
    // Nothing half-done: the next run converges normally.
    const run = await applyEtcd({ extraVars: { etcd_heartbeat_interval_ms: 110 } });
    expect(run.failed).toBe(false);
    expect(totalChanged(await applyEtcd({ extraVars: { etcd_heartbeat_interval_ms: 110 } }))).toBe(0);
  });
});
