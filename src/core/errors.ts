/**
 * One error hierarchy for the whole tool. Library code throws these; only the CLI renders them (src/cli/report.ts).
 * Every error has a stable `code` that scripts can match on, and most carry a `hint`: what the user should do.
 */

/** Where in an input file a problem is: the file, 1-based line and column, and the YAML path. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
  /** YAML path such as `all.children.etcd_cluster.hosts.pg1.ansible_port`. */
  path?: string;
}

export abstract class PgprovError extends Error {
  abstract readonly code: string;
  /** What to do about it, one sentence. */
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** One problem in the user's input, with its location. Many of them travel together in an InputError. */
export interface InputIssue extends SourceLocation {
  message: string;
  hint?: string;
}

/** The user's input (inventory, role files, command line) is wrong. Nothing was applied. */
export class InputError extends PgprovError {
  readonly code = 'E_INPUT';
  readonly issues: readonly InputIssue[];

  constructor(summary: string, issues: readonly InputIssue[], options: { hint?: string } = {}) {
    super(summary, options);
    this.issues = issues;
  }
}

/** A command-line usage mistake: unknown tag, missing argument, contradictory flags. */
export class UsageError extends PgprovError {
  readonly code = 'E_USAGE';
}

/** A host could not be reached or dropped the connection. */
export class ConnectionError extends PgprovError {
  readonly code = 'E_CONNECT';
  constructor(
    readonly host: string,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(`${host}: ${message}`, options);
  }
}

/** The host presented an SSH host key that differs from the one recorded in known_hosts. */
export class HostKeyError extends PgprovError {
  readonly code = 'E_HOST_KEY';
  constructor(
    readonly host: string,
    message: string,
    options: { hint?: string } = {},
  ) {
    super(`${host}: ${message}`, options);
  }
}

/** A command on a host exited non-zero. `command` is already masked. */
export class RemoteCommandError extends PgprovError {
  readonly code = 'E_REMOTE';
  constructor(
    readonly host: string,
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
    options: { hint?: string; step?: string } = {},
  ) {
    super(
      `${host}: ${options.step ? `${options.step}: ` : ''}command exited with ${exitCode ?? 'a signal'}: ${command}` +
        (stderrTail ? `\n${stderrTail}` : ''),
      options,
    );
  }
}

/** Another run holds the lock on a host. */
export class LockError extends PgprovError {
  readonly code = 'E_LOCKED';
  constructor(
    readonly host: string,
    readonly holder: string,
    options: { hint?: string } = {},
  ) {
    super(`${host}: another pgprov run holds the lock (${holder})`, options);
  }
}

/** The run was interrupted (SIGINT/SIGTERM). */
export class InterruptedError extends PgprovError {
  readonly code = 'E_INTERRUPTED';
}

/** Something on the controller itself failed (lab, local files) in a way that is not the user's input. */
export class EnvironmentError extends PgprovError {
  readonly code = 'E_ENV';
}

/** A refusal to do something unsafe without an explicit flag. */
export class SafetyError extends PgprovError {
  readonly code = 'E_UNSAFE';
}

/**
 * A day-2 command failed after it had started changing the cluster: the message says at which step and what
 * state the cluster is left in, the hint how to go on. Wraps the failure that stopped it.
 */
export class IncompleteError extends PgprovError {
  readonly code = 'E_INCOMPLETE';
}

/** Anything that is not a PgprovError is a bug in pgprov. */
export function isUserFacing(error: unknown): error is PgprovError {
  return error instanceof PgprovError;
}

/** The last `lines` non-empty lines of a command's stderr, for error messages. */
export function tail(text: string, lines = 8): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-lines)
    .join('\n');
}
