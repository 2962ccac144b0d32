// The optim API: optimizers, their pure update rules, schedules and gradient clipping.
export * from './optimizer.js';
export * from './schedulers.js';
export type { Rule, Slots } from './rules.js';
