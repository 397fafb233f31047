/**
 * Passwords and passphrases (replication, superuser, pgBackRest cipher, ...). Each comes from the first of:
 *
 *   1. the inventory            (inventoryValues)
 *   2. the environment          (PGPROV_SECRET_<NAME>)
 *   3. a file the caller names  (a YAML map kept by a team's vault tooling)
 *   4. what pgprov stored       (<stateDir>/secrets.yaml, 0600)
 *   5. a new random value, stored in secrets.yaml so the next run reuses it
 *
 * Values travel as Secret and never appear in errors: a file problem is reported by file, name and line only.
 */
import { withLock } from '../core/file-lock.js';
import { join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { EnvironmentError, InputError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { PRIVATE_FILE_MODE, ensurePrivateDir, readOptional, writeFileAtomic } from '../pki/state-dir.js';
import { generateSecret } from './generate.js';

export type SecretSource = 'inventory' | 'environment' | 'file' | 'stored' | 'generated';

export interface ResolveSecretsOptions {
  /** The inventory's state folder; secrets.yaml lives there. */
  stateDir: string;
  /** Secret names: letters, digits and `_`, starting with a letter (`replication_password`). */
  names: readonly string[];
  inventoryValues: Readonly<Record<string, string | Secret | undefined>>;
  /** Usually process.env, passed in so tests and callers control it. */
  env: Readonly<Record<string, string | undefined>>;
  /** A YAML file mapping names to values, e.g. written by a vault agent. It must exist when given. */
  file?: string;
  /** How long to wait for another pgprov process writing secrets.yaml (default 60 s). */
  lockTimeoutMs?: number;
  /**
   * False for commands that operate a running cluster: a secret no source gives is then an error, not a new value
   * (a new password would not be the one the cluster uses). Default true.
   */
  generate?: boolean;
}

export interface ResolvedSecrets {
  secrets: Record<string, Secret>;
  /** Names generated (and stored) by this call. */
  generated: string[];
  /** Where each secret came from. */
  sources: Record<string, SecretSource>;
}

export function secretsFile(stateDir: string): string {
  return join(stateDir, 'secrets.yaml');
}

export function envVarName(name: string): string {
  return `PGPROV_SECRET_${name.toUpperCase()}`;
}

export async function resolveSecrets(options: ResolveSecretsOptions): Promise<ResolvedSecrets> {
  for (const name of options.names) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new Error(`"${name}" is not a valid secret name`);
  }
  const fromFile =
    options.file === undefined ? new Map<string, Secret>() : await readSecretsYaml(options.file, 'required');
  // Maps, and own properties only: a secret named `constructor` must not find Object.prototype's.
  const secrets = new Map<string, Secret>();
  const sources = new Map<string, SecretSource>();
  const result = (generated: string[]): ResolvedSecrets => ({
    secrets: Object.fromEntries(secrets),
    generated,
    sources: Object.fromEntries(sources),
  });
  const take = (
    name: string,
    value: string | Secret | undefined,
    source: SecretSource,
    where: string,
  ): boolean => {
    if (value === undefined) return false;
    const secret = typeof value === 'string' ? new Secret(value) : value;
    if (secret.reveal() === '') {
      throw new InputError(`secret ${name} from ${where} is empty`, [], {
        hint: 'Give it a value, or remove it so pgprov takes the next source.',
      });
    }
    secrets.set(name, secret);
    sources.set(name, source);
    return true;
  };

  const missing = options.names.filter((name) => {
    const envVar = envVarName(name);
    return (
      !take(name, own(options.inventoryValues, name), 'inventory', 'the inventory') &&
      !take(name, own(options.env, envVar), 'environment', `environment variable ${envVar}`) &&
      !take(name, fromFile.get(name), 'file', options.file ?? '')
    );
  });
  if (missing.length === 0) return result([]);

  const storeFile = secretsFile(options.stateDir);
  if (options.generate === false) {
    const stored = await readSecretsYaml(storeFile, 'optional');
    const unknown = missing.filter((name) => !take(name, stored.get(name), 'stored', storeFile));
    if (unknown.length === 0) return result([]);
    throw new EnvironmentError(
      `no value for ${unknown.join(', ')}: neither the inventory, the environment, a secrets file nor ${storeFile} gives ${unknown.length > 1 ? 'them' : 'it'}`,
      {
        hint: `this state folder did not deploy the cluster: run \`pgprov apply\` from the one that did (or give the secrets with --secrets-file or ${envVarName(unknown[0] as string)})`,
      },
    );
  }
  await ensurePrivateDir(options.stateDir);
  const generated = await withLock(
    join(options.stateDir, 'secrets.lock'),
    { timeoutMs: options.lockTimeoutMs ?? 60_000 },
    async () => {
      const stored = await readSecretsYaml(storeFile, 'optional');
      const fresh = missing.filter((name) => !take(name, stored.get(name), 'stored', storeFile));
      if (fresh.length === 0) return [];
      for (const name of fresh) {
        const secret = generateSecret();
        take(name, secret, 'generated', 'the generator');
        stored.set(name, secret);
      }
      const values = Object.fromEntries([...stored].map(([name, secret]) => [name, secret.reveal()]));
      await writeFileAtomic(storeFile, STORE_HEADER + stringify(values), PRIVATE_FILE_MODE);
      return fresh;
    },
  );
  return result(generated);
}

function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

const STORE_HEADER =
  '# Secrets pgprov generated because neither the inventory, the environment nor a secrets file gave them.\n' +
  '# Keep this file private (mode 0600) and back it up: the cluster uses these values.\n';

/** A YAML map of names to string values. Errors name the file, the key and the line, never a value. */
async function readSecretsYaml(file: string, need: 'required' | 'optional'): Promise<Map<string, Secret>> {
  const text = await readOptional(file);
  if (text === undefined) {
    if (need === 'optional') return new Map();
    throw new EnvironmentError(`secrets file ${file} does not exist`, {
      hint: 'Check the path given for it.',
    });
  }
  const doc = parseDocument(text);
  const firstError = doc.errors[0];
  if (firstError) {
    // The parser's message can quote the offending line, which may hold a secret: give the line number only.
    const line = firstError.linePos?.[0].line;
    throw new EnvironmentError(`${file} is not valid YAML${line ? ` (line ${line})` : ''}`, {
      hint: 'Fix the YAML: a map of secret names to quoted strings.',
    });
  }
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return new Map();
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new EnvironmentError(`${file} must be a map of secret names to values`, {
      hint: 'Write one `name: "value"` line per secret.',
    });
  }
  const out = new Map<string, Secret>();
  for (const [name, value] of Object.entries(data)) {
    if (typeof value !== 'string') {
      throw new EnvironmentError(`${file}: the value of ${name} is not a string`, {
        hint: 'Quote the value, so YAML keeps it as text (a number would lose leading zeros).',
      });
    }
    out.set(name, new Secret(value));
  }
  return out;
}
