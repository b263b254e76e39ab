import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RechunkerError } from '../errors.js';

/**
 * A certificate directory as containers/image reads one (--cert-dir, certs.d): every `*.crt` is
 * a CA to trust, a `NAME.cert` with its `NAME.key` is the client certificate to present.
 */
export function readCertDir(dir: string): { ca: string[]; cert?: string; key?: string } {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw new RechunkerError('IO', `--cert-dir ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      cause: e,
    });
  }
  const read = (name: string) => readFileSync(path.join(dir, name), 'utf8');
  const out: { ca: string[]; cert?: string; key?: string } = { ca: names.filter((n) => n.endsWith('.crt')).map(read) };
  const cert = names.find((n) => n.endsWith('.cert'));
  if (cert) {
    const key = `${cert.slice(0, -'.cert'.length)}.key`;
    if (!names.includes(key)) throw new RechunkerError('USAGE', `--cert-dir ${dir}: ${cert} has no ${key} beside it`);
    out.cert = read(cert);
    out.key = read(key);
  }
  return out;
}
