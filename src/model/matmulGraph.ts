/**
 * A one-node ONNX graph, C = A × B for float32 n×n matrices, written as protobuf bytes without any
 * ONNX tooling: what `bench` runs in onnxruntime-node to measure the machine's matrix-product peak
 * (the same library and kernels (MLAS) the denoiser runs on), so the peak needs no PyTorch.
 *
 * The bytes are a ModelProto (onnx.proto3: ir_version 8, opset 13) with inputs "A", "B" and output
 * "C" of fixed shape [n, n]. Pure: no I/O.
 */

/** Protobuf wire types used here. */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** Bytes of a base-128 varint (non-negative integers below 2^53). */
function varint(value: number): number[] {
  if (!(Number.isInteger(value) && value >= 0)) throw new RangeError(`varint: expected a non-negative integer, found ${value}`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

const key = (field: number, wire: number): number[] => varint(field * 8 + wire);
const intField = (field: number, value: number): number[] => [...key(field, VARINT), ...varint(value)];
const bytesField = (field: number, body: readonly number[]): number[] => [...key(field, LENGTH_DELIMITED), ...varint(body.length), ...body];
const stringField = (field: number, s: string): number[] => bytesField(field, [...new TextEncoder().encode(s)]);

/** TensorProto.DataType FLOAT. */
const FLOAT = 1;

/** ValueInfoProto for a float32 tensor of the given fixed shape. */
function tensorInfo(name: string, shape: readonly number[]): number[] {
  const dims = shape.flatMap((d) => bytesField(1, intField(1, d))); // TensorShapeProto.dim { dim_value }
  const tensorType = [...intField(1, FLOAT), ...bytesField(2, dims)]; // TypeProto.Tensor { elem_type, shape }
  return [...stringField(1, name), ...bytesField(2, bytesField(1, tensorType))]; // ValueInfoProto { name, type { tensor_type } }
}

/** Binary operators the graph may hold: MatMul for the bench; the others give a graph whose product check fails (a test). */
export type MatmulGraphOp = 'MatMul' | 'Add';

/**
 * The serialised ONNX model computing C = A × B for float32 matrices of shape [n, n] (or C = A op B).
 * @throws RangeError when n is not a positive integer.
 */
export function matmulModel(n: number, op: MatmulGraphOp = 'MatMul'): Uint8Array {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`matmulModel: expected a positive integer size, found ${n}`);
  const node = [...stringField(1, 'A'), ...stringField(1, 'B'), ...stringField(2, 'C'), ...stringField(3, 'matmul'), ...stringField(4, op)];
  const graph = [
    ...bytesField(1, node),
    ...stringField(2, `matmul_${n}`),
    ...bytesField(11, tensorInfo('A', [n, n])),
    ...bytesField(11, tensorInfo('B', [n, n])),
    ...bytesField(12, tensorInfo('C', [n, n])),
  ];
  const opset = [...stringField(1, ''), ...intField(2, 13)];
  return Uint8Array.from([...intField(1, 8), ...stringField(2, 'video4spatial-nav bench'), ...bytesField(7, graph), ...bytesField(8, opset)]);
}

/** Floating-point operations of one n×n by n×n product (a multiply and an add per term). */
export function matmulFlops(n: number): number {
  return 2 * n * n * n;
}
