import type { VersionComparator } from "./index.js";
import { compareDigits, compareStrings, isDigit } from "./numeric.js";

/**
 * Maven versions, ordered as Maven's own ComparableVersion
 * (maven-artifact, the 3.8 line Debian ships): the version is split at
 * ".", "-" and letter/digit transitions into numbers, qualifiers and
 * sub-lists ("-" and a digit after letters open one); trailing "null"
 * items (0, "", ga, final, release) are dropped; qualifiers order
 * alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp,
 * and unknown qualifiers sort after sp, alphabetically; "a1"/"b1"/"m1" mean
 * alpha/beta/milestone. Case-insensitive.
 */
type Item =
  /** Digits; width is Maven's Int/Long/BigInteger item class, which outranks the value across classes. */
  | { kind: "int"; value: string; width: number }
  | { kind: "string"; value: string } // alias-resolved qualifier
  | { kind: "list"; items: Item[] };

const QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const ALIASES: Record<string, string> = { ga: "", final: "", release: "", cr: "rc" };
const RELEASE_INDEX = String(QUALIFIERS.indexOf(""));

function stringItem(value: string, followedByDigit: boolean): Item {
  let v = value;
  if (followedByDigit && v.length === 1)
    v = ({ a: "alpha", b: "beta", m: "milestone" } as Record<string, string>)[v] ?? v;
  return { kind: "string", value: ALIASES[v] ?? v };
}

/**
 * Maven strips leading zeros, except from an all-zero run, which it keeps whole;
 * the digit count then picks IntItem (≤ 9), LongItem (≤ 18) or BigIntegerItem,
 * so "0000000000000000000" (a BigIntegerItem zero) outranks "2012" (an IntItem).
 */
function numberItem(buf: string): Item {
  const stripped = /^0+$/.test(buf) ? buf : buf.replace(/^0+/, "");
  const width = stripped.length <= 9 ? 0 : stripped.length <= 18 ? 1 : 2;
  return { kind: "int", value: stripped, width };
}

const ZERO: Item = { kind: "int", value: "0", width: 0 };

function parseItem(digits: boolean, buf: string): Item {
  return digits ? numberItem(buf) : stringItem(buf, false);
}

const isNull = (item: Item) =>
  item.kind === "int"
    ? /^0+$/.test(item.value)
    : item.kind === "string"
      ? item.value === ""
      : item.items.length === 0;

/** Drops trailing null items, looking through non-empty sub-lists, as ListItem.normalize does. */
function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i] as Item;
    if (isNull(item)) list.splice(i, 1);
    else if (item.kind !== "list") break;
  }
}

export function parseMaven(version: string): Item[] {
  const v = version.toLowerCase();
  const root: Item[] = [];
  let list = root;
  const stack: Item[][] = [root];
  const open = () => {
    const next: Item[] = [];
    list.push({ kind: "list", items: next });
    list = next;
    stack.push(next);
  };
  let digits = false;
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 46 || c === 45) {
      // "." or "-": an empty part is a 0; "-" opens a sub-list.
      list.push(i === start ? ZERO : parseItem(digits, v.slice(start, i)));
      start = i + 1;
      if (c === 45) open();
    } else if (isDigit(c)) {
      if (!digits && i > start) {
        // Maven 3.8: a qualifier that does not start its list gets a list of its own.
        if (list.length > 0) open();
        list.push(stringItem(v.slice(start, i), true));
        start = i;
        open();
      }
      digits = true;
    } else {
      if (digits && i > start) {
        list.push(parseItem(true, v.slice(start, i)));
        start = i;
        open();
      }
      digits = false;
    }
  }
  if (v.length > start) {
    if (!digits && list.length > 0) open();
    list.push(parseItem(digits, v.slice(start)));
  }
  for (let i = stack.length - 1; i >= 0; i--) normalize(stack[i] as Item[]);
  return root;
}

function qualifierKey(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i);
}

/** Item.compareTo, with `undefined` for Java's null (the shorter side of a list comparison). */
function compareItem(a: Item, b: Item | undefined): number {
  switch (a.kind) {
    case "int":
      if (!b) return isNull(a) ? 0 : 1;
      if (b.kind !== "int") return 1; // 1.1 > 1-sp, 1.1 > 1-1
      return a.width !== b.width ? Math.sign(a.width - b.width) : compareDigits(a.value, b.value);
    case "string":
      if (!b) return Math.sign(compareStrings(qualifierKey(a.value), RELEASE_INDEX)); // 1-rc < 1, 1-sp > 1
      if (b.kind === "string") return compareStrings(qualifierKey(a.value), qualifierKey(b.value));
      return -1; // 1.any < 1.1, 1.any < 1-1
    case "list": {
      if (!b) {
        for (const item of a.items) {
          const rc = compareItem(item, undefined);
          if (rc) return rc;
        }
        return 0;
      }
      if (b.kind === "int") return -1; // 1-1 < 1.0.x
      if (b.kind === "string") return 1; // 1-1 > 1-sp
      return compareLists(a.items, b.items);
    }
  }
}

function compareLists(a: Item[], b: Item[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const l = a[i];
    const r = b[i];
    const rc = l === undefined ? (r === undefined ? 0 : -compareItem(r, undefined)) : compareItem(l, r);
    if (rc) return rc;
  }
  return 0;
}

export function compareMaven(a: string, b: string): number {
  return compareLists(parseMaven(a), parseMaven(b));
}

export const maven: VersionComparator = {
  ecosystem: "Maven",
  compare: compareMaven,
  // Maven accepts any string as a version; refuse only what no POM could hold.
  isValid: (v) => v.length > 0 && !/[\s\p{Cc}]/u.test(v),
};
