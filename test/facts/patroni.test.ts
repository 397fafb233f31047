import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { request, requestKey } from '../../src/facts/fact.js';
import { type PatroniApi, patroniFact } from '../../src/facts/patroni.js';
import { CLUSTER_BODY, CONFIG_BODY, clusterBody, factOutput } from '../support/patroni.js';

const api: PatroniApi = {
  config: '/etc/patroni/config.yml',
  url: 'https://10.231.0.11:8008',
  cacert: '/etc/patroni/pki/ca.crt',
  cluster: 'test',
};

const parse = (stdout: string, code = 0) => patroniFact.parse({ stdout, code }, api);

/** What curl (7.88, Debian 12) prints with -sS and -w when nothing listens: its error, then the write-out. */
const REFUSED =
  "curl: (7) Failed to connect to 10.231.0.11 port 8008 after 0 ms: Couldn't connect to server\n\n000\n";

describe('the patroni fact', () => {
  it('reads the members and the cluster-wide settings of a running cluster', () => {
    const view = parse(factOutput());
    if (!view.available) throw new Error(view.why);
    expect(view.members.map((m) => [m.name, m.role, m.cluster])).toEqual([
      ['pg1', 'leader', 'test'],
      ['pg2', 'replica', 'test'],
      ['pg3', 'sync_standby', 'test'],
    ]);
    expect(view.settings).toEqual(JSON.parse(CONFIG_BODY));
  });

  it('sees the member that is pending restart', () => {
    const view = parse(factOutput(clusterBody({ pg1: { pending_restart: true } })));
    expect(view.available && view.members.filter((m) => m.pendingRestart).map((m) => m.name)).toEqual([
      'pg1',
    ]);
  });

  it('is not set up where the configuration file does not exist yet (exit 4)', () => {
    expect(parse('', 4)).toEqual({
      available: false,
      reason: 'not-set-up',
      why: '/etc/patroni/config.yml does not exist yet',
    });
  });

  it('is not set up where the command cannot run at all (curl not installed yet: 127)', () => {
    expect(parse('sh: 1: curl: not found\n', 127)).toEqual({
      available: false,
      reason: 'not-set-up',
      why: 'Patroni is not set up here (exit 127)',
    });
  });

  it("is unreadable when GET /cluster gets no answer (exit 5), and says curl's reason", () => {
    expect(parse(REFUSED, 5)).toEqual({
      available: false,
      reason: 'unreadable',
      why: "Patroni's REST API at https://10.231.0.11:8008 does not answer: curl: (7) Failed to connect to 10.231.0.11 port 8008 after 0 ms: Couldn't connect to server",
    });
  });

  it('is unreadable when GET /config gets no answer (exit 6), naming that failure', () => {
    const stdout = `${CLUSTER_BODY}\n200\n--- pgprov: config ---\ncurl: (28) Operation timed out after 5001 milliseconds with 0 bytes received\n\n000\n`;
    const view = parse(stdout, 6);
    expect(view).toMatchObject({ available: false, reason: 'unreadable' });
    expect(!view.available && view.why).toBe(
      "Patroni's REST API at https://10.231.0.11:8008 does not answer: curl: (28) Operation timed out after 5001 milliseconds with 0 bytes received",
    );
  });

  it('is unreadable when GET /cluster answers an error, with the status and the body', () => {
    expect(parse(factOutput('{"error": "DCS is not accessible"}', CONFIG_BODY, 503))).toEqual({
      available: false,
      reason: 'unreadable',
      why: 'GET https://10.231.0.11:8008/cluster answered 503: {"error": "DCS is not accessible"}',
    });
  });

  it.each([502, 503])(
    'has no settings before the first leader writes them (GET /config answers %i)',
    (status) => {
      const html = `<html><body><h1>Error response</h1><p>Error code: ${status}</p></body></html>`;
      const view = parse(
        factOutput(clusterBody({ pg1: { role: 'replica', state: 'starting' } }), html, 200, status),
      );
      expect(view.available).toBe(true);
      expect(view.available && view.settings).toBe(undefined);
      expect(view.available && view.members).toHaveLength(3);
    },
  );

  it('has no settings when the DCS holds an empty configuration', () => {
    const view = parse(factOutput(CLUSTER_BODY, '{}'));
    expect(view.available && view.settings).toBe(undefined);
  });
});

