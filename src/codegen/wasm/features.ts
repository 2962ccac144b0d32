// Engine features probed once: relaxed SIMD (f32x4.relaxed_madd, a fused multiply-add on x86 with
// FMA3 and on ARM) is in Chrome 114+ and Node 22+, behind --experimental-wasm-relaxed-simd in Node 20.

/** A module whose one function returns f32x4.relaxed_madd of three zero vectors. */
function relaxedProbe(): Uint8Array<ArrayBuffer> {
  const body = [0x00, ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]), 0xfd, 0x85, 0x02, 0x0b];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
    0x03, 0x02, 0x01, 0x00, // function 0 of type 0
    0x0a, body.length + 2, 0x01, body.length, ...body, // code
  ]);
}

/** Whether this engine validates relaxed SIMD. */
export const relaxedSimd: boolean = (() => {
  try {
    return typeof WebAssembly !== 'undefined' && WebAssembly.validate(relaxedProbe());
  } catch {
    return false;
  }
})();
