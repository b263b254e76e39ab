import { Flags } from '@oclif/core';
import { hostPlatform, parsePlatform } from '../oci/platform.js';

/** Flags several commands share, spelled as podman and skopeo spell them. */
export const platformFlag = Flags.string({
  description: 'platform to pick from a multi-platform image, os/arch[/variant] (default: this machine\'s)',
  helpValue: 'os/arch[/variant]',
});

export function platformOf(value: string | undefined) {
  return value ? parsePlatform(value) : hostPlatform();
}
