import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { loadProject } from '../../src/roles/load.js';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'roles', 'bad');

async function problems(root = fixture): Promise<string[]> {
  try {
    await loadProject(root);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return e.issues.map(
      (i) => `${i.file.replace(root, '')}:${i.line ?? '-'} ${i.path ?? ''} ${i.message} | ${i.hint ?? ''}`,
    );
  }
  throw new Error('expected the broken roles to be rejected');
}

describe('loading roles', () => {
  it('loads the shipped roles', async () => {
    const project = await loadProject();
    expect([...project.roles.keys()]).toEqual([
      'certificates',
      'etcd',
      'pgbackrest',
      'standby',
      'postgresql',
      'patroni',
      'pgbouncer',
      'pgbackrest-repo',
      'haproxy',
      'keepalived',
      'exporters',
      'prometheus',
    ]);
    expect(project.roles.get('etcd')?.handlers.map((h) => h.name)).toEqual([
      'reload systemd units',
      'restart etcd',
    ]);
  });

  it('reports every problem at once with file, line and what to do', async () => {
    const found = await problems();
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/roles\/broken\/tasks\.yaml:2 0\.directory\.mode must be string/),
        expect.stringMatching(/^\/roles\/broken\/tasks\.yaml:5 1\.package\.stat unknown key 'stat'/),
        expect.stringMatching(/^\/roles\/syntax\/tasks\.yaml:3 +YAML syntax error/),
        expect.stringMatching(/role 'missing' has no/),
      ]),
    );
  });

  it('explains a task with two modules and a notify without a handler', async () => {
    const found = await problems();
    expect(found).toEqual(
      expect.arrayContaining([
        "/roles/semantic/tasks.yaml:1 0 task 'two modules' names 2 modules (package, service) | give exactly one of: package, directory, file, template, copy, user, group, service, command, certificate, patroni_config, patroni_rollout",
        "/roles/semantic/tasks.yaml:5 1 task 'unknown handler' notifies 'restart y', which is not a handler of role semantic | define it in roles/semantic/handlers.yaml or fix the name (known: restart x)",
      ]),
    );
  });

  it('checks the releases it deploys on and each role file for one of them', async () => {
    const found = await problems();
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/roles\/platforms\.yaml:3 0\.version must be string/),
        expect.stringMatching(
          /^\/roles\/semantic\/platforms\/bullseye\.yaml:- +bullseye\.yaml names no release of roles\/platforms\.yaml \| name it <codename>\.yaml/,
        ),
      ]),
    );
    const shipped = await loadProject();
    expect(shipped.platforms.map((p) => p.codename)).toEqual(['bookworm', 'trixie']);
  });

  it('requires run_once tasks to come last in a role, and handlers not to be run_once', async () => {
    expect(await problems(join(import.meta.dirname, '..', 'fixtures', 'roles', 'run-once'))).toEqual([
      "/roles/late/tasks.yaml:8 2 task 'configure' of role late follows the run_once task 'cluster-wide settings' | run_once tasks run after every host has finished the phase: move them to the end of tasks.yaml",
      "/roles/late/tasks.yaml:15 4 task 'explicitly per host' of role late follows the run_once task 'cluster-wide settings' | run_once tasks run after every host has finished the phase: move them to the end of tasks.yaml",
      "/roles/late/handlers.yaml:4 1 handler 'reload x' of role late is run_once | handlers run on each host that notified them; make the work a run_once task at the end of tasks.yaml",
    ]);
  });
});
