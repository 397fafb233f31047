/**
 * The e2e files' order and lanes. The files of a lane share hosts, so they run one after another in this order;
 * the two lanes run side by side (vitest's e2e workers: 2), each on its own hosts of the one lab:
 *
 *   main      pg1..pg6, Debian 12 (or PGPROV_LAB_SUITE): the files that start from bare hosts first, then those
 *             that build on the deployed stack (each still makes sure of what it needs, so any file runs alone)
 *   debian13  pg7..pg9, Debian 13: trixie.test.ts, its own cluster (inventory/lab-trixie.yaml)
 *
 * lab.test.ts takes the whole lab up and down: it holds both lanes. Without an order, vitest orders files by size
 * or past durations, which differ between machines.
 */
export const E2E_ORDER = [
  'lab',
  // Queued second so that the second worker takes it and runs it beside the main lane.
  'trixie',
  'etcd',
  'faults',
  'stack',
  'pgbouncer',
  'monitoring',
  'operate',
  'scale',
  'rollout',
  'failover',
  'partition',
  'safety',
  'vagrantfile',
  // A second cluster (pg5, pg6) following the lab's, promoted at the end: after the files that judge the lab.
  'standby',
];

export type Lane = 'main' | 'debian13';

/** The lanes a file holds while it runs. */
export function lanesOf(file: string): Lane[] {
  if (file === 'lab') return ['main', 'debian13'];
  if (file === 'trixie') return ['debian13'];
  return ['main'];
}

/** A file's place in the order (files not listed come last, by name). */
export function rankOf(file: string): number {
  const i = E2E_ORDER.indexOf(file);
  return i < 0 ? E2E_ORDER.length : i;
}
