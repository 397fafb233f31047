import { parse as parseYaml } from 'yaml';
import { sh } from '../core/command.js';
import { type Member, parseCluster } from '../cluster/member.js';
import { defineFact } from './fact.js';

/** The Patroni cluster as seen from one member: every member's state and the cluster-wide settings in the DCS. */
export type PatroniView =
  | { available: true; members: Member[]; settings: Record<string, unknown> | undefined }
  | { available: false; reason: 'not-set-up' | 'unreadable'; why: string };

export interface PatroniApi {
  /** The member's Patroni configuration file: Patroni is set up here when it exists. */
  config: string;
  /** The member's REST API, e.g. https://10.0.0.11:8008. */
  url: string;
  /** CA that signed the REST API's certificate. */
  cacert: string;
  cluster: string;
}

const SPLIT = '--- pgprov: config ---';

/**
 * A Patroni that was just started (on a first apply, on a busy host) may take a while to open its API: a refused
 * connection is retried for up to 30 s before the API counts as not answering. curl's complaints go to a file,
 * printed only when it gives up, so that those of retries that then succeed do not land in the body.
 *
 * Read from the member's REST API (GET /cluster and GET /config: no credentials needed, and a few milliseconds
 * where patronictl takes most of a second to start), verifying its certificate.
 */
export const patroniFact = defineFact<PatroniApi, PatroniView>({
  name: 'patroni',
  key: ({ url, config, cacert, cluster }) => `${url} ${config} ${cacert} ${cluster}`,
  command: ({ config, url, cacert }) =>
    sh`test -e ${config} || exit 4; e=$(mktemp) || exit 5; trap 'rm -f "$e"' EXIT; curl -sS --max-time 5 --retry 30 --retry-delay 1 --retry-connrefused --retry-max-time 30 --cacert ${cacert} -w '\n%{http_code}\n' ${`${url}/cluster`} 2>"$e" || { cat "$e"; exit 5; }; echo ${SPLIT}; curl -sS --max-time 5 --cacert ${cacert} -w '\n%{http_code}\n' ${`${url}/config`} 2>"$e" || { cat "$e"; exit 6; }`,
  parse: ({ stdout, code }, { config, url, cluster }) => {
    if (code === 4) return { available: false, reason: 'not-set-up', why: `${config} does not exist yet` };
    if (code !== 0 && code !== 5 && code !== 6)
      return { available: false, reason: 'not-set-up', why: `Patroni is not set up here (exit ${code})` };
    if (code !== 0) {
      // curl prints its error, then the write-out (000: nothing answered): the error is the line worth showing.
      const error =
        stdout
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l.startsWith('curl:'))
          .at(-1) ?? 'curl gave no reason';
      return {
        available: false,
        reason: 'unreadable',
        why: `Patroni's REST API at ${url} does not answer: ${error}`,
      };
    }
    const [clusterPart = '', configPart = ''] = stdout.split(SPLIT);
    const members = response(clusterPart);
    if (members.status !== 200) {
      return {
        available: false,
        reason: 'unreadable',
        why: `GET ${url}/cluster answered ${members.status}: ${members.body.slice(0, 200)}`,
      };
    }
    // Before the first leader has written them, there are no settings: GET /config answers an error.
    const settingsPart = response(configPart);
    const shown = settingsPart.status === 200 ? (parseYaml(settingsPart.body) as unknown) : undefined;
    const settings =
      shown && typeof shown === 'object' && Object.keys(shown).length > 0
        ? (shown as Record<string, unknown>)
        : undefined;
    try {
      return { available: true, members: parseCluster(members.body, cluster), settings };
    } catch (error) {
      return {
        available: false,
        reason: 'unreadable',
        why: `GET ${url}/cluster answered what is not a member list (${(error as Error).message}): ${members.body.slice(0, 200)}`,
      };
    }
  },
});

/** A body followed by a line with curl's %{http_code}. */
function response(text: string): { body: string; status: number } {
  const lines = text.trim().split('\n');
  const status = Number(lines.pop());
  return { body: lines.join('\n'), status };
}
