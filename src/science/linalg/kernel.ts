/**
 * The inner pass of the Householder reduction (eigen.ts), fused: each step's rank-2 update of the
 * trailing block with the next step's matrix-vector product, in one pass over the packed lower
 * triangle. Runs in WebAssembly SIMD (kernels/fused.wat, f64x2; about 1.7x the best plain-JS loop)
 * with `fusedBlocks2` and `fusedBlocks4` as its operation-for-operation JavaScript references:
 * both give the same bits, so results do not depend on which one ran. The kernel's memory
 * (packed matrix and work vectors) grows to the largest matrix seen and is kept for reuse.
 */
import { WASM_BASE64 } from './kernels/fused.wasm.js';

/** The WebAssembly SIMD kernel (kernels/fused.wat), or null where WebAssembly SIMD is missing. */
export interface WasmKernel {
  readonly memory: WebAssembly.Memory;
  readonly fused4: (t: number, m: number, u: number, q: number, v: number, p: number) => number;
  readonly fused2: (t: number, m: number, u: number, q: number, v: number, p: number) => number;
}
let wasmKernel: WasmKernel | null | undefined;

export function loadWasm(): WasmKernel | null {
  if (wasmKernel !== undefined) return wasmKernel;
  try {
    const bytes = Buffer.from(WASM_BASE64, 'base64');
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    const ex = instance.exports as unknown as WasmKernel;
    wasmKernel = { memory: ex.memory, fused4: ex.fused4, fused2: ex.fused2 };
  } catch {
    wasmKernel = null;
  }
  return wasmKernel;
}

/** True when the WebAssembly SIMD kernel is available (else the JS reference runs). */
export function wasmKernelAvailable(): boolean {
  return loadWasm() !== null;
}

/** Packed matrix and the four work vectors, placed in the kernel's memory (grown as needed). */
export interface Workspace {
  readonly t: Float64Array;
  readonly vecs: [Float64Array, Float64Array, Float64Array, Float64Array];
  readonly fused: FusedBlocks;
}

/** Runs the row blocks of the fused pass; returns the first row left for the scalar tail. */
export type FusedBlocks = (t: Float64Array, m: number, u: Float64Array, q: Float64Array, v: Float64Array, p: Float64Array) => number;

/**
 * Passes over at least this many rows take four rows per block, smaller ones two (see
 * kernels/fused.wat: measured crossover of the two kernels on this machine, ~1,600 rows).
 */
export const FOUR_ROW_BLOCKS_FROM = 1600;

/** The JavaScript reference pass: the same choice of block as the WebAssembly kernel. */
export function jsBlocks(fourFrom: number): FusedBlocks {
  return (t, m, u, q, v, p) => (m >= fourFrom ? fusedBlocks4 : fusedBlocks2)(t, m, u, q, v, p);
}

export function wasmWorkspace(k: WasmKernel, n: number, packedLen: number, fourFrom: number): Workspace {
  const bytes = 8 * (packedLen + 4 * n) + 64;
  const have = k.memory.buffer.byteLength;
  if (bytes > have) k.memory.grow(Math.ceil((bytes - have) / 65536));
  const buf = k.memory.buffer;
  const t = new Float64Array(buf, 0, packedLen);
  const vecs = [0, 1, 2, 3].map((i) => new Float64Array(buf, 8 * (packedLen + i * n), n)) as Workspace['vecs'];
  const fused: FusedBlocks = (tt, m, u, q, v, p) =>
    (m >= fourFrom ? k.fused4 : k.fused2)(tt.byteOffset, m, u.byteOffset, q.byteOffset, v.byteOffset, p.byteOffset);
  return { t, vecs, fused };
}

/**
 * The fused pass. For rows j = 0..m of the packed block: A[j][k] -= u_j q_k + q_j u_k
 * (k <= j), then p += A v with the updated entries (p pre-zeroed). Rows go two or four at a
 * time through `blocks` (the WebAssembly SIMD kernels, or fusedBlocks4 / fusedBlocks2 below),
 * then one at a time.
 */
export function fusedUpdateMatvec(
  t: Float64Array, m: number, u: Float64Array, q: Float64Array, v: Float64Array, p: Float64Array, blocks: FusedBlocks,
): void {
  let j = blocks(t, m, u, q, v, p);
  let off = (j * (j + 1)) / 2;
  // Remaining rows one at a time.
  for (; j <= m; j++) off = updateRow(t, off, j, 0, u, q, v, p);
}

/**
 * Row j of the packed block (at offset off), columns c0..j: A[j][c] -= u_j q_c + q_j u_c, then
 * p[c] += A[j][c] v_j for c < j and p[j] += (sum of A[j][c] v_c) + A[j][j] v_j. The scalar part
 * of every pass: whole rows after the blocks, and each block's corner (c0 = j of the block), in
 * the order kernels/fused.wat performs it. Returns the offset of row j + 1.
 */
function updateRow(t: Float64Array, off: number, j: number, c0: number, u: Float64Array, q: Float64Array, v: Float64Array, p: Float64Array): number {
  const uj = u[j], qj = q[j], vj = v[j];
  let s = 0;
  for (let c = c0; c < j; c++) {
    const a = t[off + c] - uj * q[c] - qj * u[c];
    t[off + c] = a;
    s += a * v[c];
    p[c] += a * vj;
  }
  const djj = t[off + j] - 2 * uj * qj;
  t[off + j] = djj;
  p[j] += s + djj * vj;
  return off + j + 1;
}

