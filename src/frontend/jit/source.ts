// Reading a JS function's own source with acorn: its parameter names (for jit's `static` by name and
// readable explainMiss messages) and its AST (for AutoGraph).
import * as acorn from 'acorn';

export type FunctionNode = acorn.FunctionDeclaration | acorn.FunctionExpression | acorn.ArrowFunctionExpression;

/**
 * Parses `fn.toString()` into a function node. Method sources (`step(x) {...}`, from class methods
 * and decorators) are not expressions, so they are retried inside an object literal.
 */
export function parseFunction(fn: (...args: any[]) => unknown): { node: FunctionNode; source: string; wrapped: string } | null {
  const source = Function.prototype.toString.call(fn);
  for (const [pre, post] of [['(', ')'], ['({', '})'], ['({ ', '})']] as const) {
    const wrapped = pre + source + post;
    try {
      const ast = acorn.parse(wrapped, { ecmaVersion: 'latest', sourceType: 'module', locations: true });
      const node = findFunction(ast);
      if (node) return { node, source, wrapped };
    } catch {
      // try the next wrapping
    }
  }
  return null;
}

function findFunction(ast: acorn.Program): FunctionNode | null {
  const stmt = ast.body[0];
  if (!stmt || stmt.type !== 'ExpressionStatement') return null;
  const e = stmt.expression;
  if (e.type === 'FunctionExpression' || e.type === 'ArrowFunctionExpression') return e;
  if (e.type === 'ObjectExpression' && e.properties[0]?.type === 'Property') {
    const v = e.properties[0].value;
    if (v.type === 'FunctionExpression' || v.type === 'ArrowFunctionExpression') return v;
  }
  return null;
}

/** Parameter names of `fn` (`arg{i}` for destructured ones, `...rest` kept as `rest`); [] when unparsable. */
export function paramNames(fn: (...args: any[]) => unknown): string[] {
  const parsed = parseFunction(fn);
  if (!parsed) return [];
  return parsed.node.params.map((p, i) => {
    const inner = p.type === 'AssignmentPattern' ? p.left : p.type === 'RestElement' ? p.argument : p;
    return inner.type === 'Identifier' ? inner.name : `arg${i}`;
  });
}
