// WGSL text for the pieces of a kernel description: index expressions, scalar expressions (a DAG:
// a node used twice becomes one `let`, visible in the scope that made it), accumulators and the
// serial statements (loops, stores, updates). emit.ts decides how threads share the statements.
import type { AccDecl, Expr, Index, IndexCond, Kernel, Stmt } from '../kernel.js';
import { combineIdentity } from '../kernel_build.js';
import { KilnError } from '../../ir/error.js';
import { binaryCode, castCode, unaryCode } from './scalar.js';
import type { GpuDType } from './types.js';
import { STORAGE_TYPE, fromStorage, gpuDType, literal, toStorage } from './types.js';

export const varName = (v: string): string => `v_${v}`;
export const bufName = (i: number): string => `b${i}`;

/** Where a kernel buffer lives in a shader: its own binding, or a slice of the packed input buffer. */
export type BufferPlace = { kind: 'own' } | { kind: 'packed'; offset: number };

/** Accumulators are held as f32 or i32 (bool as 0/1 in i32, so max/min/compare work). */
const accType = (d: GpuDType): 'f32' | 'i32' => (d === 'float32' ? 'f32' : 'i32');
const accLiteral = (d: GpuDType, v: number): string => literal(d === 'float32' ? 'float32' : 'int32', v);

export class ShaderWriter {
  readonly lines: string[] = [];
  private pad = '  ';
  private readonly scopes: Map<Expr, string>[] = [new Map()];
  private n = 0;
  /** Buffers this shader reads or writes. */
  readonly used = new Set<number>();
  /** Accumulator names whose value reads are redirected (the contraction's register block). */
  readonly accOverride = new Map<string, string>();

  constructor(
    readonly kernel: Kernel,
    private readonly place: (buf: number) => BufferPlace = () => ({ kind: 'own' }),
  ) {}

  line(s: string): void {
    this.lines.push(this.pad + s);
  }
  open(header: string): void {
    this.line(`${header} {`);
    this.pad += '  ';
    this.scopes.push(new Map());
  }
  close(): void {
    this.scopes.pop();
    this.pad = this.pad.slice(2);
    this.line('}');
  }
  fresh(prefix: string): string {
    return `${prefix}${this.n++}`;
  }

  // ---- indices -----------------------------------------------------------------------------------

  index(ix: Index): string {
    const parts: string[] = [];
    for (const t of ix.terms) {
      const a = t.atom;
      const s = 'var' in a ? varName(a.var) : 'div' in a ? `(${this.index(a.div)} / ${a.by}i)` : `(${this.index(a.mod)} % ${a.by}i)`;
      parts.push(t.coeff === 1 ? s : `${t.coeff}i * ${s}`);
    }
    if (ix.offset !== 0 || parts.length === 0) parts.push(`${ix.offset}i`);
    return parts.length === 1 ? parts[0] : `(${parts.join(' + ')})`;
  }

  cond(c: IndexCond): string {
    const x = this.index(c.index);
    const parts = [`${x} >= ${c.lo}i`, `${x} <= ${c.hi}i`];
    if (c.step !== 1) parts.push(`(${x} - ${c.lo}i) % ${c.step}i == 0i`);
    return parts.join(' && ');
  }

  // ---- buffers -----------------------------------------------------------------------------------

  private dtypeOf(buf: number): GpuDType {
    return gpuDType(this.kernel.name, this.kernel.buffers[buf].dtype);
  }

  /** The storage element of `buf` at `at` (WGSL lvalue for own buffers). */
  element(buf: number, at: string): string {
    this.used.add(buf);
    const p = this.place(buf);
    if (p.kind === 'own') return `${bufName(buf)}[${at}]`;
    const word = `pk[${p.offset}i + ${at}]`;
    const st = STORAGE_TYPE[this.dtypeOf(buf)];
    return st === 'u32' ? word : `bitcast<${st}>(${word})`;
  }

  /** A word of the kernel's scratch buffer (split reductions). */
  scratch(at: string): string {
    return `scr[${at}]`;
  }

  load(buf: number, at: string): string {
    return fromStorage(this.dtypeOf(buf), this.element(buf, at));
  }

  // ---- expressions -------------------------------------------------------------------------------

