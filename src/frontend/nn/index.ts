// The nn namespace: Module, layers, initializers and the scoped randomness for layers.
export * from './module.js';
export * from './layers.js';
export { withRng } from './rng.js';
export * as init from './init.js';
