// The ir layer's public surface: types, the op table, SSA values, the builder, the text format and the verifier.
export * from './dtype.js';
export * from './shape.js';
export * from './error.js';
export * from './ops.js';
export * from './function.js';
export * from './builder.js';
export * from './array.js';
export * from './printer.js';
export * from './parser.js';
export * from './verify.js';
export * from './interpret.js';
