import { describe, expect, it } from 'vitest';
import { plainRenderer } from '../../src/cli/render/plain.js';

describe('the plain renderer', () => {
  const result = (durationMs?: number) => ({
    type: 'task-result' as const,
    phase: 'patroni',
    host: 'pg1',
    task: 'Install Patroni',
    status: 'changed' as const,
    message: 'install patroni',
    commands: [],
    ...(durationMs === undefined ? {} : { durationMs }),
  });

  it("shows a task's time when it took a second or more, so a slow step stands out", () => {
    const lines: string[] = [];
    const sink = plainRenderer((l) => lines.push(l));
    sink(result(21_700));
    sink(result(300));
    sink(result());
    expect(lines[0]).toMatch(/Install Patroni: install patroni \(21\.7 s\)$/);
    expect(lines[1]).toMatch(/Install Patroni: install patroni$/);
    expect(lines[2]).toMatch(/Install Patroni: install patroni$/);
  });
});
