import { RechunkerError } from '../errors.js';
import type { Platform } from '../oci/types.js';
import { priorFromImage } from '../plan/recorded-plan.js';
import type { PriorPlan } from '../plan/plan-types.js';
import { openSource, type TransportOptions } from './open-reference.js';

/** The plan the rechunked image at `ref` recorded (see plan/recorded-plan.ts). */
export async function readPriorPlan(ref: string, platform: Platform, transport?: TransportOptions): Promise<PriorPlan> {
  const source = await openSource(ref, transport);
  try {
    const { config, manifest } = await source.resolve(platform);
    return priorFromImage(ref, config, manifest);
  } finally {
    await source.close();
  }
}

/**
 * The prior for a build that names none: the image DESTINATION already holds, when it is a
 * rechunked one. A missing tag, layout or label is silently no prior; another failure is a reason
 * to go without one, returned so the caller can say so.
 */
export async function findPriorPlan(ref: string, platform: Platform, transport?: TransportOptions): Promise<{ plan?: PriorPlan; warning?: string }> {
  try {
    return { plan: await readPriorPlan(ref, platform, transport) };
  } catch (err) {
    // Nothing there, or a destination the write itself will report as unusable (or refusing us).
    if (err instanceof RechunkerError && (err.code === 'NOT_FOUND' || err.code === 'IO' || err.code === 'AUTH')) return {};
    return { warning: `${ref}: not used as the prior plan (${(err as Error).message})` };
  }
}
