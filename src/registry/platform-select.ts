import { RechunkerError } from '../errors.js';
import type { Descriptor, Platform } from '../oci/types.js';

/**
 * Choosing one image of an index / manifest list for a platform, as containers/image does:
 * os and architecture must match (architecture names normalised: x86_64 = amd64, aarch64 = arm64),
 * and the variant when one is asked for (arm64 implies v8, arm implies v7 when unspecified).
 * An exact variant beats an implied one; otherwise the first match wins.
 */
const ARCH: Record<string, string> = { x86_64: 'amd64', x64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386', i686: '386', ia32: '386' };

export function normalizePlatform(p: Platform): Platform {
  const arch = ARCH[p.architecture.toLowerCase()] ?? p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase();
  if (arch === 'arm64' && (variant === '8' || variant === 'v8')) variant = 'v8';
  if (arch === 'arm' && variant !== undefined && /^\d+$/.test(variant)) variant = `v${variant}`;
  const out: Platform = { os: p.os.toLowerCase(), architecture: arch };
  if (variant) out.variant = variant;
  return out;
}

function impliedVariant(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  if (p.architecture === 'arm') return 'v7';
  return undefined;
}

export function formatPlatform(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Is `have` (an index entry's platform) usable for `want`? */
export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have || typeof have.os !== 'string' || typeof have.architecture !== 'string') return false;
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  if (!w.variant) return true;
  return impliedVariant(h) === impliedVariant(w);
}

export function selectManifest(manifests: Descriptor[], want: Platform, where: string): Descriptor {
  const matching = manifests.filter((m) => platformMatches(want, m.platform));
  if (matching.length > 0) {
    const w = normalizePlatform(want);
    return matching.find((m) => m.platform && normalizePlatform(m.platform).variant === w.variant) ?? matching[0]!;
  }
  const have = manifests
    .filter((m) => m.platform)
    .map((m) => formatPlatform(normalizePlatform(m.platform!)))
    .filter((v, i, a) => a.indexOf(v) === i);
  throw new RechunkerError('PLATFORM', `${where}: no image for platform ${formatPlatform(normalizePlatform(want))} (available: ${have.join(', ') || 'none'}); choose one with --platform`);
}
