// The nn namespace: Module, layers, initializers and the scoped randomness for layers.
export * from './module.js';
export * from './layers.js';
export { withRng } from './rng.js';
export * as init from './init.js';
export { SpecNet, checkNetSpec, moduleToSpec, LAYER_TYPES } from './spec.js';
export type { NetSpec, LayerSpec } from './spec.js';
export * from './rnn.js';
export * from './attention.js';

import * as layers from './layers.js';
import * as rnn from './rnn.js';
import * as attention from './attention.js';
import { SpecNet } from './spec.js';
import { markBuiltin } from './builtin.js';
markBuiltin(...Object.values(layers), ...Object.values(rnn), ...Object.values(attention), SpecNet);
