/** A packing decision: which components go in which layer, bottom to top. Pure data, JSON-safe. */
export interface PlannedLayer {
  components: string[];
  /** Uncompressed bytes of regular files (hardlink sets counted once). */
  size: number;
  /** P(the layer's digest changes at the next update) = 1 - prod(1 - p) over its components. */
  changeProbability?: number;
}

/** What the next build needs to know about one component of this build. */
export interface ComponentRecord {
  /** sha256 (truncated, see fingerprint.ts) over the component's paths, metadata and contents. */
  fingerprint: string;
  size: number;
  /** Estimated probability that the component changes at the next update. */
  changeProbability: number;
  /**
   * Observed history, oldest first, one character per build that compared the component with the
   * build before it: '1' changed, '0' did not (at most HISTORY_LENGTH, see stability.ts).
   */
  history: string;
}

export type PackerName = 'rechunker' | 'chunkah' | 'single';
export const PACKERS: readonly PackerName[] = ['rechunker', 'chunkah', 'single'];

export interface Plan {
  /** 2 since component records; readers still accept 1 (layers only) as a prior. */
  version: 2;
  maxLayers: number;
  /** Component layers, bottom first; the parent-directory strategy may add layers of its own. */
  layers: PlannedLayer[];
  /** Per component: fingerprint, change probability and history, for the next build. */
  components: Record<string, ComponentRecord>;
  packer: PackerName;
  /** Expected uncompressed bytes downloaded per update (blob reuse): sum of P(layer) x size. */
  expectedCost: number;
  /** The same with one layer per component: the best any packing could expect. */
  expectedLowerBound: number;
  /** How the prior was used, or why it was not. */
  notes: string[];
}

/** What a prior plan gives the planner, whichever version recorded it. */
export interface PriorPlan {
  version: 1 | 2;
  maxLayers: number;
  layers: PlannedLayer[];
  /** Absent for version 1: then no component is known to have changed. */
  components?: Record<string, ComponentRecord>;
  /** How its layers were compressed ("gzip:6"), when the label says. */
  compression?: string;
  /** Its build's input key, files and directories, and expected costs, when the label says. */
  input?: string;
  files?: number;
  directories?: number;
  expectedCost?: number;
  expectedLowerBound?: number;
}

/** The planner's view of one component. */
export interface PlanComponent {
  name: string;
  size: number;
  /** Probability that it changes at the next update. */
  changeProbability: number;
  /** Observed history ('0'/'1' per build, oldest first): components that changed together group together. */
  history?: string;
  /** Components of one group (Component.group) change together. */
  group?: string;
}
