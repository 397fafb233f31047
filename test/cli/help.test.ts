import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram, paragraphs } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { runCli } from '../support/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const silent: Output = { out: () => undefined, err: () => undefined, isTTY: false, exitCode: 0 };

/** Every command and subcommand's name path, e.g. ['lab', 'partition']. */
function commandPaths(): string[][] {
  const paths: string[][] = [];
  const walk = (cmd: ReturnType<typeof buildProgram>, path: string[]) => {
    for (const sub of cmd.commands) {
      paths.push([...path, sub.name()]);
      walk(sub, [...path, sub.name()]);
    }
  };
  walk(buildProgram(silent), []);
  return paths;
}

describe('--help', () => {
  it('joins a description written on several lines into paragraphs, keeping blank and indented lines', () => {
    expect(paragraphs('one\ntwo\n\nthree\n  1. item\n     more')).toBe(
      'one two\n\nthree\n  1. item\n     more',
    );
  });

  it("wraps every command's description as paragraphs: no line broken short in the middle of one", async () => {
    const paths = commandPaths();
    expect(paths.map((p) => p.join(' '))).toContain('lab partition');
    for (const path of paths) {
      const { stdout, code } = await runCli(...path, '--help');
      expect(code).toBe(0);
      const description =
        stdout
          .split('\n\n')
          .slice(1)
          .join('\n\n')
          .split(/\n(?:Arguments|Options):/)[0] ?? '';
      const lines = description.split('\n');
      lines.forEach((line, i) => {
        const next = lines[i + 1];
        const continues = next !== undefined && next !== '' && !next.startsWith(' ');
        expect(line.length, `pgprov ${path.join(' ')}: ${line}`).toBeLessThanOrEqual(80);
        if (continues && line !== '' && !line.startsWith(' ')) {
          // A line the wrapping ended early: the next word would have fitted.
          const word = next.split(' ')[0] ?? '';
          expect(
            line.length + 1 + word.length,
            `pgprov ${path.join(' ')}: "${line}" / "${next}"`,
          ).toBeGreaterThan(80);
        }
      });
    }
  });
});

describe('output to a reader that went away (pgprov --help | head -1)', () => {
  it('drops the rest quietly instead of crashing on EPIPE (the built CLI, npm test builds it)', async () => {
    const cli = spawn(process.execPath, [join(ROOT, 'bin', 'pgprov.js'), 'apply', '--help'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cli.stdout.destroy(); // the reader is gone before the CLI writes a byte
    let stderr = '';
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(cli, 'exit')) as [number | null];
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
