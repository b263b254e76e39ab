import { RechunkerError } from '../errors.js';

/**
 * Image references, spelled as skopeo and podman spell them:
 *   oci:DIR[:TAG] | oci:DIR@sha256:HEX   an OCI image layout
 *   oci-archive:FILE[:TAG]               a tar of an OCI layout
 *   docker://HOST[:PORT]/REPO[:TAG|@DIGEST]
 *   rootfs:DIR                           a plain root filesystem (source only)
 *   containers-storage:[DRIVER@ROOT+RUNROOT]IMAGE   podman's and buildah's image store
 */
export type Reference =
  | { transport: 'oci'; text: string; dir: string; tag?: string; digest?: string }
  | { transport: 'oci-archive'; text: string; file: string; tag?: string }
  | { transport: 'docker'; text: string; rest: string }
  | { transport: 'rootfs'; text: string; dir: string }
  | { transport: 'containers-storage'; text: string; store?: StoreSpec; image: string };

/** The bracketed store of a containers-storage reference, as containers/image parses it. */
export interface StoreSpec {
  driver?: string;
  root: string;
  runroot?: string;
}

const DIGEST_SUFFIX = /@(sha256:[a-f0-9]{64})$/;

function bad(text: string, why: string): never {
  throw new RechunkerError('BAD_REFERENCE', `invalid image reference "${text}": ${why}`);
}

/** skopeo splits `oci:PATH:TAG` at the first colon after the transport, so PATH cannot hold one. */
function splitPathAndTag(text: string, rest: string): { path: string; tag?: string } {
  const i = rest.indexOf(':');
  const p = i < 0 ? rest : rest.slice(0, i);
  const tag = i < 0 ? undefined : rest.slice(i + 1);
  if (p === '') bad(text, 'empty path');
  if (tag !== undefined && (tag === '' || /[\s/]/.test(tag))) bad(text, `invalid tag "${tag}"`);
  return tag === undefined ? { path: p } : { path: p, tag };
}

export function parseReference(text: string): Reference {
  if (text.startsWith('docker://')) {
    const rest = text.slice('docker://'.length);
    if (rest === '') bad(text, 'no repository after docker://');
    return { transport: 'docker', text, rest };
  }
  if (text.startsWith('oci:')) {
    const rest = text.slice(4);
    const m = DIGEST_SUFFIX.exec(rest);
    if (m) {
      const dir = rest.slice(0, m.index);
      if (dir === '') bad(text, 'empty path');
      return { transport: 'oci', text, dir, digest: m[1]! };
    }
    const { path, tag } = splitPathAndTag(text, rest);
    return tag === undefined ? { transport: 'oci', text, dir: path } : { transport: 'oci', text, dir: path, tag };
  }
  if (text.startsWith('oci-archive:')) {
    const { path, tag } = splitPathAndTag(text, text.slice('oci-archive:'.length));
    return tag === undefined
      ? { transport: 'oci-archive', text, file: path }
      : { transport: 'oci-archive', text, file: path, tag };
  }
  if (text.startsWith('rootfs:')) {
    const dir = text.slice('rootfs:'.length);
    if (dir === '') bad(text, 'empty path');
    return { transport: 'rootfs', text, dir };
  }
  if (text.startsWith('containers-storage:'))
    return parseStorageReference(text, text.slice('containers-storage:'.length));
  const known = 'oci:DIR[:TAG], oci-archive:FILE[:TAG], docker://HOST/REPO[:TAG], rootfs:DIR, containers-storage:IMAGE';
  bad(text, `unknown transport (expected one of ${known})`);
}

/** `[DRIVER@ROOT+RUNROOT:OPTIONS]IMAGE` or `IMAGE`; options are accepted and ignored, as for a read. */
function parseStorageReference(text: string, rest: string): Reference {
  let store: StoreSpec | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) bad(text, 'no closing "]" after the store');
    let spec = rest.slice(1, close);
    rest = rest.slice(close + 1);
    const at = spec.indexOf('@');
    const driver = at >= 0 ? spec.slice(0, at) : undefined;
    if (at >= 0) spec = spec.slice(at + 1);
    const colon = spec.indexOf(':');
    if (colon >= 0) spec = spec.slice(0, colon);
    const plus = spec.indexOf('+');
    const root = plus >= 0 ? spec.slice(0, plus) : spec;
    const runroot = plus >= 0 ? spec.slice(plus + 1) : undefined;
    if (!root.startsWith('/')) bad(text, 'the store root must be an absolute path');
    if (runroot !== undefined && !runroot.startsWith('/')) bad(text, 'the run root must be an absolute path');
    store = { root, ...(driver ? { driver } : {}), ...(runroot ? { runroot } : {}) };
  }
  if (rest === '') bad(text, 'no image name or id');
  if (/\s/.test(rest)) bad(text, 'the image name contains whitespace');
  return store
    ? { transport: 'containers-storage', text, store, image: rest }
    : { transport: 'containers-storage', text, image: rest };
}
