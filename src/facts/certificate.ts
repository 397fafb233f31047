import { sh } from '../core/command.js';
import { defineFact } from './fact.js';

export interface CertificateFile {
  path: string;
  subject: string;
  /** The end of its validity. */
  notAfter: Date;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The certificates among these files that exist, with their subject and expiry (openssl on the host). */
export const certificatesFact = defineFact<{ paths: readonly string[] }, CertificateFile[]>({
  name: 'certificates',
  key: ({ paths }) => paths.join(' '),
  command: ({ paths }) =>
    sh`for f in ${paths}; do [ -f "$f" ] || continue; printf '%s\\n' "file=$f"; openssl x509 -noout -subject -enddate -in "$f" 2>/dev/null; done; true`,
  parse: ({ stdout }) => {
    const out: CertificateFile[] = [];
    let current: Partial<CertificateFile> = {};
    for (const line of stdout.split('\n')) {
      if (line.startsWith('file=')) current = { path: line.slice(5) };
      else if (line.startsWith('subject='))
        current.subject = line
          .slice(8)
          .replace(/^\s*CN\s*=\s*/, '')
          .trim();
      else if (line.startsWith('notAfter=')) {
        current.notAfter = opensslDate(line.slice(9));
        if (current.path) out.push(current as CertificateFile);
      }
    }
    return out;
  },
});

/** `Nov 26 00:05:01 2027 GMT` -> Date (openssl's format does not depend on the locale). */
export function opensslDate(text: string): Date {
  const m = /^(\w{3})\s+(\d+)\s+(\d+):(\d+):(\d+)\s+(\d{4})/.exec(text.trim());
  if (!m) return new Date(Number.NaN);
  const [, mon, day, h, min, s, year] = m;
  return new Date(
    Date.UTC(Number(year), MONTHS.indexOf(mon as string), Number(day), Number(h), Number(min), Number(s)),
  );
}
