// Device-free tests of the WGSL emitter: which phase mode each kernel shape gets, input packing past
// the binding limit, helper inclusion, literals, and a golden shader. The shaders themselves run in
// the browser suite (test/browser), on SwiftShader.
import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.js';
import type { Block } from '../../src/ir/function.js';
import type { AnyAttrs, Primitive } from '../../src/ir/ops.js';
import type { TensorType } from '../../src/ir/shape.js';
import { buildKernel, primitiveBlock } from '../../src/codegen/kernel_build.js';
import { DEFAULT_LIMITS, emitKernel } from '../../src/codegen/wgsl/emit.js';
import { helpersFor } from '../../src/codegen/wgsl/scalar.js';
import { literal } from '../../src/codegen/wgsl/types.js';
import { KilnError } from '../../src/ir/error.js';

const f32 = (...shape: number[]): TensorType => ({ dtype: 'float32', shape });
const i32 = (...shape: number[]): TensorType => ({ dtype: 'int32', shape });
const one = (prim: Primitive, ins: TensorType[], attrs: AnyAttrs = {}) => emitKernel(buildKernel(prim, primitiveBlock(prim, ins, attrs)));

describe('phase modes', () => {
  it('elementwise: one invocation per element', () => {
    const k = one('add', [f32(100, 7), f32(100, 7)]);
    expect(k.phases.map((p) => [p.mode, p.threads, p.workgroups])).toEqual([['threads', 256, 3]]);
  });
  it('row reductions: one workgroup per row with a tree reduction', () => {
    const k = one('reduce_sum', [f32(10, 500)], { axes: [1] });
    expect(k.phases.map((p) => [p.mode, p.threads, p.workgroups])).toEqual([['rows', 256, 10]]);
    expect(k.phases[0].code).toContain('workgroupBarrier();');
    expect(k.phases[0].code).toContain('var<workgroup> sh_a0: array<f32, 256>;');
  });
  it('a reduction over several axes strides its whole loop nest over the workgroup', () => {
    const k = one('reduce_sum', [f32(3, 4, 500)], { axes: [0, 2] });
    expect(k.phases.map((p) => [p.mode, p.threads, p.workgroups])).toEqual([['rows', 256, 4]]);
    expect(k.phases[0].code).toContain('< 1500i; e');
  });
  it('a few long rows split: partial sums per chunk into scratch, then one workgroup per row', () => {
    const k = one('reduce_sum', [f32(2, 40000)], { axes: [1] });
    expect(k.phases.map((p) => [p.mode, p.workgroups, p.scratchWords])).toEqual([['rows', 20, 20], ['rows', 2, 20]]);
    expect(k.phases[0].bindings).toEqual([0, -1]);
    expect(k.phases[1].bindings).toEqual([1, -1]);
  });
  it('short rows stay one invocation per row', () => {
    expect(one('reduce_max', [f32(1000, 4)], { axes: [1] }).phases[0].mode).toBe('threads');
  });
  it('a full reduction is one workgroup', () => {
    const k = one('reduce_sum', [f32(5000)], { axes: [0] });
    expect(k.phases.map((p) => [p.mode, p.workgroups])).toEqual([['rows', 1]]);
  });
  it('contractions use the tiled template', () => {
    const k = one('dot_general', [f32(130, 70), f32(70, 150)], { contract: [[1], [0]], batch: [[], []] });
    expect(k.phases.map((p) => [p.mode, p.threads, p.workgroups])).toEqual([['contract', 256, 3 * 3]]);
    expect(k.phases[0].code).toContain('var<workgroup> tA: array<f32, 1024>;');
  });
  it('scatter_add: a parallel copy, then invocations over the non-index dims, each adding in order', () => {
    const k = one('scatter_add', [f32(8, 5), i32(12), f32(12, 5)], { axis: 0 });
    expect(k.phases.map((p) => [p.mode, p.workgroups])).toEqual([['threads', 1], ['threads', 1]]);
    // The update phase: one invocation per column (5), the 12 index positions in a serial loop.
    expect(k.phases[1].code).toContain('if (r >= 5i) { return; }');
    expect(k.phases[1].code).toMatch(/for \(var v_u\d+: i32 = 0i; v_u\d+ < 12i; v_u\d+\+\+\)/);
  });
});

