import { SafetyError } from '../core/errors.js';
import { fileFact } from '../facts/file.js';
import { request } from '../facts/fact.js';
import { type FileArgs, fileOp, sha256 } from './file.js';
import { change, defineOperation, noChange, type Plan } from './operation.js';

export interface CertificateArgs {
  /** Which certificate this is, for messages: `pg1 (etcd)`. */
  label: string;
  /** The CA certificate, the host certificate and its private key (a Secret), as files. */
  files: FileArgs[];
  /** Which of the files is the CA certificate. */
  caPath: string;
  /** Replace a CA the host already trusts with this controller's (pgprov_replace_ca). */
  replaceCa: boolean;
  /** Other CA files the host may hold that are this controller's too (a CA rotation's other steps). */
  acceptedCaPems?: readonly string[];
}

/**
 * A host's TLS material from the controller's PKI: CA, certificate and key land together, each compared by
 * checksum, so an unchanged certificate is never re-uploaded and a renewed one replaces all three.
 */
export const certificateOp = defineOperation<CertificateArgs>({
  module: 'certificate',
  facts: (args, env) => [
    request(fileFact, { path: args.caPath }),
    ...args.files.flatMap((f) => fileOp.facts(f, env)),
  ],
  plan: (args, facts, env) => {
    refuseForeignCa(args, facts.get(fileFact, { path: args.caPath }).sha256);
    const plans = args.files.map((f) => fileOp.plan(f, facts, env));
    const changed = plans.filter((p): p is Extract<Plan, { changed: true }> => p.changed);
    if (changed.length === 0) return noChange(`certificate ${args.label} is in place`);
    return change(
      changed.map((p) => p.reason).join('; '),
      changed.flatMap((p) => p.steps),
    );
  },
});

/**
 * A host that already trusts another CA was set up by another pgprov state folder (another checkout, or one that
 * was lost): this controller would replace the CA, every certificate and the generated passwords, and every TLS
 * connection in the running cluster would fail. Stop instead, unless asked to replace the CA.
 */
function refuseForeignCa(args: CertificateArgs, onHost: string | undefined): void {
  const ca = args.files.find((f) => f.path === args.caPath);
  if (!ca || onHost === undefined || args.replaceCa) return;
  const ours = sha256(ca.content);
  if (onHost === ours || args.acceptedCaPems?.some((pem) => sha256(pem) === onHost)) return;
  throw new SafetyError(
    `${args.label}: the host trusts another CA (${args.caPath}, sha256 ${onHost.slice(0, 16)}...) than this ` +
      `controller's (sha256 ${ours.slice(0, 16)}...). This state folder did not set the host up; replacing the CA ` +
      'would break every TLS connection of the running cluster. Nothing was changed.',
    {
      hint:
        'run pgprov with the state folder that built the cluster (copy inventory/.pgprov/<inventory name>/ from that machine), ' +
        'or replace the CA on purpose with -e pgprov_replace_ca=true',
    },
  );
}
