// The layering of src/ (scripts/layers.cjs): a module imports its own layer or a lower one, never a higher one,
// and no import cycle anywhere. Type-only imports count: a type is a seam too (tsPreCompilationDeps).
// Why dependency-cruiser rather than our own 50-line script on ts.preProcessFile (which found the same 6 violations):
// it resolves imports as tsc does (NodeNext, .js -> .ts, index files, re-exports, import()), prints each cycle's
// path, and a new rule is a few declarative lines. It costs 37 packages (7.8 MB, 4.4 s to install) and 4.5 s CPU a
// run against 0.9 s for the script. Version 17: 18 needs Node 22.
const { layers, backends, backendMayImport, pureStages } = require('./scripts/layers.cjs');

const re = (paths) => `^(${paths.join('|')})`;
const upward = layers.slice(0, -1).map(([name, paths], i) => ({
  name: `no-upward-import-from-${name}`,
  comment: `${name} (${paths.join(', ')}) imports only from its own layer or below`,
  severity: 'error',
  from: { path: re(paths) },
  to: { path: re(layers.slice(i + 1).flatMap(([, p]) => p)) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    ...backends.map((b) => ({
      name: `backend-${b}-imports-no-other-backend`,
      comment: 'backends are siblings; only archive may build on layout; the engine picks one',
      severity: 'error',
      from: { path: `^src/${b}/` },
      to: { path: `^src/(${backends.filter((o) => o !== b && !backendMayImport[b]?.includes(o)).join('|')})/` },
    })),
    {
      name: 'pure-stage-imports-no-backend',
      comment:
        'the pure stages (components, plan, parents, assemble, verify, analyze) work on interfaces, never on a backend',
      severity: 'error',
      from: { path: `^src/(${pureStages.join('|')})/` },
      to: { path: `^src/(${backends.join('|')})/` },
    },
    {
      name: 'plan-does-no-io',
      comment: 'planning is pure: no file system or network modules under src/plan/',
      severity: 'error',
      from: { path: '^src/plan/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|tls|child_process)$',
      },
    },
    {
      name: 'src-imports-no-commands-bench-or-test',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(commands|bench|test|examples)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    exclude: { path: 'node_modules' },
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.check.json' },
    combinedDependencies: false,
  },
};