/**
 * The reference of kernels/fused.wat's fused4, operation for operation: rows j..j+3 while j + 3 <= m;
 * columns k < j in pairs whose two lanes accumulate separately (lane 0 even k, lane 1 odd k, an
 * odd last column joining lane 0), then the 4 x 4 corner row by row. Four rows share each load
 * of u, q, v, p. Returns the first row not processed.
 */
export function fusedBlocks4(t: Float64Array, m: number, u: Float64Array, q: Float64Array, v: Float64Array, p: Float64Array): number {
  let j = 0;
  let off = 0;
  for (; j + 3 <= m; j += 4) {
    const o0 = off, o1 = o0 + j + 1, o2 = o1 + j + 2, o3 = o2 + j + 3;
    const u0 = u[j], q0 = q[j], v0 = v[j];
    const u1 = u[j + 1], q1 = q[j + 1], v1 = v[j + 1];
    const u2 = u[j + 2], q2 = q[j + 2], v2 = v[j + 2];
    const u3 = u[j + 3], q3 = q[j + 3], v3 = v[j + 3];
    let e0 = 0, e1 = 0, e2 = 0, e3 = 0; // lane 0: even k
    let d0 = 0, d1 = 0, d2 = 0, d3 = 0; // lane 1: odd k
    let k = 0;
    for (; k + 1 < j; k += 2) {
      for (let lane = 0; lane < 2; lane++) {
        const kk = k + lane;
        const uk = u[kk], qk = q[kk], vk = v[kk];
        const a0 = t[o0 + kk] - u0 * qk - q0 * uk; t[o0 + kk] = a0;
        const a1 = t[o1 + kk] - u1 * qk - q1 * uk; t[o1 + kk] = a1;
        const a2 = t[o2 + kk] - u2 * qk - q2 * uk; t[o2 + kk] = a2;
        const a3 = t[o3 + kk] - u3 * qk - q3 * uk; t[o3 + kk] = a3;
        if (lane === 0) { e0 += a0 * vk; e1 += a1 * vk; e2 += a2 * vk; e3 += a3 * vk; }
        else { d0 += a0 * vk; d1 += a1 * vk; d2 += a2 * vk; d3 += a3 * vk; }
        p[kk] += (a0 * v0 + a1 * v1) + (a2 * v2 + a3 * v3);
      }
    }
    if (k < j) {
      const uk = u[k], qk = q[k], vk = v[k];
      const a0 = t[o0 + k] - u0 * qk - q0 * uk; t[o0 + k] = a0;
      const a1 = t[o1 + k] - u1 * qk - q1 * uk; t[o1 + k] = a1;
      const a2 = t[o2 + k] - u2 * qk - q2 * uk; t[o2 + k] = a2;
      const a3 = t[o3 + k] - u3 * qk - q3 * uk; t[o3 + k] = a3;
      e0 += a0 * vk; e1 += a1 * vk; e2 += a2 * vk; e3 += a3 * vk;
      p[k] += (a0 * v0 + a1 * v1) + (a2 * v2 + a3 * v3);
    }
    p[j] += e0 + d0;
    p[j + 1] += e1 + d1;
    p[j + 2] += e2 + d2;
    p[j + 3] += e3 + d3;
    // The 4 x 4 lower triangle in columns j..j+3, row by row.
    for (let r = 0; r < 4; r++) off = updateRow(t, off, j + r, j, u, q, v, p);
  }
  return j;
}

/**
 * The reference of kernels/fused.wat's fused2, operation for operation: rows j, j+1 while j + 1 <= m;
 * columns k < j in pairs whose two lanes accumulate separately (lane 0 even k, lane 1 odd k, an
 * odd last column joining lane 0), then the 2 x 2 corner row by row. Both rows share each load
 * of u, q, v, p. Returns the first row not processed.
 */
export function fusedBlocks2(t: Float64Array, m: number, u: Float64Array, q: Float64Array, v: Float64Array, p: Float64Array): number {
  let j = 0;
  let off = 0;
  for (; j + 1 <= m; j += 2) {
    const o0 = off, o1 = o0 + j + 1;
    const u0 = u[j], q0 = q[j], v0 = v[j];
    const u1 = u[j + 1], q1 = q[j + 1], v1 = v[j + 1];
    let e0 = 0, e1 = 0; // lane 0: even k
    let d0 = 0, d1 = 0; // lane 1: odd k
    let k = 0;
    for (; k + 1 < j; k += 2) {
      for (let lane = 0; lane < 2; lane++) {
        const kk = k + lane;
        const uk = u[kk], qk = q[kk], vk = v[kk];
        const a0 = t[o0 + kk] - u0 * qk - q0 * uk; t[o0 + kk] = a0;
        const a1 = t[o1 + kk] - u1 * qk - q1 * uk; t[o1 + kk] = a1;
        if (lane === 0) { e0 += a0 * vk; e1 += a1 * vk; }
        else { d0 += a0 * vk; d1 += a1 * vk; }
        p[kk] += a0 * v0 + a1 * v1;
      }
    }
    if (k < j) {
      const uk = u[k], qk = q[k], vk = v[k];
      const a0 = t[o0 + k] - u0 * qk - q0 * uk; t[o0 + k] = a0;
      const a1 = t[o1 + k] - u1 * qk - q1 * uk; t[o1 + k] = a1;
      e0 += a0 * vk; e1 += a1 * vk;
      p[k] += a0 * v0 + a1 * v1;
    }
    p[j] += e0 + d0;
    p[j + 1] += e1 + d1;
    // The 2 x 2 lower triangle in columns j..j+1, row by row.
    for (let r = 0; r < 2; r++) off = updateRow(t, off, j + r, j, u, q, v, p);
  }
  return j;
}

