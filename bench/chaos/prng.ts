/**
 * The crash test's only source of randomness: every random choice (instants, kill order, kill
 * moments) is drawn from one generator seeded by `--seed`, up front, so a seed names one plan.
 */
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** A float in [min, max). */
  uniform(min: number, max: number): number;
  /** A copy of `items` in a random order. */
  shuffle<T>(items: readonly T[]): T[];
}

/** mulberry32: small, fast, and good enough to spread instants and kills; not for secrets. */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (min, max) => min + next() * (max - min),
    shuffle: (items) => {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [copy[i], copy[j]] = [copy[j]!, copy[i]!];
      }
      return copy;
    },
  };
}
