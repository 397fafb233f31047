import { sh } from '../core/command.js';
import { defineFact } from './fact.js';

export interface OsState {
  id: string;
  versionId: string;
  codename: string;
  /** What systemd-detect-virt --container says ('none' on a VM or bare metal, 'systemd-nspawn' in the lab). */
  container: string;
  bootId: string;
}

export const osFact = defineFact<Record<string, never>, OsState>({
  name: 'os',
  key: () => '',
  command: () =>
    sh`. /etc/os-release; echo "$ID|$VERSION_ID|$VERSION_CODENAME|$(systemd-detect-virt --container 2>/dev/null || echo none)|$(cat /proc/sys/kernel/random/boot_id)"`,
  parse: ({ stdout }) => {
    const [id = '', versionId = '', codename = '', container = 'none', bootId = ''] = stdout
      .trim()
      .split('|');
    return { id, versionId, codename, container, bootId };
  },
});