describe('device limits', () => {
  it('packs inputs into one buffer when a kernel would bind too many', () => {
    const b = new Builder();
    const ps = Array.from({ length: 9 }, () => b.param(f32(4)));
    let acc = ps[0];
    for (const p of ps.slice(1)) acc = b.op1('add', [acc, p], {});
    const block: Block = b.block([acc]);
    const k = emitKernel(buildKernel('wide', block), { ...DEFAULT_LIMITS, maxStorageBuffers: 4 });
    const [phase] = k.phases;
    expect(phase.pack?.buffers).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(phase.pack?.offsets).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32]);
    expect(phase.bindings).toEqual([9]);
    expect(phase.code).toContain('var<storage, read> pk: array<u32>;');
    expect(phase.code).toContain('bitcast<f32>(pk[');
    expect(emitKernel(buildKernel('wide', block), { ...DEFAULT_LIMITS, maxStorageBuffers: 10 }).phases[0].pack).toBeUndefined();
  });
  it('float64 is refused with a KilnError naming webgpu', () => {
    expect(() => one('neg', [{ dtype: 'float64', shape: [2] }])).toThrow(KilnError);
    expect(() => one('neg', [{ dtype: 'float64', shape: [2] }])).toThrow(/f64 is not supported on webgpu/);
  });
});

describe('scalars', () => {
  it('literals: infinities and NaN go through runtime helpers (const inf does not compile)', () => {
    expect([Infinity, -Infinity, NaN, -0, 0.1, 3].map((v) => literal('float32', v))).toEqual(['k_inf()', '(-k_inf())', 'k_nan()', '-0.0f', '0.10000000149011612f', '3f']);
    expect(literal('int32', -2147483648)).toBe('bitcast<i32>(0x80000000u)');
    expect(literal('bool', 1)).toBe('true');
  });
  it('helpers come with their dependencies, in order', () => {
    const text = helpersFor('let x = k_powf(a, b);');
    expect(text.indexOf('fn k_isnan')).toBeLessThan(text.indexOf('fn k_powf'));
    expect(text.indexOf('fn k_inf')).toBeLessThan(text.indexOf('fn k_powf'));
    expect(text).not.toContain('k_erf');
  });
});

describe('golden shader', () => {
  it('relu(x) * y + 1 as one elementwise kernel', () => {
    const b = new Builder();
    const x = b.param(f32(6));
    const y = b.param(f32(6));
    const one1 = b.op1('broadcast', [b.constant(1, 'float32')], { shape: [6], dims: [] });
    const out = b.op1('add', [b.op1('mul', [b.op1('relu', [x], {}), y], {}), one1], {});
    expect(emitKernel(buildKernel('k', b.block([out]))).phases[0].code).toMatchInlineSnapshot(`
      "// kiln threads kernel
      @group(0) @binding(0) var<storage, read> b0: array<f32>;
      @group(0) @binding(1) var<storage, read> b1: array<f32>;
      @group(0) @binding(2) var<storage, read_write> b2: array<f32>;
      fn k_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
      @compute @workgroup_size(32)
      fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
        let wid = i32(wg.x + wg.y * nwg.x);
        let r = wid * 32i + i32(lid);
        if (r >= 6i) { return; }
        let v_i0 = r;
        let t0 = b0[v_i0];
        let t1 = select(0.0f, t0, t0 > 0.0f || k_isnan(t0));
        let t2 = b1[v_i0];
        let t3 = (t1 * t2);
        let t4 = (t3 + 1f);
        b2[v_i0] = t4;
      }"
    `);
  });
});
