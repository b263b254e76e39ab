/** A packing decision: which components go in which layer, bottom to top. Pure data, JSON-safe. */
export interface PlannedLayer {
  components: string[];
  /** Uncompressed bytes of regular files (hardlink sets counted once). */
  size: number;
}

export interface Plan {
  version: 1;
  maxLayers: number;
  /** Component layers, bottom first; the parent-directory strategy may add layers of its own. */
  layers: PlannedLayer[];
}

export interface PlanComponent {
  name: string;
  size: number;
  /** Changes with nearly every update (package databases, unclaimed files). */
  volatile: boolean;
}
