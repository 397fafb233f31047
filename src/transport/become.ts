/**
 * How a script becomes the command line sent to a host: a predictable environment, `sh -c` semantics whatever
 * the login shell, and privilege escalation (become) as a wrapper rather than a flag on each operation.
 * Pure: no I/O, tested on strings.
 */
import { quote } from '../core/command.js';

/** The PATH every command runs with: the Debian default for root, so /usr/sbin tools are found for any user. */
export const REMOTE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The environment every command runs with. LC_ALL=C makes output parseable (no translated messages, no
 * locale-dependent sorting or number formats). sudo keeps LC_ALL and LANG (sudo's default env_check list) and
 * replaces PATH with its secure_path.
 */
export const REMOTE_ENV: readonly string[] = ['LC_ALL=C', 'LANG=C', `PATH=${REMOTE_PATH}`];

export interface BecomeContext {
  /** The login user. */
  user: string;
  /** Whether this command should run as root. */
  become: boolean;
}

/** True when the command must go through sudo: become is asked for and the login user is not already root. */
export function needsSudo(context: BecomeContext): boolean {
  return context.become && context.user !== 'root';
}

/**
 * Wraps a script so that it runs as root when needed: `sudo -n -H -- sh -c '<script>'`. `-n` makes sudo fail
 * instead of waiting for a password nobody will type; `-H` sets HOME to root's.
 */
export function becomeWrap(script: string, context: BecomeContext): string {
  const shell = `sh -c ${quote(script)}`;
  return needsSudo(context) ? `sudo -n -H -- ${shell}` : shell;
}

/**
 * The full command line given to the login shell on the host. `exec` replaces the login shell, so a signal sent
 * on timeout reaches the command (or sudo, which relays it). The script itself is interpreted by `sh`.
 */
export function remoteCommandLine(script: string, context: BecomeContext): string {
  return `exec env ${REMOTE_ENV.join(' ')} ${becomeWrap(script, context)}`;
}

/**
 * Recognises sudo refusing to run a command (as opposed to the command itself failing), from the result of a
 * command that went through `sudo -n`. Returns a sentence for the user, or undefined when sudo ran the command.
 */
export function becomeRefusal(
  result: { code: number | null; stderr: string },
  context: BecomeContext & { host: string },
): { message: string; hint: string } | undefined {
  if (!needsSudo(context)) return undefined;
  const { user, host } = context;
  const sudoers = `'${user} ALL=(ALL) NOPASSWD: ALL' in /etc/sudoers.d/${user} (mode 0440)`;
  if (result.code === 127 && /^env: .?sudo.?: No such file/m.test(result.stderr)) {
    return {
      message: `sudo is not installed on host ${host}, and user ${user} is not root`,
      hint: `install sudo on ${host} and allow ${user} to use it without a password, or connect as root`,
    };
  }
  if (result.code !== 1) return undefined;
  // Only lines in sudo's own format count, so ordinary stderr of the command is not mistaken for a refusal.
  const sudo = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('sudo: ') || line.startsWith('Sorry, user '))
    .join('\n');
  if (/a (password|terminal) is required|no tty present|askpass/i.test(sudo)) {
    return {
      message: `user ${user} cannot run sudo without a password on host ${host}; configure NOPASSWD or use root`,
      hint: `add ${sudoers} on ${host}, or connect as root`,
    };
  }
  if (/not allowed to execute|not in the sudoers file|may not run sudo/i.test(sudo)) {
    return {
      message: `user ${user} is not allowed to run commands as root with sudo on host ${host}`,
      hint: `add ${sudoers} on ${host}, or connect as root`,
    };
  }
  return undefined;
}
