import { type FileArgs, fileOp } from './file.js';
import { change, defineOperation, noChange, type Plan } from './operation.js';

export interface CertificateArgs {
  /** Which certificate this is, for messages: `pg1 (etcd)`. */
  label: string;
  /** The CA certificate, the host certificate and its private key (a Secret), as files. */
  files: FileArgs[];
}

/**
 * A host's TLS material from the controller's PKI: CA, certificate and key land together, each compared by
 * checksum, so an unchanged certificate is never re-uploaded and a renewed one replaces all three.
 */
export const certificateOp = defineOperation<CertificateArgs>({
  module: 'certificate',
  facts: (args, env) => args.files.flatMap((f) => fileOp.facts(f, env)),
  plan: (args, facts, env) => {
    const plans = args.files.map((f) => fileOp.plan(f, facts, env));
    const changed = plans.filter((p): p is Extract<Plan, { changed: true }> => p.changed);
    if (changed.length === 0) return noChange(`certificate ${args.label} is in place`);
    return change(
      changed.map((p) => p.reason).join('; '),
      changed.flatMap((p) => p.steps),
    );
  },
});
