/**
 * The References section every command's description ends with: each transport, its spelling
 * as skopeo spells it, and which side of a command it can be. One text, so no command forgets one.
 */
const TRANSPORTS: Array<[string, string]> = [
  ['oci:DIR[:TAG]', 'an OCI image layout; oci:DIR@sha256:... reads one manifest'],
  ['oci-archive:FILE[:TAG]', 'a tar of an OCI layout; oci-archive:- is stdout'],
  ['docker://HOST[:PORT]/REPO[:TAG|@DIGEST]', 'a registry; --creds or auth files'],
  ['containers-storage:[DRIVER@ROOT+RUNROOT]IMAGE', "podman's image store"],
  ['rootfs:DIR', 'a root filesystem directory, read as one layer (source only)'],
];

/** One short line per transport (under 78 columns, so no terminal wraps a row in two). */
export function referencesHelp(opts: { rootfs?: boolean } = {}): string {
  const rows = TRANSPORTS.filter(([ref]) => opts.rootfs !== false || !ref.startsWith('rootfs:'));
  return ['References:', ...rows.map(([ref, what]) => `  ${ref}: ${what}`)].join('\n');
}
