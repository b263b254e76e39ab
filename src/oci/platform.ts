import { RechunkerError } from '../errors.js';
import type { Descriptor, Platform } from './types.js';

const ARCH_ALIASES: Record<string, string> = { x64: 'amd64', x86_64: 'amd64', aarch64: 'arm64', ia32: '386', arm: 'arm' };

export function normalizeArch(arch: string): string {
  return ARCH_ALIASES[arch] ?? arch;
}

export function hostPlatform(): Platform {
  return { os: 'linux', architecture: normalizeArch(process.arch) };
}

/** `os/arch[/variant]`, as podman and skopeo spell it. */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new RechunkerError('USAGE', `invalid platform "${text}": expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`);
  }
  const [os, arch, variant] = parts as [string, string, string | undefined];
  return { os, architecture: normalizeArch(arch), ...(variant ? { variant } : {}) };
}

export function formatPlatform(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function variantMatches(want: Platform, have: Platform): boolean {
  if (!want.variant) return true;
  // arm64 images often omit the v8 variant they imply.
  const haveVariant = have.variant ?? (have.architecture === 'arm64' ? 'v8' : undefined);
  return haveVariant === want.variant;
}

export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have) return false;
  return have.os === want.os && normalizeArch(have.architecture) === want.architecture && variantMatches(want, have);
}

/** Pick the one manifest of an index that runs on `want`; the error lists what there is. */
export function selectPlatform(manifests: Descriptor[], want: Platform, where: string): Descriptor {
  const matching = manifests.filter((m) => platformMatches(want, m.platform));
  if (matching.length > 0) {
    // Prefer an exact variant over an implied one; otherwise the first, as containers/image does.
    return matching.find((m) => m.platform?.variant === want.variant) ?? matching[0]!;
  }
  const have = manifests.map((m) => formatPlatform(m.platform)).join(', ') || 'none';
  throw new RechunkerError('PLATFORM', `${where}: no image for platform ${formatPlatform(want)} (available: ${have}); choose one with --platform`);
}
