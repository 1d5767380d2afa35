/**
 * Layer rules of the code base (`npm run depcheck`, part of `npm test`). Arrows point down only:
 *
 *   launcher, worker, api          processes and their entry points
 *   workflows, activities          Temporal code (workflows see activities only as types)
 *   schedules, jobs, backups,      domain logic and its command-line tools (outbox: emails written,
 *   outbox                         rendered and sent once each)
 *   db                             schema, client, small query helpers
 *   lib                            process infrastructure: config, logger, Temporal connection
 *   common                         names shared by everything, workflow code included
 *
 * Plus: no import cycles (type-only imports count), and every package imported by shipped code
 * is a declared production dependency.
 * @type {import('dependency-cruiser').IConfiguration}
 */
/** The layers, top down: a folder may import its own layer's folders and those below, never above. */
const LAYERS = [
  ['launcher', 'worker', 'api'],
  ['workflows', 'activities'],
  ['schedules', 'jobs', 'backups', 'outbox'],
  ['db'],
  ['lib'],
  ['common'],
];
const SHIPPED = `^(${LAYERS.flat().join('|')})/`;

/** A rule forbidding the folders of `from` to import any of `forbidden`. */
const layer = (name, from, forbidden, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: `^(${from.join('|')})/` },
  to: { path: `^(${forbidden.join('|')})/` },
});

/** One rule per layer below the top: nothing from the layers above it. */
const LAYER_COMMENTS = {
  workflows: 'Workflows and activities are used by the worker and the API, never the other way round.',
  schedules: 'Domain folders are used by activities, services and entry points, never the other way round.',
  db: 'db/ holds the schema and small query helpers that everything above shares.',
  lib: 'lib/ is plain process infrastructure; domain logic lives in its own folder.',
  common: 'common/ is imported by workflow code, which must stay deterministic and bundle-small.',
};
const layerRules = LAYERS.slice(1).map((folders, index) =>
  layer(
    `${folders.join('-')}-below-${LAYERS[index].join('-')}`,
    folders,
    LAYERS.slice(0, index + 1).flat(),
    LAYER_COMMENTS[folders[0]],
  ),
);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle makes every file of it depend on every other: move the shared name down a layer.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    layer(
      'workflows-import-common-only',
      ['workflows'],
      LAYERS.flat().filter((folder) => !['workflows', 'activities', 'common'].includes(folder)),
      'Workflow code is replayed: it may import common/ and other workflows, nothing that does I/O.',
    ),
    {
      name: 'workflow-bundle-without-schemas',
      comment:
        'JSON Schemas (TypeBox) are for the API, activities and jobs/: common/ and workflow code stay clear of them, so they never reach the workflow bundle.',
      severity: 'error',
      from: { path: '^(workflows|common)/' },
      to: { path: '@sinclair/typebox' },
    },
    {
      name: 'workflows-see-activities-as-types',
      comment: 'Workflows call activities through proxyActivities<Activities>: a value import would bundle I/O code.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
    layer(
      'activities-do-not-import-workflows',
      ['activities'],
      ['workflows'],
      'Activities start workflows by type name (common/), never by importing workflow code.',
    ),
    layer('api-is-not-the-worker', ['api'], ['worker', 'launcher'], 'The API and the worker scale separately.'),
    layer('worker-is-not-the-api', ['worker'], ['api', 'launcher'], 'The API and the worker scale separately.'),
    {
      name: 'shipped-code-uses-production-dependencies',
      comment: 'A devDependency is missing where the system is installed without them.',
      severity: 'error',
      from: { path: SHIPPED },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'declared-dependencies-only',
      comment: 'Every package imported must be in package.json.',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'resolvable-imports-only',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|coverage|\\.data|\\.tools|bench/results)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
