/** The hand-written ONNX MatMul graph: its bytes, and onnxruntime-node computing the product with it. */
import { strict as assert } from 'node:assert';
import { matmulFlops, matmulModel } from '../../src/model/matmulGraph.js';
import { measureOrtMatmul } from '../../src/model/OnnxImaginationModel.js';
import { InferenceError } from '../../src/core/errors.js';

describe('matmulGraph', () => {
  it('writes a ModelProto: ir_version 8 first, opset 13 of the default domain last', () => {
    const b = matmulModel(3);
    assert.deepEqual([...b.subarray(0, 2)], [0x08, 0x08]); // field 1 (varint) = 8
    assert.deepEqual([...b.subarray(b.length - 6)], [0x42, 0x04, 0x0a, 0x00, 0x10, 0x0d]); // field 8 { domain "", version 13 }
    const text = new TextDecoder().decode(b);
    assert.ok(text.includes('MatMul') && text.includes('matmul_3'), 'names the operator and the graph');
  });

  it('encodes sizes of several varint bytes (n = 300 → dim 0xac 0x02)', () => {
    const b = [...matmulModel(300)];
    const at = b.findIndex((x, i) => x === 0x08 && b[i + 1] === 0xac && b[i + 2] === 0x02);
    assert.ok(at > 0, 'dim_value 300 as a two-byte varint');
  });

  it('rejects a size that is not a positive integer, quoting it', () => {
    for (const n of [0, -2, 1.5, Number.NaN]) assert.throws(() => matmulModel(n), (e: unknown) => e instanceof RangeError && e.message.includes(String(n)));
  });

  it('counts 2n³ operations', () => {
    assert.equal(matmulFlops(10), 2000);
  });

  it('runs in onnxruntime-node and times a product', async () => {
    const t = await measureOrtMatmul({ n: 64, threads: 1, reps: 3 });
    assert.equal(t.n, 64);
    assert.ok(t.ms > 0 && Number.isFinite(t.gflops) && t.gflops > 0, `timing ${JSON.stringify(t)}`);
  });

  it('refuses to time a graph that does not compute the product (matmul_check)', async () => {
    await assert.rejects(
      measureOrtMatmul({ n: 16, threads: 1, reps: 1, op: 'Add' }),
      (e: unknown) => e instanceof InferenceError && e.code === 'matmul_check' && /expected C\[0,0\] = .*, found /.test(e.message),
    );
  });
});
