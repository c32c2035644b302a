/**
 * The layers of docs/ARCHITECTURE.md, enforced by `npm run deps` (part of `npm test`).
 * Bottom to top: core → data, kernels → models → activities → workflows (plans) → runtime → worker → client.
 * Production code obeys the layer rules; tests, `testing/` helpers and benches may reach across layers
 * (they exercise the whole stack), but production code never imports them.
 */
const TEST = '(\\.test\\.ts$|/testing/|^bench/|/fixtures/)';

/** A layer rule: files under `from` (production only) may not import any of `forbidden`. */
const layer = (name, from, forbidden, comment, extra = {}) => ({
  name,
  severity: 'error',
  comment,
  from: { path: from, pathNot: TEST },
  to: { path: forbidden, ...extra },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No import cycles, lazy import() included: a stage definition never imports its compute (activities/stages.ts ' +
        'joins them). Only type-only imports, erased at run time, may close a cycle.',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    layer('core-is-the-bottom', '^core/', '^(data|kernels|models|activities|workflows|runtime|worker|client|bench)/',
      'core/ holds the shared vocabulary (errors, failure types, retry profiles): it imports nothing of the project.'),
    layer('data-below-compute', '^data/', '^(kernels|models|activities|workflows|runtime|worker|client|bench)/',
      'data/ (store, DuckDB, canonical JSON, seeded randomness) may import only core/.'),
    layer('kernels-are-leaves', '^kernels/', '^(data|models|activities|workflows|runtime|worker|client|bench)/',
      'kernels/ (tfjs kernel overrides, WebAssembly, threads for kernels) may import only core/.'),
    layer('models-below-stages', '^models/', '^(activities|workflows|runtime|worker|client|bench)/',
      'models/ (builders, fit loop, checkpoints, baselines) is a library: core/, data/ and kernels/ only.'),
    layer('activities-below-orchestration', '^activities/', '^(workflows|runtime|worker|client|bench)/',
      'Stages do not know who runs them: no imports of workflows/, runtime/, worker/ or client/.',
      // The grid activity records cells in the plan's own shapes: pure plan code (see ARCHITECTURE.md, exceptions).
      { pathNot: '^workflows/plans/grid\\.ts$' }),
    layer('workflows-pure', '^workflows/', '^(data|kernels|models|runtime|worker|client|bench)/',
      'Workflow code runs in Temporal\'s sandbox: core/ and plans only, and only types from activities/.'),
    {
      name: 'workflows-only-types-from-activities',
      severity: 'error',
      comment: 'Workflows and plans import only types from activities/ (the activities run on workers).',
      from: { path: '^workflows/', pathNot: TEST },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
    layer('runtime-below-hosts', '^runtime/', '^(workflows|worker|client|bench)/',
      'runtime/ (the activity thread pool) serves the worker and the local runner; it imports neither.'),
    layer('worker-below-client', '^worker/', '^(client|bench)/', 'The worker does not import the CLI.'),
    {
      name: 'no-test-code-in-production',
      severity: 'error',
      comment: 'Production code does not import tests, testing/ helpers, fixtures or benches (types excepted).',
      from: { pathNot: TEST },
      to: { path: TEST, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every relative import resolves to a file.',
      from: {},
      to: { couldNotResolve: true, path: '^[.]' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.ulasan|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.json'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
