/** A small seeded PRNG (mulberry32) so every generated pair reproduces from the seed. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(max: number): number {
    return Math.floor(this.next() * max);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** Numbers biased toward the nasty: 0, leading zeros, and runs beyond 2^53. */
  number(): string {
    const r = this.next();
    if (r < 0.15) return "0";
    if (r < 0.25) return `0${this.int(10)}`;
    if (r < 0.32) return "9007199254740993".slice(0, 14 + this.int(3)) + String(this.int(10));
    if (r < 0.36) return `00${this.int(100)}`;
    if (r < 0.4) return String(this.int(10)).repeat(20 + this.int(3));
    return String(this.int(r < 0.8 ? 4 : 30));
  }

  /** Pairs from a generator: half unrelated, half a mutation of the first (to hit near-equal cases). */
  pairs(count: number, gen: () => string, mutate: (v: string) => string): [string, string][] {
    const out: [string, string][] = [];
    for (let i = 0; i < count; i++) {
      const a = gen();
      out.push([a, this.chance(0.5) ? gen() : mutate(a)]);
    }
    return out;
  }
}
