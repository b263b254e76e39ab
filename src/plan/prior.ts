import { PLAN_LABEL } from '../build/assemble-image.js';
import { RechunkerError } from '../errors.js';
import type { Platform } from '../oci/types.js';
import { openSource, type TransportOptions } from '../ref/open.js';
import type { Plan } from './plan.js';

/** The plan a previous rechunked image recorded in its config label. */
export async function readPriorPlan(ref: string, platform: Platform, transport?: TransportOptions): Promise<Plan> {
  const source = await openSource(ref, transport);
  try {
    const { config } = await source.resolve(platform);
    const label = config.config?.Labels?.[PLAN_LABEL];
    if (!label) throw new RechunkerError('NOT_FOUND', `${ref}: not a rechunked image (no ${PLAN_LABEL} label)`);
    let plan: Plan;
    try {
      plan = JSON.parse(label) as Plan;
    } catch {
      throw new RechunkerError('BAD_MANIFEST', `${ref}: the ${PLAN_LABEL} label is not valid JSON`);
    }
    if (plan.version !== 1 || !Array.isArray(plan.layers)) throw new RechunkerError('BAD_MANIFEST', `${ref}: unsupported plan version ${String(plan.version)}`);
    return plan;
  } finally {
    await source.close();
  }
}
