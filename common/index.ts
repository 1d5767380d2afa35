// Dependency-free vocabulary shared by workflows, activities, the worker, the API and the tests.
// Nothing here may import Node built-ins, I/O libraries or TypeBox: workflow code imports it. The job
// parameters' JSON Schemas live in jobs/ (templates.ts, parameter-schemas.ts, cleanup-tables.ts).
export * from './document-status';
export * from './roles';
export * from './task-queues';
export * from './search-attributes';
export * from './document-workflow';
export * from './notifications';
export * from './system-task-definition';
export * from './system-tasks';
export * from './system-task-runs';
export * from './task-executions';
export * from './review-tasks';
export * from './backups';
export * from './scheduler-jobs';
export * from './job-template-descriptors';
export * from './failures';
export * from './time';
export * from './timed-events';
