// Every workflow the worker registers. Bundled by the worker (webpack): deterministic code only,
// activities seen as types.
export * from './connectivity-check';
export * from './document-lifecycle';
export * from './review-timers';
export * from './notifications';
export * from './system-task';
export * from './backup';
export * from './restore';
export * from './scheduler-job';
