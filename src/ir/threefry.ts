// Threefry-2x32 (20 rounds, Random123), the counter-based generator behind `random_bits`.
// Pure uint32 arithmetic on JS numbers, so every backend can reproduce it bit for bit.

/** Rotation constants of Threefry-2x32 (Random123, `R_32x2_*`), cycled every 8 rounds. */
const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;
/** Key-schedule parity constant: the third key word is k0 ^ k1 ^ PARITY. */
const PARITY = 0x1bd11bda;

/**
 * Encrypts the counter (x0, x1) with the key (k0, k1); all four are read as uint32 and both output
 * words are uint32 in [0, 2^32). Matches Random123's `threefry2x32_R(20, ...)`.
 */
export function threefry2x32(k0: number, k1: number, x0: number, x1: number): [number, number] {
  const ks0 = k0 >>> 0;
  const ks1 = k1 >>> 0;
  const ks2 = (PARITY ^ ks0 ^ ks1) >>> 0;
  const ks = [ks0, ks1, ks2];
  let a = ((x0 >>> 0) + ks0) >>> 0;
  let b = ((x1 >>> 0) + ks1) >>> 0;
  for (let round = 0; round < 20; round++) {
    const r = ROTATIONS[round % 8];
    a = (a + b) >>> 0;
    b = ((b << r) | (b >>> (32 - r))) >>> 0;
    b = (b ^ a) >>> 0;
    if (round % 4 === 3) {
      // Key injection s after every 4 rounds: words rotate through the schedule, plus s on word 1.
      const s = (round + 1) / 4;
      a = (a + ks[s % 3]) >>> 0;
      b = (b + ks[(s + 1) % 3] + s) >>> 0;
    }
  }
  return [a, b];
}

/**
 * `random_bits` payload: element i is word 0 of threefry2x32(key, (i, 0)), stored as int32 (`| 0`).
 * The key words are the int32 key read as uint32.
 */
export function randomBits(key0: number, key1: number, out: Int32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = threefry2x32(key0, key1, i, 0)[0] | 0;
}
