import { RechunkerError } from '../errors.js';
import { describesImage, type Descriptor, type Platform } from './types.js';

/**
 * Platforms, and choosing one image of an index / manifest list for a platform as containers/image
 * does: os and architecture must match (names normalised: x86_64 = amd64, aarch64 = arm64,
 * armhf = arm, i686 = 386 ...), and the variant when one is asked for (arm64 implies v8, arm
 * implies v7 when unspecified; a bare number is a v-variant). An exact variant beats an implied
 * one; otherwise the first match wins.
 */
const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  x64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  i386: '386',
  i686: '386',
  ia32: '386',
};

export function normalizeArch(arch: string): string {
  const lower = arch.toLowerCase();
  return ARCH_ALIASES[lower] ?? lower;
}

export function normalizePlatform(p: Platform): Platform {
  const arch = normalizeArch(p.architecture);
  let variant = p.variant?.toLowerCase();
  if (arch === 'arm64' && (variant === '8' || variant === 'v8')) variant = 'v8';
  if (arch === 'arm' && variant !== undefined && /^\d+$/.test(variant)) variant = `v${variant}`;
  const out: Platform = { os: p.os.toLowerCase(), architecture: arch };
  if (variant) out.variant = variant;
  return out;
}

export function hostPlatform(): Platform {
  return { os: 'linux', architecture: normalizeArch(process.arch) };
}

/** `os/arch[/variant]`, as podman and skopeo spell it. */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new RechunkerError(
      'USAGE',
      `invalid platform "${text}": expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`,
    );
  }
  const [os, arch, variant] = parts as [string, string, string | undefined];
  return { os, architecture: normalizeArch(arch), ...(variant ? { variant } : {}) };
}

export function formatPlatform(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The variant a normalised platform stands for when it names none. */
function impliedVariant(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  if (p.architecture === 'arm') return 'v7';
  return undefined;
}

/** An index entry's platform is unchecked JSON: only a well-formed one is compared or shown. */
function isPlatform(p: Platform | undefined): p is Platform {
  return (
    !!p &&
    typeof p.os === 'string' &&
    typeof p.architecture === 'string' &&
    (p.variant === undefined || typeof p.variant === 'string')
  );
}

/** Is `have` (an index entry's platform) usable for `want`? */
export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!isPlatform(have)) return false;
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  if (!w.variant) return true;
  return impliedVariant(h) === impliedVariant(w);
}

/** Pick the one manifest of an index that runs on `want`; the error lists what there is. */
export function selectPlatform(manifests: Descriptor[], want: Platform, where: string): Descriptor {
  const w = normalizePlatform(want);
  const matching = manifests.filter((m) => describesImage(m) && platformMatches(w, m.platform));
  if (matching.length > 0) {
    return matching.find((m) => normalizePlatform(m.platform!).variant === w.variant) ?? matching[0]!;
  }
  const have = [
    ...new Set(
      manifests
        .map((m) => m.platform)
        .filter(isPlatform)
        .map((p) => formatPlatform(normalizePlatform(p))),
    ),
  ];
  throw new RechunkerError(
    'PLATFORM',
    `${where}: no image for platform ${formatPlatform(w)} (available: ${have.join(', ') || 'none'}); choose one with --platform`,
  );
}

/**
 * A platform asked for by name must be the image's own, even when the reference names a single
 * image rather than an index (podman only warns; a build for the wrong architecture is worse
 * than a stopped one). A config that states no platform is taken as it is.
 */
export function requirePlatform(
  config: { os?: string; architecture?: string; variant?: string },
  want: Platform,
  where: string,
): void {
  if (typeof config.os !== 'string' || typeof config.architecture !== 'string') return;
  const have: Platform = {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
  };
  if (platformMatches(want, have)) return;
  const is = formatPlatform(normalizePlatform(have));
  const asked = formatPlatform(normalizePlatform(want));
  throw new RechunkerError(
    'PLATFORM',
    `${where}: the image is for ${is}, not ${asked} (it is not a multi-platform index); drop --platform or choose another image`,
  );
}
