// Loads binaryen (a ~10 MB wasm build; about half a second) for the compiling half of the wasm
// backend. Only modules that build kernels import this file: the runtime that runs compiled
// executables (memory, launch plans, artifacts) never does.
import type binaryenModule from 'binaryen';

export type Binaryen = typeof binaryenModule;
export type Module = InstanceType<Binaryen['Module']>;
/** A binaryen ExpressionRef. */
export type E = number;

// The package initializes asynchronously (top-level await inside it), so the import is awaited once
// here; eager kernels are then compiled synchronously.
const binaryen: Binaryen = (await import('binaryen')).default;
export default binaryen;
