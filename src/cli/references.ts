/**
 * The References section every command's description ends with: each transport, its spelling
 * as skopeo spells it, and which side of a command it can be. One text, so no command forgets one.
 */
const TRANSPORTS: Array<[string, string]> = [
  ['oci:DIR[:TAG]', 'OCI image layout directory; oci:DIR@sha256:... names a manifest by digest (source only)'],
  ['oci-archive:FILE[:TAG]', 'tar of an OCI layout, as skopeo and podman write it; oci-archive:- is stdout (destination)'],
  ['docker://HOST[:PORT]/REPO[:TAG|@DIGEST]', 'registry (distribution API); credentials from --creds or auth files'],
  ['containers-storage:[DRIVER@ROOT+RUNROOT]IMAGE', "podman's and buildah's local image store"],
  ['rootfs:DIR', 'a root filesystem directory, read as one layer (source only)'],
];

export function referencesHelp(opts: { rootfs?: boolean } = {}): string {
  const rows = TRANSPORTS.filter(([ref]) => opts.rootfs !== false || !ref.startsWith('rootfs:'));
  const width = Math.max(...rows.map(([ref]) => ref.length));
  return ['References:', ...rows.map(([ref, what]) => `  ${ref.padEnd(width)}  ${what}`)].join('\n');
}
