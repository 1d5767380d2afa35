// Dependency-free vocabulary shared by workflows, activities, the worker, the API and the tests.
// Nothing here may import Node built-ins or I/O libraries: workflow code imports it.
export * from './document-status';
export * from './roles';
export * from './task-queues';
export * from './search-attributes';
export * from './document-workflow';
export * from './notifications';
export * from './system-tasks';
export * from './backups';
export * from './scheduler-jobs';
export * from './failures';
export * from './time';
