import type { Random } from "./random.js";

/** SemVer-shaped strings, valid and not: leading zeros, long numbers, hyphens, build metadata, a "v". */
export function semverGenerator(rng: Random) {
  const ids = ["alpha", "beta", "rc", "x-y", "-", "a1", "1a", "0a", "A", "Z", "zz", "--"];
  const id = () => (rng.chance(0.5) ? rng.number() : rng.pick(ids));
  const list = (n: number) => Array.from({ length: 1 + rng.int(n) }, id).join(".");
  const version = () => {
    let v = `${rng.number()}.${rng.number()}.${rng.number()}`;
    if (rng.chance(0.5)) v = `${rng.int(3)}.${rng.int(3)}.${rng.int(3)}`; // collide often on the main part
    if (rng.chance(0.6)) v += `-${list(4)}`;
    if (rng.chance(0.25)) v += `+${list(3)}`;
    if (rng.chance(0.05)) v = `v${v}`;
    return v;
  };
  const mutate = (v: string) =>
    rng.pick([
      () => `${v}.1`,
      () => `${v}.alpha`,
      () => (v.includes("-") ? v.slice(0, v.indexOf("-")) : `${v}-0`),
      () => (v.includes("+") ? v.slice(0, v.indexOf("+")) : `${v}+build.5`),
      () => v.replace(/\d+(?!.*\d)/, (d) => `${d}0`),
      () => v.replace(/alpha/, "beta"),
      () => v.replace(/\.(\d+)$/, ".$1a"),
    ])();
  return { version, mutate };
}
