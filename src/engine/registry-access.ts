import type { Progress } from '../progress.js';

/** How one side of a run reaches its registry: skopeo's --src-* / --dest-* options. */
export interface RegistryAccess {
  /** USER:PASS, as skopeo's --creds. */
  creds?: string;
  authfile?: string;
  /** false allows http and self-signed certificates (skopeo's --tls-verify=false). */
  tlsVerify?: boolean;
  /** A directory of *.crt (CAs) and *.cert/*.key (a client certificate), as containers' certs.d. */
  certDir?: string;
}

export type Side = 'src' | 'dest';

/** What a transport may need beyond the reference: registry access per side, retries, transfer width. */
export interface TransportOptions extends RegistryAccess {
  /** Overrides of the options above for the source (and --prior) or the destination. */
  src?: RegistryAccess;
  dest?: RegistryAccess;
  /** Retries after a failed request (skopeo's --retry-times); attempts are one more. */
  retryTimes?: number;
  /** Blobs transferred at once. */
  jobs?: number;
  /** Where blob transfers report their bytes. */
  progress?: Progress;
  /** A source reference whose registry and repository a registry sink may mount blobs from. */
  mountFrom?: string;
  /** --work-dir: where a transport unpacks or stages what it needs (an oci-archive's layout). */
  workDir?: string;
  /** --platform was given: an image of another platform is an error even without an index. */
  platformRequested?: boolean;
}

/** The options to read a reference with the destination's access (a prior at the destination). */
export function asDestination(opts: TransportOptions = {}): TransportOptions {
  const { src: _src, dest, ...shared } = opts;
  return { ...shared, ...dest };
}

/** The registry client's options for one side: its own access over the shared one. */
export function registryOptions(opts: TransportOptions, side: Side) {
  const access: RegistryAccess = { ...pick(opts), ...pick(opts[side] ?? {}) };
  return {
    ...access,
    ...(opts.retryTimes !== undefined ? { retry: { attempts: opts.retryTimes + 1 } } : {}),
    ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
    ...(opts.progress !== undefined ? { progress: opts.progress } : {}),
  };
}

/** The defined access fields only: an undefined side option must not hide the shared one. */
function pick(a: RegistryAccess): RegistryAccess {
  const out: RegistryAccess = {};
  if (a.creds !== undefined) out.creds = a.creds;
  if (a.authfile !== undefined) out.authfile = a.authfile;
  if (a.tlsVerify !== undefined) out.tlsVerify = a.tlsVerify;
  if (a.certDir !== undefined) out.certDir = a.certDir;
  return out;
}

/**
 * The access to read `ref` with in a run that writes `destination`: the destination's when it is
 * on the destination's registry (a --prior beside the output), else the source's.
 */
export function accessFor(ref: string, destination: string, opts: TransportOptions = {}): TransportOptions {
  const host = (r: string) => (r.startsWith('docker://') ? r.slice('docker://'.length).split('/')[0] : undefined);
  const same = ref === destination || (host(ref) !== undefined && host(ref) === host(destination));
  return same ? asDestination(opts) : opts;
}