  private cached(e: Expr): string | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const hit = this.scopes[i].get(e);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Binds `text` to a fresh `let` in the current scope, remembered for node `e`. */
  private bind(e: Expr, text: string): string {
    const name = this.fresh('t');
    this.line(`let ${name} = ${text};`);
    this.scopes[this.scopes.length - 1].set(e, name);
    return name;
  }

  expr(e: Expr): string {
    if (e.op === 'const') return literal(gpuDType(this.kernel.name, e.dtype), e.value);
    if (e.op === 'acc') return this.accValue(e.name, gpuDType(this.kernel.name, e.dtype));
    const hit = this.cached(e);
    if (hit) return hit;
    return this.bind(e, this.exprText(e));
  }

  private exprText(e: Expr): string {
    const d = (x: Expr) => gpuDType(this.kernel.name, x.dtype);
    switch (e.op) {
      case 'load': {
        const at = this.index(e.index);
        if (!e.dynamic) return this.load(e.buf, at);
        // Indices outside [0, size) read a zero (a shader cannot throw; the reference interpreter does).
        const { dyn, ok } = this.dynamic(e.dynamic.value, e.dynamic.size);
        return `select(${literal(d(e), 0)}, ${this.load(e.buf, `${at} + ${dyn} * ${e.dynamic.scale}i`)}, ${ok})`;
      }
      case 'index': return castCode('int32', d(e), this.index(e.index));
      case 'unary': return unaryCode(e.fn, d(e.x), this.expr(e.x));
      case 'binary': return binaryCode(e.fn, d(e.a), this.expr(e.a), this.expr(e.b));
      case 'select': return `select(${this.expr(e.b)}, ${this.expr(e.a)}, ${this.expr(e.pred)})`;
      case 'cast': return castCode(d(e.x), d(e), this.expr(e.x));
      case 'guard': {
        // Both sides are evaluated (WGSL clamps out-of-bounds reads, so an unused side is harmless).
        const c = e.conds.map((x) => this.cond(x)).join(' && ');
        return `select(${this.expr(e.else)}, ${this.expr(e.then)}, ${c})`;
      }
      case 'threefry':
        return `bitcast<i32>(k_threefry(bitcast<u32>(${this.expr(e.key0)}), bitcast<u32>(${this.expr(e.key1)}), u32(${this.index(e.counter)})))`;
      default:
        throw new KilnError(`internal: webgpu: unexpected expression ${e.op}`);
    }
  }

  /** A dynamic index value and its range check. */
  dynamic(value: Expr, size: number): { dyn: string; ok: string } {
    const dyn = this.expr(value);
    return { dyn, ok: `(${dyn} >= 0i && ${dyn} < ${size}i)` };
  }

  // ---- accumulators ------------------------------------------------------------------------------

  acc(name: string): AccDecl {
    const a = this.kernel.accs.find((x) => x.name === name);
    if (!a) throw new KilnError(`internal: webgpu: unknown accumulator ${name}`);
    return a;
  }

  /** Declarations of every accumulator (function scope). */
  declareAccs(): void {
    for (const a of this.kernel.accs) {
      const d = gpuDType(this.kernel.name, a.dtype);
      this.line(`var ${a.name}: ${accType(d)} = ${accLiteral(d, combineIdentity(a.combine, a.dtype))};`);
      if (a.combine === 'argmax' || a.combine === 'argmin') this.line(`var ${a.name}_i: i32 = 0i;`);
    }
  }

  private accValue(name: string, dtype: GpuDType): string {
    const o = this.accOverride.get(name);
    if (o) return o;
    const a = this.acc(name);
    if (a.combine === 'argmax' || a.combine === 'argmin') return `${name}_i`;
    return dtype === 'bool' ? `(${name} != 0i)` : name;
  }

  init(name: string): void {
    const a = this.acc(name);
    const d = gpuDType(this.kernel.name, a.dtype);
    this.line(`${name} = ${accLiteral(d, combineIdentity(a.combine, a.dtype))};`);
    if (a.combine === 'argmax' || a.combine === 'argmin') this.line(`${name}_i = 0i;`);
  }

