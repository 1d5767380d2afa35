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
const SHIPPED = '^(common|lib|db|schedules|jobs|backups|outbox|activities|workflows|api|worker|launcher)/';
const DOMAIN = '^(schedules|jobs|backups|outbox)/';

/** A rule forbidding `from` to import any of the listed folders. */
const layer = (name, from, forbidden, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: `^(${forbidden.join('|')})/` },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle makes every file of it depend on every other: move the shared name down a layer.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    layer(
      'common-imports-only-common',
      '^common/',
      ['lib', 'db', 'schedules', 'jobs', 'backups', 'outbox', 'activities', 'workflows', 'api', 'worker', 'launcher'],
      'common/ is imported by workflow code, which must stay deterministic and bundle-small.',
    ),
    layer(
      'lib-is-infrastructure',
      '^lib/',
      ['db', 'schedules', 'jobs', 'backups', 'outbox', 'activities', 'workflows', 'api', 'worker', 'launcher'],
      'lib/ is plain process infrastructure; domain logic lives in its own folder.',
    ),
    layer(
      'db-below-domain',
      '^db/',
      ['schedules', 'jobs', 'backups', 'outbox', 'activities', 'workflows', 'api', 'worker', 'launcher'],
      'db/ holds the schema and small query helpers that everything above shares.',
    ),
    layer(
      'domain-below-temporal-code',
      DOMAIN,
      ['activities', 'workflows', 'api', 'worker', 'launcher'],
      'Domain folders are used by activities, services and entry points, never the other way round.',
    ),
    layer(
      'workflows-import-common-only',
      '^workflows/',
      ['lib', 'db', 'schedules', 'jobs', 'backups', 'outbox', 'api', 'worker', 'launcher'],
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
      'activities-below-processes',
      '^activities/',
      ['workflows', 'api', 'worker', 'launcher'],
      'Activities are called by workflows and built by the worker; they start workflows by type name.',
    ),
    layer('api-is-not-the-worker', '^api/', ['worker', 'launcher'], 'The API and the worker scale separately.'),
    layer('worker-is-not-the-api', '^worker/', ['api', 'launcher'], 'The API and the worker scale separately.'),
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
