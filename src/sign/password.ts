import type { Readable, Writable } from "node:stream";
import { ShipgateError } from "../errors.js";

export interface PasswordSources {
  env?: NodeJS.ProcessEnv;
  /** Where a password is typed or piped; a TTY gets a prompt without echo. */
  input?: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  /** Where the prompt is written (stderr: stdout carries results). */
  prompt?: Writable;
  /** Ask twice and compare (key generation). */
  confirm?: boolean;
}

/**
 * The key password, from (in order) COSIGN_PASSWORD or SHIPGATE_PASSWORD
 * (an empty value is a valid, empty password, as in cosign), a TTY prompt,
 * or the first line of a piped stdin. It is returned, never stored.
 */
export async function readPassword(what: string, sources: PasswordSources = {}): Promise<string> {
  return (await readPasswordCandidates(what, sources))[0] as string;
}

/**
 * The password to try, then the ones to try if it is wrong. Piped, cosign
 * reads the whole of stdin (io.ReadAll in generate.readPasswordFn), newline
 * included, so a key made with `echo pw | cosign generate-key-pair` has the
 * password "pw\n": after the first line, the line with its terminator is tried.
 */
export async function readPasswordCandidates(what: string, sources: PasswordSources = {}): Promise<string[]> {
  const env = sources.env ?? process.env;
  const fromEnv = env.COSIGN_PASSWORD ?? env.SHIPGATE_PASSWORD;
  if (fromEnv !== undefined) return [fromEnv];
  const input = sources.input;
  if (input !== undefined && !(input.isTTY && input.setRawMode && sources.prompt)) {
    const piped = await readFirstLine(input);
    if (piped === undefined) throw noPassword(what);
    return piped.raw === piped.line ? [piped.line] : [piped.line, piped.raw];
  }
  return [await readTypedPassword(what, sources)];
}

async function readTypedPassword(what: string, sources: PasswordSources): Promise<string> {
  const { input, prompt } = sources;
  if (input === undefined || prompt === undefined) throw noPassword(what);
  const first = await promptHidden(`Enter password for ${what}: `, input, prompt);
  if (sources.confirm) {
    const second = await promptHidden("Enter password again: ", input, prompt);
    if (first !== second) {
      throw new ShipgateError("PASSWORD_INCORRECT", "the two passwords do not match", {
        hint: "run the command again and type the same password twice",
      });
    }
  }
  return first;
}

function noPassword(what: string): ShipgateError {
  return new ShipgateError("USAGE", `no password for ${what}`, {
    hint: "set COSIGN_PASSWORD (or SHIPGATE_PASSWORD), pipe it on stdin, or run in a terminal",
  });
}

/** The first line, and the same with its line terminator (what cosign would use when it ends stdin). */
async function readFirstLine(input: Readable): Promise<{ line: string; raw: string } | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(buffer);
    size += buffer.length;
    if (buffer.includes(0x0a) || size > 64 * 1024) break;
  }
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  const newline = text.indexOf("\n");
  const raw = newline < 0 ? text : text.slice(0, newline + 1);
  return { line: raw.replace(/\r?\n$/, ""), raw };
}

function promptHidden(
  question: string,
  input: Readable & { setRawMode?: (raw: boolean) => unknown },
  prompt: Writable,
): Promise<string> {
  prompt.write(question);
  input.setRawMode?.(true);
  input.resume();
  return new Promise((resolve, reject) => {
    let typed = "";
    const done = (error?: Error) => {
      input.off("data", onData);
      input.setRawMode?.(false);
      input.pause();
      prompt.write("\n");
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(new ShipgateError("USAGE", "password prompt interrupted"));
        if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    input.on("data", onData);
  });
}
