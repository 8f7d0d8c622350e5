/** A source of uniform numbers in [0, 1), with the shape of `Math.random`. */
export type RandomSource = () => number;

/**
 * A seedable PRNG (mulberry32): 32 bits of state, a period of 2^32, fast and good enough for
 * weighted routing. Not for cryptography. The same seed always yields the same sequence, which
 * makes weighted routing reproducible in tests and replays.
 */
export function mulberry32(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
