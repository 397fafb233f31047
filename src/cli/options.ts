import { UsageError } from '../core/errors.js';

/** `--tags a,b --tags c` -> ['a', 'b', 'c'] */
export const collectList = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

/** `-e key=value` may repeat. */
export const collectRepeat = (value: string, previous: string[] = []): string[] => [...previous, value];

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`${name} must be a whole number of at least 1, got '${value}'`);
    return n;
  };
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30d`, `26h`, `90m`, `45s` -> milliseconds. */
export function duration(name: string) {
  return (value: string): number => {
    const m = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(value.trim());
    if (!m) throw new UsageError(`${name} takes a duration like 30d, 26h, 90m or 45s, got '${value}'`);
    return Number(m[1]) * (UNITS[m[2] as string] as number);
  };
}
