import { Command, CommanderError } from 'commander';
import { registerApply } from './apply.js';
import { registerLab } from './lab.js';
import { registerStatus } from './status.js';
import { registerBackup } from './backup.js';
import { registerReinit } from './reinit.js';
import { registerRepair } from './repair.js';
import { registerRemove } from './remove.js';
import { registerCerts } from './certs.js';
import { registerRestore } from './restore.js';
import { registerSwitchover } from './switchover.js';
import { registerPromote } from './promote.js';
import { type Output, processOutput } from './output.js';
import { EXIT, exitCodeFor, formatError } from './report.js';

export function buildProgram(output: Output): Command {
  const program = new Command('pgprov')
    .description(
      'Provision and operate highly-available PostgreSQL (Patroni, etcd, HAProxy, keepalived, pgBackRest, TLS everywhere) on plain hosts over SSH, from one Ansible-style inventory.',
    )
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => output.out(s.trimEnd()), writeErr: (s) => output.err(s.trimEnd()) })
    // Descriptions are written as paragraphs; commander wraps them to the terminal's width.
    .configureHelp({ commandDescription: (cmd) => paragraphs(cmd.description()) })
    .exitOverride();
  registerApply(program, output);
  registerStatus(program, output);
  registerSwitchover(program, output);
  registerPromote(program, output);
  registerBackup(program, output);
  registerRestore(program, output);
  registerReinit(program, output);
  registerRepair(program, output);
  registerRemove(program, output);
  registerCerts(program, output);
  registerLab(program, output);
  program.addHelpText(
    'after',
    `
Start here:
  npm run lab                                  build and boot a 3-host local lab, apply inventory/lab.yaml
  pgprov apply inventory/lab.yaml --check      what would change
  pgprov status inventory/lab.yaml             the cluster at a glance (day-2 commands: status ... certs)
  pgprov <command> --help                      every command teaches its options`,
  );
  return program;
}

/** Joins a text's lines into paragraphs (a blank line or an indented line starts a new one). */
export const paragraphs = (text: string): string => text.replace(/([^\n])\n(?=[^\n ])/g, '$1 ');

/** Runs the CLI; returns the exit code. The only place that turns errors into text. */
export async function main(argv: string[], output: Output = processOutput()): Promise<number> {
  const program = buildProgram(output);
  try {
    await program.parseAsync(argv);
    return output.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.input;
    }
    output.err(formatError(error));
    return exitCodeFor(error);
  }
}
