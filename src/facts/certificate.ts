import { sh } from '../core/command.js';
import { parseCertificate } from '../pki/inspect.js';
import { defineFact } from './fact.js';

export interface CertificateFile {
  path: string;
  subject: string;
  /** The end of its validity. */
  notAfter: Date;
}

/**
 * The certificates in these files (those that exist), with their subject and expiry. The files are read (one `cat`,
 * certificates are public) and parsed here: an openssl process per file cost most of a status read on a busy host.
 */
export const certificatesFact = defineFact<{ paths: readonly string[] }, CertificateFile[]>({
  name: 'certificates',
  key: ({ paths }) => paths.join(' '),
  command: ({ paths }) =>
    sh`for f in ${paths}; do [ -f "$f" ] || continue; printf '%s\n' "file=$f"; cat -- "$f"; echo; done; true`,
  parse: ({ stdout }) => {
    const out: CertificateFile[] = [];
    for (const part of stdout.split(/^file=/m).slice(1)) {
      const path = part.slice(0, part.indexOf('\n'));
      // A ca.crt holds two CAs while the CA is being rotated: each is reported.
      for (const [pem] of part.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)) {
        try {
          const c = parseCertificate(pem);
          out.push({ path, subject: c.subjectCommonName ?? '?', notAfter: c.notAfter });
        } catch {
          // Not a certificate pgprov can read: it has no expiry to report.
        }
      }
    }
    return out;
  },
});
