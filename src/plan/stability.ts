/**
 * How likely each component is to change at the next update. Pure.
 *
 * Sources, in the order they are combined:
 *  1. The component's kind: package databases, caches and unclaimed files change with nearly every update.
 *  2. `user.update-interval` (meta.updateIntervalDays): the author's own statement.
 *  3. Changelog dates (meta.changeTimes, Debian changelog.Debian.gz or rpm %changelog): entries in
 *     the last RATE_WINDOW_DAYS before the newest date in the whole image, as a Poisson rate, the
 *     way hhd-dev/rechunk turns rpm changelogs into change frequencies. The newest date in the image
 *     stands for "now", so the estimate never depends on the wall clock.
 *  4. The prior image's plan: how many builds compared this component with the build before, and
 *     how many found it changed. The observation and the estimate from 1-3 are combined as a Beta
 *     posterior with PRIOR_WEIGHT pseudo-builds of the estimate.
 */
import type { Component } from '../components/types.js';
import type { ComponentRecord } from './plan-types.js';

/** Days between two updates the estimates are calibrated for. */
const UPDATE_INTERVAL_DAYS = 30;
/** Changelog entries older than this (before the image's newest entry) say little about today. */
const RATE_WINDOW_DAYS = 3 * 365;
/** Pseudo-count of changelog entries: a package silent for years still changes some day. */
const RATE_PSEUDO_ENTRIES = 0.5;
/**
 * Chance per update that a package changes whatever its own changelog says: a distribution's
 * stable updates (point releases, security rebuilds, a dependency's ABI bump) reach packages that
 * had no upload of their own for years. Debian 12's updates touch a tenth of a minimal system.
 */
const BASE_P = 0.05;
/** Probability for components nothing is known about. */
const DEFAULT_P = 0.1;
/** Package databases, their caches and unclaimed files: every update touches them. */
const VOLATILE_P = 0.9;
const VOLATILE_KINDS = new Set(['pkgdb', 'cache', 'unclaimed']);
/** Weight, in builds, of the estimate from metadata against observed history. */
const PRIOR_WEIGHT = 2;
const P_MIN = 0.002;
const P_MAX = 0.98;
const DAY = 86400;

/** Builds of history a plan keeps per component. */
const HISTORY_LENGTH = 32;

function historyCounts(history: string | undefined): { builds: number; changes: number } {
  const h = history ?? '';
  let changes = 0;
  for (const ch of h) if (ch === '1') changes++;
  return { builds: h.length, changes };
}

/** The reference time for changelog rates: the newest change date any component carries. */
export function newestChangeTime(components: readonly Component[]): number | undefined {
  let newest: number | undefined;
  for (const c of components) {
    for (const t of changeTimes(c)) if (newest === undefined || t > newest) newest = t;
  }
  return newest;
}

/** The component's change dates, in no particular order (only their maximum and count matter). */
function changeTimes(c: Component): number[] {
  return c.meta?.changeTimes ?? [];
}

const fromRate = (perDay: number): number => clamp(1 - Math.exp(-perDay * UPDATE_INTERVAL_DAYS));
const clamp = (p: number): number => Math.min(P_MAX, Math.max(P_MIN, p));

/** The estimate from the component's own metadata (sources 1-3). */
export function metadataProbability(c: Component, now: number | undefined): number {
  if (VOLATILE_KINDS.has(c.kind)) return VOLATILE_P;
  const interval = c.meta?.updateIntervalDays;
  if (interval !== undefined && interval > 0) return fromRate(1 / interval);
  const times = changeTimes(c);
  if (times.length === 0 || now === undefined) return DEFAULT_P;
  const since = now - RATE_WINDOW_DAYS * DAY;
  const recent = times.filter((t) => t > since).length;
  return clamp(1 - (1 - fromRate((recent + RATE_PSEUDO_ENTRIES) / RATE_WINDOW_DAYS)) * (1 - BASE_P));
}

/** Combine the metadata estimate with observed history (source 4). */
export function changeProbability(estimate: number, history: string | undefined): number {
  const { builds, changes } = historyCounts(history);
  if (builds === 0) return clamp(estimate);
  return clamp((changes + PRIOR_WEIGHT * estimate) / (builds + PRIOR_WEIGHT));
}

/**
 * This build's history of a component from the prior's record: one more comparison, '1' when its
 * fingerprint differs. A rebuild of identical input (`rebuild`) adds nothing, so building the same
 * image twice does not make every component look more stable.
 */
export function nextHistory(
  prior: ComponentRecord | undefined,
  fingerprint: string | undefined,
  rebuild: boolean,
): string {
  if (prior === undefined) return '';
  const h = typeof prior.history === 'string' ? prior.history.replace(/[^01]/g, '') : '';
  if (rebuild || fingerprint === undefined || !prior.fingerprint) return h;
  return (h + (prior.fingerprint === fingerprint ? '0' : '1')).slice(-HISTORY_LENGTH);
}
