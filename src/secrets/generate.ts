import { randomBytes } from 'node:crypto';
import { Secret } from '../core/secret.js';

/** RFC 4648 base64url: safe in URLs, connection strings, YAML and shell words. */
export const URL_SAFE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export const GENERATED_LENGTH = 32;

/**
 * A random password of `length` characters from `alphabet`, drawn from crypto.randomBytes. Bytes at or above the
 * largest multiple of the alphabet size are thrown away, so every character is equally likely (no modulo bias).
 * With the default 64-character alphabet nothing is thrown away and 32 characters carry 192 bits.
 */
export function generateSecret(
  length = GENERATED_LENGTH,
  alphabet = URL_SAFE_ALPHABET,
  random: (size: number) => Uint8Array = randomBytes,
): Secret {
  if (alphabet.length < 2 || alphabet.length > 256) throw new Error('an alphabet needs 2 to 256 characters');
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of random(length - out.length + 8)) {
      if (byte >= limit) continue;
      out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return new Secret(out);
}
