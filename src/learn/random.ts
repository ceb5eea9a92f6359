/**
 * Seeded pseudo-random numbers: everything in learn/ that draws at random (bootstrap resampling,
 * the suggester's space-filling and acquisition) draws from here, so a given seed always gives the
 * same answer.
 */

/** xorshift32: small, fast, good enough for resampling and search (not for cryptography). */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/** A generator seeded from a number and any strings that should change the stream (e.g. a history fingerprint). */
export function seededRandom(seed: number, ...salt: string[]): () => number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const s of salt) {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  }
  const next = xorshift32(h || 1);
  for (let i = 0; i < 8; i++) next(); // decorrelate nearby seeds
  return next;
}

/** A standard normal draw (Box-Muller). */
export function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
