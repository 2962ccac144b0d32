// Autograd's public surface: the tape (backward, noGrad), functional transforms, custom gradients,
// gradient checking, and the IR passes they are built on (for users of makeIR).
import './methods.js';

export { backward, gradients, zeroGrad } from './backward.js';
export type { BackwardOptions } from './backward.js';
export { noGrad, enableGrad, isGradEnabled } from './tape.js';
export { grad, valueAndGrad, vjp, jvp, jacobian, hessian } from './functional.js';
export type { GradOptions } from './functional.js';
export { customVjp, CustomFunction, FunctionContext, stopGradient } from './custom.js';
export { checkGrad } from './check.js';
export type { CheckGradOptions, CheckGradResult } from './check.js';
export { vjpFunction, jvpFunction } from '../../passes/autodiff/index.js';
