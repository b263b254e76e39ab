/**
 * The seam between what knows who owns a file (a package database, an xattr, a cache directory)
 * and the one place that decides between them (resolve-claims.ts), as in chunkah's
 * `ComponentsRepo`: each source answers for a single path, and every claim carries its priority.
 */
import type { ComponentKind, ComponentMeta } from './types.js';

/**
 * The precedence rule, highest first (lower numbers win). The first six answer for one path; the
 * last three for a whole hardlink set that none of the first six claims for any of its paths.
 */
export const PRIORITY = {
  /** `user.component`, own or inherited: the image's author says so, which beats any inference. */
  xattr: 10,
  /**
   * A package manager's file list (dpkg, rpm, pacman). Two packages listing one path is a tie,
   * broken by `tieKey` (the package name) in byte order, so the answer is stable across builds.
   */
  packageList: 20,
  /** Unlisted `__pycache__/*.pyc` beside a listed `.py`: postinst writes them, they change with it. */
  pycache: 25,
  /** dpkg's per-package files (`var/lib/dpkg/info/NAME.*`) change exactly when their package does. */
  packageInfo: 30,
  /** The databases themselves change on every update, so they stay apart from what they list. */
  database: 40,
  /** Package-manager caches: rewritten by every `apt-get update`, and often large. */
  cache: 45,
  /** A big file nothing claims is its own component, so it does not weigh on a mixed layer. */
  bigFile: 50,
  /** A large unclaimed rest is split by directory subtree (tree-groups.ts), which stays put. */
  subtree: 60,
  /** Everything else: taken to change on every update. */
  unclaimed: 70,
} as const;

/** What a component is, beyond its paths; shared by every claim that names it. */
export interface ComponentFacts {
  kind: ComponentKind;
  group?: string;
  meta?: ComponentMeta;
}

export interface Claim {
  component: string;
  priority: number;
  /** Breaks ties between claims of one priority: the smallest in byte order wins, then `component`. */
  tieKey: string;
  facts: ComponentFacts;
}

export interface ClaimSource {
  /** Claims on one non-directory path of the tree; usually none or one. */
  claimsFor(path: string): readonly Claim[];
}

/** Paths kept together (one path, or a whole hardlink set), byte order, and the size stored once. */
export interface Unit {
  members: string[];
  size: number;
}

/** A rule for a whole unit that no path source claimed (big files). */
export interface UnitClaimSource {
  claimFor(unit: Unit): Claim | undefined;
}

/** The last rule: divides every unit left unclaimed among components of its own. */
export type RemainderRule = (units: Unit[]) => { claim: Claim; units: Unit[] }[];

/**
 * Claims kept by path: what most sources build once from their database and then answer from.
 * Nearly every path has one claim, kept as a one-claim list shared by all its paths rather than
 * an array per path (one per file of the image).
 */
export class ClaimTable implements ClaimSource {
  private readonly byPath = new Map<string, readonly Claim[]>();
  private readonly single = new Map<Claim, readonly Claim[]>();

  add(path: string, claim: Claim): void {
    const list = this.byPath.get(path);
    if (list === undefined) this.byPath.set(path, this.alone(claim));
    else if (!list.includes(claim)) this.byPath.set(path, [...list, claim]);
  }

  claimsFor(path: string): readonly Claim[] {
    return this.byPath.get(path) ?? NONE;
  }

  private alone(claim: Claim): readonly Claim[] {
    let list = this.single.get(claim);
    if (list === undefined) {
      list = Object.freeze([claim]);
      this.single.set(claim, list);
    }
    return list;
  }
}

const NONE: readonly Claim[] = Object.freeze([]);
