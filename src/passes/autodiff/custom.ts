// Custom gradients in the IR: a side table keyed by SSA values. Under tracing, customVjp records its
// forward ops normally, then marks each output with an identity reshape (a fresh value only the
// custom rule defines) and registers the traced bwd here. The IR pass, reaching the last marker in
// its reverse walk, inlines bwd instead of differentiating the forward ops. stopGradient registers a
// marker with no bwd: nothing flows through it.
//
// The table holds the values of the Function as traced; a pass that rewrites values before autodiff
// drops the custom rules (grad/vjp call the pass right after tracing, so they always see them).
// Forward mode (jvp) differentiates the forward ops and ignores custom rules.
import type { Function, Value } from '../../ir/function.js';

export interface CustomVjpRule {
  /** The marker values (the custom function's outputs), in order. */
  readonly outputs: readonly Value[];
  /** The values cotangents flow to, one per bwd result. */
  readonly inputs: readonly Value[];
  readonly residuals: readonly Value[];
  /** Extra trailing arguments of bwd (values it closed over). */
  readonly captured: readonly Value[];
  /** (residuals..., one cotangent per output..., captured...) -> one cotangent per input; null: no gradient. */
  readonly bwd: Function | null;
}

const byLastOutput = new WeakMap<Value, CustomVjpRule>();
const byOutput = new WeakMap<Value, CustomVjpRule>();

export function registerCustomVjp(rule: CustomVjpRule): void {
  if (rule.outputs.length === 0) return;
  byLastOutput.set(rule.outputs[rule.outputs.length - 1], rule);
  for (const v of rule.outputs) byOutput.set(v, rule);
}

/** The rule whose last output is `v` (where the reverse walk fires it). */
export function customVjpAt(v: Value): CustomVjpRule | undefined {
  return byLastOutput.get(v);
}

/** The rule `v` is an output of (its marker op is not differentiated), if any. */
export function customRuleOf(v: Value): CustomVjpRule | undefined {
  return byOutput.get(v);
}
