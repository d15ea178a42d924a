/**
 * NumPy .npy (format 1.0) encoding, pure: `encodeNpy` returns the bytes numpy.load reads.
 * Little-endian, C order.
 */
export type NpyDtype = '|u1' | '<i4' | '<f4';

export interface NpyArray {
  dtype: NpyDtype;
  shape: readonly number[];
  data: Uint8Array | Int32Array | Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

export function encodeNpy(a: NpyArray): Uint8Array {
  const count = a.shape.reduce((p, q) => p * q, 1);
  if (count !== a.data.length) throw new RangeError(`npy shape ${JSON.stringify(a.shape)} holds ${count} values, data has ${a.data.length}`);
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${a.dtype}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pre = MAGIC.length + 2 + 2;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = header.padEnd(total - pre - 1, ' ') + '\n';
  const body = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Uint8Array(total + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  out.set(body, total);
  return out;
}
