// A three-layer image whose upper layers only imply directories the lowest one defines with
// unusual metadata: how a runtime makes such a directory is what tells unpacker models apart
// (see src/verify/merge-overlay.ts). The unit test of the models and the end-to-end test against
// the real runtimes use the same layers.
import type { EntrySpec } from './make-tar.js';

export const PROBE_TIME = 1_600_000_000;
const T = PROBE_TIME;

export const PROBE_LAYERS: EntrySpec[][] = [
  [
    {
      path: 'a',
      type: 'dir',
      mode: 0o750,
      uid: 1000,
      gid: 1001,
      mtimeSec: T,
      xattrs: { 'user.probe': 'below', 'trusted.x': 'y' },
    },
    { path: 'a/x', body: 'x', mtimeSec: T },
    { path: 'a/b', type: 'dir', mode: 0o700, uid: 1002, gid: 0, mtimeSec: T + 1 },
    { path: 'c', type: 'dir', mode: 0o711, uid: 5, gid: 5, mtimeSec: T },
    { path: 'f', body: 'a file below a directory', mtimeSec: T },
  ],
  [
    { path: 'a/f', body: 'f', mtimeSec: T },
    { path: 'a/b/g', body: 'g', mtimeSec: T },
    { path: 'n/m/o', body: 'o', mtimeSec: T },
  ],
  [
    { path: 'c/d/e', body: 'e', mtimeSec: T },
    { path: 'f/inner', body: 'i', mtimeSec: T },
  ],
];
