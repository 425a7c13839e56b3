import { humanSize } from "./format.js";

/**
 * One progress bar for every long-running command: drawn on stderr only
 * when it is a TTY, at most ten times a second, and only after the work
 * has run for a second (quick commands stay quiet).
 */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** `done`/`total` in bytes; `detail` is shown after the sizes (e.g. `layer 2/4`). */
  update(done: number, total: number, detail = ""): void {
    if (!this.stream.isTTY) return;
    const now = Date.now();
    if (now - this.started < 1000 || now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 30;
    const fraction = total === 0 ? 1 : Math.min(1, done / total);
    const filled = Math.round(fraction * width);
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
    const text = `${this.label} ${bar} ${humanSize(done)}/${humanSize(total)}  ${detail}  ${humanSize(done / seconds)}/s`;
    this.stream.write(`\r\u001b[2K${text.slice(0, (this.stream.columns ?? 120) - 1)}`);
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) this.stream.write("\r\u001b[2K");
    this.drawn = false;
  }
}
