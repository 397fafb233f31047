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
