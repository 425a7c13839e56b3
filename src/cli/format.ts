/** Human sizes in binary units, as `1.2 GiB`. */
export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes)) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** `3 days ago`, `in 2 hours`, `just now`. */
export function relativeTime(date: Date, now: Date = new Date()): string {
  const seconds = Math.round((now.getTime() - date.getTime()) / 1000);
  const abs = Math.abs(seconds);
  const steps: [number, string][] = [
    [60, "second"],
    [60, "minute"],
    [24, "hour"],
    [30, "day"],
    [12, "month"],
    [Number.POSITIVE_INFINITY, "year"],
  ];
  if (abs < 10) return "just now";
  let value = abs;
  for (const [size, name] of steps) {
    if (value < size) {
      const n = Math.floor(value);
      const label = `${n} ${name}${n === 1 ? "" : "s"}`;
      return seconds >= 0 ? `${label} ago` : `in ${label}`;
    }
    value /= size;
  }
  return date.toISOString();
}

export function shortDigest(digest: string): string {
  const [algorithm, hex = ""] = digest.split(":");
  return `${algorithm}:${hex.slice(0, 12)}`;
}

const ansi = /\u001b\[[0-9;]*m/g;

function visibleLength(text: string): number {
  return text.replace(ansi, "").length;
}

/** An aligned text table; columns listed in `right` are right-aligned (numbers, sizes). */
export function table(headers: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = headers.map((h, i) =>
    Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ""))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const pad = " ".repeat(Math.max(0, (widths[i] ?? 0) - visibleLength(cell)));
        if (i === cells.length - 1 && !right.has(i)) return cell;
        return right.has(i) ? pad + cell : cell + pad;
      })
      .join("  ");
  return [line(headers), ...rows.map(line)].join("\n");
}
