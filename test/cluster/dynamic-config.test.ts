import { describe, expect, it } from 'vitest';
import { describeChange, dynamicConfigPatch } from '../../src/cluster/dynamic-config.js';

/** GET /config of the lab's cluster (Patroni 3.0.2), as bootstrapped from the role defaults. */
const current = () => ({
  ttl: 30,
  loop_wait: 10,
  retry_timeout: 10,
  maximum_lag_on_failover: 1048576,
  synchronous_mode: true,
  postgresql: {
    use_pg_rewind: true,
    use_slots: true,
    parameters: {
      wal_level: 'replica',
      hot_standby: 'on',
      wal_log_hints: 'on',
      max_connections: 100,
      max_wal_senders: 10,
      max_replication_slots: 10,
      wal_keep_size: '256MB',
      max_worker_processes: 8,
    },
  },
});

describe('the patch that brings the DCS settings in line', () => {
  it('is empty when the settings are equal', () => {
    expect(dynamicConfigPatch(current(), current())).toEqual({ patch: {}, changes: [] });
  });

  it('compares scalars by their text, as PostgreSQL reads them: 100 and "100" are the same', () => {
    const have = current();
    have.postgresql.parameters.max_connections = '100' as unknown as number;
    (have as Record<string, unknown>).ttl = '30';
    expect(dynamicConfigPatch(current(), have)).toEqual({ patch: {}, changes: [] });
  });

  it('sets a changed scalar', () => {
    const want = { ...current(), synchronous_mode: false };
    expect(dynamicConfigPatch(want, current())).toEqual({
      patch: { synchronous_mode: false },
      changes: [{ path: 'synchronous_mode', from: true, to: false }],
    });
  });

  it('sets a setting the DCS lacks', () => {
    expect(dynamicConfigPatch({ ...current(), failsafe_mode: true }, current())).toEqual({
      patch: { failsafe_mode: true },
      changes: [{ path: 'failsafe_mode', from: undefined, to: true }],
    });
  });

  it('holds only the differences of a nested section (objects merge in a PATCH)', () => {
    const want = current();
    want.postgresql.parameters.max_connections = 300;
    want.postgresql.parameters.wal_keep_size = '1GB';
    const { patch, changes } = dynamicConfigPatch(want, current());
    expect(patch).toEqual({ postgresql: { parameters: { max_connections: 300, wal_keep_size: '1GB' } } });
    expect(changes).toEqual([
      { path: 'postgresql.parameters.max_connections', from: 100, to: 300 },
      { path: 'postgresql.parameters.wal_keep_size', from: '256MB', to: '1GB' },
    ]);
  });

  it('removes a present setting the declaration sets to null, and ignores one that is absent', () => {
    const have = { ...current(), master_start_timeout: 300 };
    const want = { ...current(), master_start_timeout: null, check_timeline: null };
    expect(dynamicConfigPatch(want, have)).toEqual({
      patch: { master_start_timeout: null },
      changes: [{ path: 'master_start_timeout', from: 300, to: undefined }],
    });
  });

  it('owns postgresql.parameters whole: a parameter the inventory dropped is removed', () => {
    const have = current();
    (have.postgresql.parameters as Record<string, unknown>).max_locks_per_transaction = 128;
    const { patch, changes } = dynamicConfigPatch(current(), have);
    expect(patch).toEqual({ postgresql: { parameters: { max_locks_per_transaction: null } } });
    expect(changes).toEqual([
      { path: 'postgresql.parameters.max_locks_per_transaction', from: 128, to: undefined },
    ]);
  });

  it('leaves settings an operator added elsewhere alone (a pause, permanent slots, a postgresql key)', () => {
    const have = {
      ...current(),
      pause: true,
      slots: { standby: { type: 'physical' } },
      postgresql: { ...current().postgresql, use_slots: true, remove_data_directory_on_rewind_failure: true },
    };
    expect(dynamicConfigPatch(current(), have)).toEqual({ patch: {}, changes: [] });
  });

  it('replaces a list whole when it differs, and keeps it when equal', () => {
    const slots = [{ name: 'pgbackrest' }, { type: 'logical' }];
    const want = { ...current(), ignore_slots: slots };
    expect(dynamicConfigPatch(want, { ...current(), ignore_slots: [...slots] }).changes).toEqual([]);
    expect(dynamicConfigPatch(want, { ...current(), ignore_slots: [slots[0]] }).patch).toEqual({
      ignore_slots: slots,
    });
  });
});

describe('describing a change', () => {
  it('shows the old and the new value as JSON', () => {
    expect(describeChange({ path: 'postgresql.parameters.max_connections', from: 100, to: 300 })).toBe(
      'postgresql.parameters.max_connections: 100 -> 300',
    );
    expect(describeChange({ path: 'postgresql.parameters.wal_keep_size', from: '256MB', to: '1GB' })).toBe(
      'postgresql.parameters.wal_keep_size: "256MB" -> "1GB"',
    );
  });

  it('says when a setting is new and when it is removed', () => {
    expect(describeChange({ path: 'failsafe_mode', from: undefined, to: true })).toBe(
      'failsafe_mode: (unset) -> true',
    );
    expect(
      describeChange({ path: 'postgresql.parameters.max_locks_per_transaction', from: 128, to: undefined }),
    ).toBe('postgresql.parameters.max_locks_per_transaction: 128 -> (removed)');
  });
});
