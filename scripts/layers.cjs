// The stages of src/, bottom to top (issue 11). A module may import its own layer or a lower one, never a higher
// one. Read by .dependency-cruiser.cjs (the import rules) and scripts/check-source.mjs (every file has a layer).
// Folders that do not exist yet are named so the rules hold once they do.
const backends = ['layout', 'archive', 'registry', 'rootfs', 'storage'];
const pureStages = ['components', 'plan', 'parents', 'assemble', 'verify', 'analyze'];
const folders = (names) => names.map((n) => `src/${n}/`);

module.exports = {
  /** Other backends a backend may build on (none otherwise: the engine picks one per reference). */
  backendMayImport: { archive: ['layout'] },
  backends,
  pureStages,
  layers: [
    ['L0', ['src/errors\\.ts$', 'src/progress\\.ts$', 'src/util/']],
    ['L1', ['src/oci/', 'src/tar/', 'src/compress/', 'src/ref/']],
    ['L2', ['src/graph/']],
    ['L3', [...folders(backends), ...folders(pureStages)]],
    ['L4', ['src/engine/']],
    ['L5', ['src/cli/', 'commands/']],
  ],
};
