// ONNX models for the onnxruntime-node peer, built in code: a protobuf writer for the few ModelProto
// fields an inference graph needs (nodes, float initializers, typed inputs/outputs, opset), so the
// bench downloads and ships no .onnx files. Field numbers are from onnx/onnx.proto.

/** Protobuf wire writer: varints, length-delimited fields, fixed32 floats. */
class Writer {
  private readonly parts: number[] = [];

  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x) byte |= 0x80;
      this.parts.push(byte);
    } while (x);
  }

  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number): this {
    this.key(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, 5);
    this.parts.push(...new Uint8Array(Float32Array.of(v).buffer));
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2);
    this.varint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: Writer): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const;

export type AttrValue = number | number[] | { float: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  /** A number is an INT attribute, an array INTS, {float} FLOAT. */
  attrs?: Record<string, AttrValue>;
}

export interface OnnxGraph {
  name: string;
  inputs: { name: string; shape: readonly number[] }[];
  outputs: { name: string; shape: readonly number[] }[];
  /** Weights baked into the model (float32). */
  initializers?: { name: string; shape: readonly number[]; data: Float32Array }[];
  nodes: OnnxNode[];
  /** Default 17. */
  opset?: number;
}

function attribute(name: string, v: AttrValue): Writer {
  const a = new Writer().string(1, name);
  if (Array.isArray(v)) {
    for (const x of v) a.int(8, x);
    return a.int(20, ATTR.INTS);
  }
  if (typeof v === 'number') return a.int(3, v).int(20, ATTR.INT);
  return a.float(2, v.float).int(20, ATTR.FLOAT);
}

function valueInfo(name: string, shape: readonly number[]): Writer {
  const dims = new Writer();
  for (const d of shape) dims.message(1, new Writer().int(1, d));
  const tensorType = new Writer().int(1, FLOAT).message(2, dims);
  return new Writer().string(1, name).message(2, new Writer().message(1, tensorType));
}

function tensorProto(name: string, shape: readonly number[], data: Float32Array): Writer {
  const t = new Writer();
  for (const d of shape) t.int(1, d);
  t.int(2, FLOAT).string(8, name);
  // raw_data is little-endian float32, which is what a Float32Array holds on every platform Node runs on.
  return t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** Serialized ModelProto bytes, ready for `InferenceSession.create(bytes)`. */
export function onnxModel(g: OnnxGraph): Uint8Array {
  const graph = new Writer();
  g.nodes.forEach((n, i) => {
    const node = new Writer();
    for (const x of n.inputs) node.string(1, x);
    for (const x of n.outputs) node.string(2, x);
    node.string(3, `${n.op.toLowerCase()}_${i}`).string(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) node.message(5, attribute(k, v));
    graph.message(1, node);
  });
  graph.string(2, g.name);
  for (const t of g.initializers ?? []) graph.message(5, tensorProto(t.name, t.shape, t.data));
  for (const x of g.inputs) graph.message(11, valueInfo(x.name, x.shape));
  for (const x of g.outputs) graph.message(12, valueInfo(x.name, x.shape));
  return new Writer()
    .int(1, 8) // ir_version 8 (onnx 1.10+), which opset 17 needs at least
    .string(2, 'kiln-bench')
    .message(7, graph)
    .message(8, new Writer().string(1, '').int(2, g.opset ?? 17))
    .finish();
}
