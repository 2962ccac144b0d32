// Programs the fuzzers once found wrong, kept as IR text (parsed back with parseFunction) with what
// was wrong and where it was fixed. Each runs through every mode of harness.ts, forward and backward.
export interface Regression {
  name: string;
  /** What went wrong, and the fix. */
  why: string;
  ir: string;
  /** Also check gradients (every op differentiable). */
  grad?: boolean;
  /** Compile the IR as written on each device (no pass pipeline), against the interpreter. */
  direct?: boolean;
}

export const REGRESSIONS: Regression[] = [
  {
    name: 'pad of an empty axis',
    why: 'wasm read out of bounds / wrote 0 instead of the pad value: a kernel guard over an empty range tested `index - lo <=u -1` (always true); kernel_build.ts guarded() now folds empty ranges to the else branch',
    ir: `func @pad_empty(%x: f32[3,0], %y: f32[0,5]) -> (f32[4,2], f32[3,6]) {
  %0 = pad %x {low=[0,1], high=[1,1], interior=[0,0], value=0.5} : f32[4,2]
  %1 = pad %y {low=[2,0], high=[1,1], interior=[0,0], value=-1} : f32[3,6]
  return %0, %1
}`,
    grad: true,
  },
  {
    name: 'a reduction with two outputs',
    why: 'jit on wasm stored the previous row\'s accumulator: the emitter computed all plain store values at the top of the loop body, before the init and reduction loop; wasm/emit.ts body() now computes a run of stores where it starts',
    ir: `func @reduce_two_outputs(%x: f32[3,2,1], %w: f32[1,1]) -> (f32[1,2,1], f32[1,2,1], f32[2]) {
  %0 = reduce_sum %x {axes=[0]} : f32[2,1]
  %1 = reshape %0 {shape=[1,2,1]} : f32[1,2,1]
  %2 = dot_general %1, %w {batch=[[],[]], contract=[[2],[0]]} : f32[1,2,1]
  %3 = reshape %0 {shape=[2]} : f32[2]
  %4 = neg %3 : f32[2]
  return %2, %1, %4
}`,
    grad: true,
  },
  {
    name: 'pow in a contraction epilogue',
    why: 'jit on wasm threw "pow has no vector form": canVectorize took an expression of the contraction accumulator for loop-invariant; it now counts the epilogue accumulator as varying per lane',
    ir: `func @matmul_pow(%a: f32[5,3], %b: f32[3,1], %e: f32[1]) -> (f32[5,1]) {
  %0 = dot_general %a, %b {batch=[[],[]], contract=[[1],[0]]} : f32[5,1]
  %1 = abs %0 : f32[5,1]
  %2 = constant {dtype=f32, shape=[], value=[0.5]} : f32[]
  %3 = broadcast %2 {dims=[], shape=[5,1]} : f32[5,1]
  %4 = add %1, %3 : f32[5,1]
  %5 = tanh %e : f32[1]
  %6 = broadcast %5 {dims=[1], shape=[5,1]} : f32[5,1]
  %7 = pow %4, %6 : f32[5,1]
  return %7
}`,
    grad: true,
  },
  {
    name: 'a fused kernel with nothing to write',
    why: 'jit on wasm trapped "remainder by zero": a kernel whose outputs have no elements still ran index math hoisted out of its (empty) loop, dividing by a zero-sized dimension; kernel_build.ts buildKernel now emits no loops for it',
    ir: `func @empty_kernel(%x: f32[2,0,5]) -> (f32[0], f32[2,0,5]) {
  %0 = slice %x {limit=[1,0,5], start=[0,0,0], stride=[1,1,1]} : f32[1,0,5]
  %1 = reshape %0 {shape=[0]} : f32[0]
  %2 = neg %x : f32[2,0,5]
  return %1, %2
}`,
    grad: true,
  },
  {
    name: 'a gather from a constant folded into its kernel',
    why: 'jit(grad) on wasm threw "gather reads a kernel input directly": fusion pulls splat constants into kernels, and the gather template only read tables from kernel inputs; kernel_build.ts gathers from the constant\'s buffer',
    ir: `func @gather_folded(%x: f32[3]) -> (f32[3]) {
  %0 = constant {dtype=f32, shape=[], value=[100]} : f32[]
  %1 = broadcast %0 {dims=[], shape=[3]} : f32[3]
  %2 = lt %x, %1 : bool[3]
  %3 = cast %2 {dtype=i32} : i32[3]
  %4 = constant {dtype=f32, shape=[2], value=[2.5]} : f32[2]
  %5 = gather %4, %3 {axis=0} : f32[3]
  %6 = mul %5, %x : f32[3]
  return %6
}`,
    grad: true,
  },
  {
    name: 'a fused kernel holding a constant with distinct values',
    why: 'wasm wrote the results into the constant\'s buffer (outputs read 0): outBuf(i) counted the buffers before a constant declared later, while the store was built; kernel_build.ts declares constant buffers up front. The pipeline keeps such constants outside kernels today, so this one is compiled as written',
    direct: true,
    ir: `func @fused_constant(%a: f32[3]) -> (f32[3]) {
  %0 = fusion %a {kind=elementwise} : f32[3] {
  ^(%1: f32[3]):
    %2 = constant {dtype=f32, shape=[3], value=[10, 20, 30]} : f32[3]
    %3 = add %2, %1 : f32[3]
    yield %3
  }
  return %0
}`,
  },
];
