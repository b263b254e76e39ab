import { Flags } from '@oclif/core';
import { RechunkerError } from '../errors.js';
import { hostPlatform, parsePlatform } from '../oci/platform.js';

/** Flags several commands share, spelled as podman and skopeo spell them. */
export const platformFlag = Flags.string({
  description: 'platform to pick from a multi-platform image, os/arch[/variant] (default: this machine\'s)',
  helpValue: 'os/arch[/variant]',
});

export function platformOf(value: string | undefined) {
  return value ? parsePlatform(value) : hostPlatform();
}

/** Registry access, spelled as skopeo spells it. */
export const transportFlags = {
  creds: Flags.string({ description: 'registry credentials USER:PASSWORD (default: auth files, as podman)', helpValue: 'USER:PASS' }),
  authfile: Flags.string({ description: 'path of an auth.json (default: $REGISTRY_AUTH_FILE, then containers\' and docker\'s usual files)', env: 'REGISTRY_AUTH_FILE' }),
  'tls-verify': Flags.boolean({ description: 'require https with a verified certificate (--tls-verify=false allows http and self-signed)', default: true, allowNo: true }),
};

export function transportOptions(flags: { creds?: string; authfile?: string; 'tls-verify': boolean; quiet: boolean }, jobs?: number) {
  // Checked before any work: without a password the first registry request would fail minutes in.
  if (flags.creds !== undefined && flags.creds.indexOf(':') <= 0) throw new RechunkerError('USAGE', '--creds takes USER:PASSWORD (no password was given)');
  return {
    ...(flags.creds !== undefined ? { creds: flags.creds } : {}),
    ...(flags.authfile !== undefined ? { authfile: flags.authfile } : {}),
    tlsVerify: flags['tls-verify'],
    quiet: flags.quiet,
    ...(jobs !== undefined ? { jobs } : {}),
  };
}
