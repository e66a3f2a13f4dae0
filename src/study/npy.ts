/**
 * NumPy's .npy format (version 1.0), written by hand: npm has readers of it (npyjs) but no
 * maintained writer, and the format is a fixed magic string, a Python-literal header padded to 64
 * bytes, and the raw little-endian values. `numpy.load` reads these files with no other package.
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import os from 'node:os';

export type NpyArray = Float64Array | Int32Array;

/** The bytes of a .npy file holding `data` with the given C-order shape. */
export function npyBytes(data: NpyArray, shape: readonly number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`npy: shape (${shape.join(', ')}) holds ${count} values, the array has ${data.length}`);
  const descr = data instanceof Float64Array ? '<f8' : '<i4';
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  // magic (6) + version (2) + header length (2) + header + '\n', a multiple of 64.
  const pad = (64 - ((10 + header.length + 1) % 64)) % 64;
  header = `${header}${' '.repeat(pad)}\n`;
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const values = os.endianness() === 'LE' ? body : swapped(body, data.BYTES_PER_ELEMENT);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), values]);
}

function swapped(b: Buffer, width: number): Buffer {
  const out = Buffer.from(b);
  if (width === 8) out.swap64(); else out.swap32();
  return out;
}