  /** `into = combine(into, v)`; for argmax/argmin also the index (`vi` into `intoI`). */
  combineInto(a: AccDecl, into: string, v: string, intoI?: string, vi?: string): void {
    const d = gpuDType(this.kernel.name, a.dtype);
    const f = d === 'float32';
    switch (a.combine) {
      case 'sum': this.line(`${into} = ${into} + ${v};`); return;
      case 'prod': this.line(`${into} = ${into} * ${v};`); return;
      case 'max': this.line(`${into} = ${f ? 'k_maxf' : 'max'}(${into}, ${v});`); return;
      case 'min': this.line(`${into} = ${f ? 'k_minf' : 'min'}(${into}, ${v});`); return;
      case 'argmax':
      case 'argmin': {
        // The first index of the extreme; a NaN is the extreme (first NaN wins).
        const gt = a.combine === 'argmax' ? '>' : '<';
        const normal = `${v} ${gt} ${into} || (${v} == ${into} && ${vi} < ${intoI})`;
        const vn = `k_isnan(${v})`;
        const an = `k_isnan(${into})`;
        const better = f ? `select(select(select(${normal}, false, ${an}), true, ${vn}), ${vi} < ${intoI}, ${vn} && ${an})` : normal;
        this.open(`if (${better})`);
        this.line(`${into} = ${v};`);
        this.line(`${intoI} = ${vi};`);
        this.close();
        return;
      }
    }
  }

  update(s: Extract<Stmt, { op: 'update' }>): void {
    const a = this.acc(s.acc);
    const d = gpuDType(this.kernel.name, a.dtype);
    let v = this.expr(s.value);
    if (d === 'bool') v = `i32(${v})`;
    const arg = a.combine === 'argmax' || a.combine === 'argmin';
    this.combineInto(a, a.name, v, arg ? `${a.name}_i` : undefined, arg ? (s.at ? this.index(s.at) : '0i') : undefined);
  }

  // ---- statements (serial) -----------------------------------------------------------------------

  store(s: Extract<Stmt, { op: 'store' }>): void {
    const d = this.dtypeOf(s.buf);
    const v = this.expr(s.value);
    let at = this.index(s.index);
    let guard: string | undefined;
    if (s.dynamic) {
      // Out-of-range scatter indices drop the update (see dynamic loads).
      const { dyn, ok } = this.dynamic(s.dynamic.value, s.dynamic.size);
      at = `${at} + ${dyn} * ${s.dynamic.scale}i`;
      guard = ok;
    }
    if (guard) this.open(`if ${guard}`);
    const el = this.element(s.buf, at);
    if (s.combine === 'sum') {
      const old = fromStorage(d, el);
      this.line(`${el} = ${toStorage(d, d === 'bool' ? `(${old} || ${v})` : `(${old} + ${v})`)};`);
    } else {
      this.line(`${el} = ${toStorage(d, v)};`);
    }
    if (guard) this.close();
  }

  loop(s: Extract<Stmt, { op: 'loop' }>, body: () => void): void {
    const v = varName(s.var);
    this.open(`for (var ${v}: i32 = 0i; ${v} < ${s.extent}i; ${v}++)`);
    body();
    this.close();
  }

  /** Runs statements one after another in this invocation. */
  serial(stmts: readonly Stmt[]): void {
    for (const s of stmts) {
      switch (s.op) {
        case 'loop': this.loop(s, () => this.serial(s.body)); break;
        case 'store': this.store(s); break;
        case 'init': this.init(s.acc); break;
        case 'update': this.update(s); break;
        case 'contract': throw new KilnError('internal: webgpu: a contraction nested in other statements');
      }
    }
  }
}

/** `var<storage>` declarations for the buffers a shader uses, in binding order; packed inputs first. */
export function declareBuffers(kernel: Kernel, used: ReadonlySet<number>, packed: boolean): { decls: string[]; bindings: number[] } {
  const decls: string[] = [];
  const bindings: number[] = [];
  if (packed) decls.push(`@group(0) @binding(0) var<storage, read> pk: array<u32>;`);
  for (const i of [...used].sort((a, b) => a - b)) {
    const b = kernel.buffers[i];
    if (packed && b.role !== 'output') continue;
    const access = b.role === 'output' ? 'read_write' : 'read';
    const st = STORAGE_TYPE[gpuDType(kernel.name, b.dtype)];
    decls.push(`@group(0) @binding(${decls.length}) var<storage, ${access}> ${bufName(i)}: array<${st}>;`);
    bindings.push(i);
  }
  return { decls, bindings };
}

