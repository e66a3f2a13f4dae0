/**
 * Reusable Float64Array workspaces for hot paths that would otherwise allocate a multi-megabyte
 * array on every call. A fresh large ArrayBuffer is backed by new zero pages, and on these VMs
 * first touching them costs ~3 ms per MB: more than the arithmetic of a P = 840 sketch. One
 * buffer is kept per name (per thread: each worker has its own module instance), grown when a
 * call asks for more.
 *
 * The returned view is only valid until the next call with the same name: callers use it within
 * one function and never hand it on beyond a call that is done with it when it returns.
 */
const buffers = new Map<string, Float64Array>();

export function scratch(name: string, length: number, opts: { readonly zero?: boolean } = {}): Float64Array {
  let buf = buffers.get(name);
  if (buf === undefined || buf.length < length) {
    buf = new Float64Array(length);
    buffers.set(name, buf);
    return buf; // fresh: already zero
  }
  const view = buf.subarray(0, length);
  if (opts.zero !== false) view.fill(0);
  return view;
}