describe("the patroni fact's command", () => {
  const spaced: PatroniApi = { ...api, config: '/etc/patroni/my config.yml', cacert: "/etc/pki/o'ca.crt" };

  it('quotes its arguments and asks for both endpoints', () => {
    const display = patroniFact.command(spaced).display();
    expect(display).toContain("test -e '/etc/patroni/my config.yml' || exit 4;");
    expect(display).toContain(`--cacert '/etc/pki/o'\\''ca.crt'`);
    expect(display).toContain('https://10.231.0.11:8008/cluster 2>"$e" || { cat "$e"; exit 5; };');
    expect(display).toContain('https://10.231.0.11:8008/config 2>"$e" || { cat "$e"; exit 6; }');
    expect(display).toContain("echo '--- pgprov: config ---';");
  });

  it('is one fact per member and cluster: a different CA or cluster is a different request', () => {
    const key = (a: PatroniApi) => requestKey(request(patroniFact, a));
    expect(key({ ...api })).toBe(key(api));
    expect(key({ ...api, cacert: '/other/ca.crt' })).not.toBe(key(api));
    expect(key({ ...api, cluster: 'other' })).not.toBe(key(api));
  });

  describe('run by a POSIX shell, with a stand-in for curl', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgprov-patroni-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'config.yml');
    writeFileSync(config, 'scope: test\n');
    // Prints the recorded body of the endpoint it is asked for, then -w's status line; or fails like curl.
    writeFileSync(
      join(dir, 'curl'),
      [
        '#!/bin/sh',
        'for a; do url=$a; done',
        `printf '[%s]' "$@" | tr '\\n' '~' >> "$CURL_LOG"; echo >> "$CURL_LOG"`,
        'case $url in',
        '  */cluster) [ -z "$FAIL_CLUSTER" ] || { echo "curl: (7) refused" >&2; printf "\\n000\\n"; exit 7; }; [ -z "$RETRIED" ] || echo "curl: (7) refused, will retry" >&2; printf "%s\\n200\\n" "$CLUSTER" ;;',
        '  */config) [ -z "$FAIL_CONFIG" ] || { echo "curl: (28) timed out" >&2; printf "\\n000\\n"; exit 28; }; printf "%s\\n200\\n" "$CONFIG" ;;',
        'esac',
      ].join('\n'),
    );
    chmodSync(join(dir, 'curl'), 0o755);
    const local: PatroniApi = { ...api, config, cacert: join(dir, 'ca.crt') };
    const run = (vars: Record<string, string> = {}, a = local) => {
      const log = join(dir, `curl-${Math.random().toString(36).slice(2)}.log`);
      writeFileSync(log, '');
      const script = patroniFact.command(a).script();
      let stdout: string;
      let code = 0;
      try {
        stdout = execFileSync('sh', ['-c', script], {
          encoding: 'utf8',
          env: {
            PATH: `${dir}:${process.env.PATH}`,
            CLUSTER: CLUSTER_BODY,
            CONFIG: CONFIG_BODY,
            CURL_LOG: log,
            ...vars,
          },
        });
      } catch (error) {
        const e = error as { status: number; stdout: string };
        stdout = e.stdout;
        code = e.status;
      }
      const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      return { view: patroniFact.parse({ stdout, code }, a), code, calls };
    };

    it('reads both endpoints and parses what they print', () => {
      const { view, code, calls } = run();
      expect(code).toBe(0);
      // Each argument in brackets: the write-out format and every path reach curl as one word each.
      const args = `[--cacert][${join(dir, 'ca.crt')}][-w][~%{http_code}~]`;
      // The first request waits for a Patroni that is still starting (connection refused) for up to 30 s.
      const retry = '[--retry][30][--retry-delay][1][--retry-connrefused][--retry-max-time][30]';
      expect(calls).toEqual([
        `[-sS][--max-time][5]${retry}${args}[https://10.231.0.11:8008/cluster]`,
        `[-sS][--max-time][5]${args}[https://10.231.0.11:8008/config]`,
      ]);
      expect(view.available && view.members.map((m) => m.name)).toEqual(['pg1', 'pg2', 'pg3']);
      expect(view.available && view.settings).toEqual(JSON.parse(CONFIG_BODY));
    });

    it('keeps what curl says about retries that then succeeded out of the body', () => {
      const { view, code } = run({ RETRIED: '1' });
      expect(code).toBe(0);
      expect(view.available && view.members.map((m) => m.name)).toEqual(['pg1', 'pg2', 'pg3']);
    });

    it('exits 4 without calling curl when the configuration file is missing', () => {
      const { view, code, calls } = run({}, { ...local, config: join(dir, 'missing.yml') });
      expect(code).toBe(4);
      expect(calls).toEqual([]);
      expect(view).toMatchObject({ available: false, reason: 'not-set-up' });
    });

    it("exits 5 or 6 as curl fails on /cluster or /config, keeping curl's message", () => {
      const cluster = run({ FAIL_CLUSTER: '1' });
      expect(cluster.code).toBe(5);
      expect(cluster.view).toMatchObject({ available: false, reason: 'unreadable' });
      expect(!cluster.view.available && cluster.view.why).toMatch(/does not answer: curl: \(7\) refused$/);
      const config = run({ FAIL_CONFIG: '1' });
      expect(config.code).toBe(6);
      expect(!config.view.available && config.view.why).toMatch(/does not answer: curl: \(28\) timed out$/);
    });
  });
});
