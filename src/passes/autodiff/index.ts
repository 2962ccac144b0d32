// The autodiff passes: reverse mode (vjpFunction), forward mode (jvpFunction), the shared VJP rules and
// the Emit interface they are written against, and the side table for custom gradients.
export * from './emit.js';
export { vjpRules } from './vjp_rules.js';
export type { VjpRule, VjpExtra } from './vjp_rules.js';
export { emitVjp, vjpFunction } from './ir_autodiff.js';
export type { VjpOptions, VjpResult } from './ir_autodiff.js';
export { emitJvp, jvpFunction } from './jvp.js';
export type { JvpResult } from './jvp.js';
export { registerCustomVjp, customVjpAt, customRuleOf } from './custom.js';
export type { CustomVjpRule } from './custom.js';
