import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import {
  labDown,
  labHeal,
  labHostNamed,
  labImage,
  labPartition,
  labSshArgs,
  labStart,
  labStatus,
  labStop,
  labUp,
} from '../lab/index.js';
import { collectList, duration, positiveInt } from './options.js';
import type { Output } from './output.js';
import { EXIT } from './report.js';
import { main } from './main.js';

export function registerLab(program: Command, output: Output): void {
  const lab = program
    .command('lab')
    .summary('a local lab of Debian hosts (systemd-nspawn) to try pgprov on')
    .description(
      `A local lab: Debian hosts pg1..pgN booting systemd in systemd-nspawn containers on the bridge
pgprov0 (10.231.0.0/24, pg1 = 10.231.0.11), reachable over SSH as user vagrant with sudo, like VMs.
They install packages through an apt proxy on the bridge and have no route anywhere else.
Needs root on a Linux machine; the Debian packages it needs are installed on first use.`,
    );

  lab
    .command('up')
    .description(
      `build the image once (cached), boot the hosts; idempotent, a larger --hosts adds hosts.
Name hosts to boot just those: \`pgprov lab up pg7 pg8 pg9 --suite trixie\` adds three Debian 13 hosts
beside the lab's Debian 12 ones.`,
    )
    .argument('[hosts...]', 'these hosts (pg7 pg8 ...) instead of pg1..pg<n>')
    .option('-n, --hosts <n>', 'number of hosts', positiveInt('--hosts'), 3)
    .option(
      '--suite <suite>',
      "Debian suite of the image for the hosts added (bookworm or trixie; default: the lab's, else bookworm)",
    )
    .option('--rebuild-image', 'build the image again (only while no host runs)')
    .option('--apply <inventory>', 'then run `pgprov apply` with this inventory')
    .option('-t, --tags <tags>', 'with --apply: only these tags', collectList)
    .action(
      async (
        names: string[],
        flags: {
          hosts: number;
          suite?: string;
          rebuildImage?: boolean;
          apply?: string;
          tags?: string[];
        },
      ) => {
        const result = await labUp({
          hosts: flags.hosts,
          ...(names.length ? { names } : {}),
          ...(flags.suite ? { suite: flags.suite } : {}),
          ...(flags.rebuildImage ? { rebuildImage: true } : {}),
          onProgress: (m) => output.err(`lab: ${m}`),
        });
        output.out(result.message);
        if (flags.apply) {
          output.exitCode = await main(
            ['node', 'pgprov', 'apply', flags.apply, ...(flags.tags ? ['--tags', flags.tags.join(',')] : [])],
            output,
          );
        }
      },
    );

  lab
    .command('image')
    .description(
      "build the hosts' image without booting any (cached; `up` builds it too). Another build of the same suite is waited for",
    )
    .option('--suite <suite>', 'Debian suite of the image (bookworm or trixie)', 'bookworm')
    .option('--rebuild', 'build it again (only while no host runs)')
    .action(async (flags: { suite: string; rebuild?: boolean }) => {
      const image = await labImage({
        suite: flags.suite,
        ...(flags.rebuild ? { rebuild: true } : {}),
        onProgress: (m) => output.err(`lab: ${m}`),
      });
      output.out(
        image.built
          ? `built the ${image.suite} image in ${image.seconds.toFixed(0)} s: ${image.path}`
          : `nothing to do: the ${image.suite} image is built (${image.path}); --rebuild builds it again`,
      );
    });

  lab
    .command('down')
    .description(
      `stop and remove every lab host, the bridge and the apt proxy (the image stays cached).
Name hosts to remove just those (their disks too: \`lab up\` boots them bare again), the rest running on.`,
    )
    .argument('[hosts...]', 'only these hosts')
    .action(async (names: string[]) => {
      const result = await labDown({
        ...(names.length ? { hosts: names } : {}),
        onProgress: (m) => output.err(`lab: ${m}`),
      });
      output.out(result.message);
    });

  lab
    .command('status')
    .description('each host: running, address, sshd answering')
    .option('--json', 'machine-readable')
    .action(async (flags: { json?: boolean }) => {
      const status = await labStatus();
      if (flags.json) {
        output.out(JSON.stringify(status, null, 2));
      } else if (!status.up) {
        output.out('the lab is down (start it with: pgprov lab up)');
      } else {
        output.out(`lab, apt proxy ${status.proxy.running ? 'running' : 'STOPPED'}`);
        for (const h of status.hosts) {
          output.out(
            `  ${h.name.padEnd(6)} ${h.address.padEnd(14)} ${h.suite.padEnd(9)} ${h.running ? `running (pid ${h.pid})` : 'stopped'}${h.running ? (h.sshd ? ', sshd answers' : ', sshd NOT answering') : ''}`,
          );
        }
      }
      const healthy = status.up && status.hosts.every((h) => h.running && h.sshd);
      output.exitCode = healthy ? EXIT.ok : EXIT.degraded;
    });

  lab
    .command('ssh')
    .description('log into a lab host as vagrant (sudo works), or run a command there')
    .argument('<host>', 'pg1, pg2, ...')
    .argument('[command...]', 'a command to run instead of a shell (put it after --)')
    .action(async (host: string, command: string[]) => {
      labHostNamed(host);
      const [bin, ...args] = labSshArgs(host);
      output.exitCode = await new Promise<number>((resolve) => {
        const child = spawn(bin as string, [...args, ...command], { stdio: 'inherit' });
        child.on('exit', (code) => resolve(code ?? EXIT.failed));
      });
    });

  lab
    .command('stop')
    .description('power a host off cleanly (like its power button): for failover drills')
    .argument('<host>')
    .option(
      '--hard',
      'cut its power instead: every process of the host is killed at once, nothing shuts down cleanly (Patroni keeps the leader key until its ttl runs out)',
    )
    .action(async (host: string, opts: { hard?: boolean }) =>
      output.out((await labStop(host, { hard: opts.hard === true })).message),
    );

  lab
    .command('start')
    .description('boot a stopped host again (same disk, same keys)')
    .argument('<host>')
    .action(async (host: string) => output.out((await labStart(host)).message));

  lab
    .command('partition')
    .description(
      'cut a host off the lab network (its link on the bridge goes down, like a pulled cable); it keeps running',
    )
    .argument('<host>')
    .option(
      '--for <duration>',
      'heal it again after this long (e.g. 60s); without it, `lab heal` does',
      duration('--for'),
    )
    .addHelpText(
      'after',
      `
Examples:
  pgprov lab partition pg1 --for 60s   the leader alone for a minute, then back
  pgprov lab partition pg2             cut off until \`pgprov lab heal pg2\``,
    )
    .action(async (host: string, opts: { for?: number }) =>
      output.out(
        (
          await labPartition(host, {
            ...(opts.for !== undefined ? { forMs: opts.for } : {}),
            onProgress: (m) => output.err(m),
          })
        ).message,
      ),
    );

  lab
    .command('heal')
    .description('put a partitioned host back on the lab network')
    .argument('<host>')
    .action(async (host: string) => output.out((await labHeal(host)).message));
}
