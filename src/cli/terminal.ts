import type { CopyProgress } from "../oci/copy.js";
import { humanSize } from "./format.js";

/** Colour only on a TTY, and never when NO_COLOR is set (no-color.org). */
export function colours(stream: NodeJS.WriteStream): {
  bold: (s: string) => string;
  dim: (s: string) => string;
  red: (s: string) => string;
  green: (s: string) => string;
  yellow: (s: string) => string;
} {
  const on = stream.isTTY === true && process.env.NO_COLOR === undefined;
  const wrap = (code: number) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);
  return { bold: wrap(1), dim: wrap(2), red: wrap(31), green: wrap(32), yellow: wrap(33) };
}

/**
 * A progress bar on stderr for copies: bytes, blobs, rate. Drawn only on a
 * TTY, at most ten times a second, and only once the copy has run a second.
 */
export class CopyProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;
  private latest: CopyProgress | undefined;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update = (progress: CopyProgress): void => {
    this.latest = progress;
    if (!this.stream.isTTY) return;
    const now = Date.now();
    if (now - this.started < 1000 || now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.draw(progress);
  };

  private draw(p: CopyProgress): void {
    const width = 30;
    const fraction = p.bytesTotal === 0 ? 1 : Math.min(1, p.bytesDone / p.bytesTotal);
    const filled = Math.round(fraction * width);
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = `${humanSize(p.bytesTransferred / seconds)}/s`;
    const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
    const text = `${this.label} ${bar} ${humanSize(p.bytesDone)}/${humanSize(p.bytesTotal)}  blobs ${p.blobsDone}/${p.blobsTotal}  ${rate}`;
    this.stream.write(`\r\u001b[2K${text.slice(0, (this.stream.columns ?? 120) - 1)}`);
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) this.stream.write("\r\u001b[2K");
  }
}
