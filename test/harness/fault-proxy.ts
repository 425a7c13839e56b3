// A loopback reverse proxy in front of a test registry that can inject
// failures (error statuses, dropped connections, truncated or corrupted
// bodies), so retry and verification logic can be tested against a real server.
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import { closeServer, listen } from "./util.js";

export interface FaultRequest {
  method: string;
  /** Path plus query string, as received. */
  path: string;
  headers: IncomingHttpHeaders;
}

interface FaultBase {
  match: (req: FaultRequest) => boolean;
  /** How many matching requests this fault applies to before it is used up. */
  times: number;
}

export type Fault = FaultBase &
  (
    | { kind: "status"; status: 500 | 429 | 503; retryAfter?: number }
    /** Destroy the client socket before anything is sent. */
    | { kind: "drop" }
    /** Forward, but send only `bytes` bytes of the body, then destroy the socket. */
    | { kind: "truncate"; bytes: number }
    /** Forward with the first body byte flipped; Content-Length is unchanged. */
    | { kind: "corrupt" }
  );

export interface FaultProxy {
  /** "127.0.0.1:PORT" */
  host: string;
  url: string;
  /** Every request seen, faulted or not, in order. */
  requests: { method: string; path: string }[];
  addFault(fault: Fault): void;
  /** Faults that have not been used up yet. */
  pendingFaults(): number;
  clearFaults(): void;
  stop(): Promise<void>;
}

// Hop-by-hop headers describe one connection and must not be forwarded.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const faults: Fault[] = [];
  const requests: { method: string; path: string }[] = [];
  let self = ""; // filled in once listening

  function takeFault(req: FaultRequest): Fault | undefined {
    const fault = faults.find((f) => f.times > 0 && f.match(req));
    if (fault) fault.times--;
    return fault;
  }

  const server = http.createServer((req, res) => {
    const info: FaultRequest = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers };
    requests.push({ method: info.method, path: info.path });
    const fault = takeFault(info);

    if (fault?.kind === "drop") {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "status") {
      req.resume(); // discard any upload body
      const headers: OutgoingHttpHeaders = { "content-type": "application/json", connection: "close" };
      if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
      res.writeHead(fault.status, headers);
      res.end(JSON.stringify({ errors: [{ code: "UNKNOWN", message: `injected ${fault.status}` }] }));
      return;
    }

    let cut = false; // set once a truncate fault has cut the body; later errors are expected
    const upstream = http.request(
      {
        host: target.slice(0, target.lastIndexOf(":")),
        port: Number(target.slice(target.lastIndexOf(":") + 1)),
        method: info.method,
        path: info.path,
        headers: { ...endToEnd(req.headers), host: target },
        agent: false, // no pooled sockets left behind after stop()
      },
      (up) => {
        const headers = endToEnd(up.headers);
        // The registry builds absolute Locations from the Host it saw (the target); point them back at us.
        const location = up.headers.location;
        if (location?.startsWith(`http://${target}`))
          headers.location = `http://${self}${location.slice(target.length + 7)}`;
        res.writeHead(up.statusCode ?? 502, up.statusMessage, headers);

        let sent = 0;
        let flipped = false;
        up.on("data", (chunk: Buffer) => {
          if (fault?.kind === "truncate") {
            if (cut) return;
            const room = fault.bytes - sent;
            sent += chunk.length;
            if (sent < fault.bytes) {
              res.write(chunk);
              return;
            }
            cut = true;
            up.destroy();
            // Flush the first `bytes` bytes, then close the connection mid-body.
            res.flushHeaders();
            res.write(chunk.subarray(0, room), () => res.destroy());
            return;
          }
          if (fault?.kind === "corrupt" && !flipped && chunk.length > 0) {
            chunk = Buffer.from(chunk);
            chunk[0] = (chunk[0] ?? 0) ^ 0xff;
            flipped = true;
          }
          if (!res.write(chunk)) {
            up.pause();
            res.once("drain", () => up.resume());
          }
        });
        up.on("end", () => {
          if (!cut) res.end();
        });
        up.on("error", () => {
          if (!cut) res.destroy();
        });
      },
    );
    upstream.on("error", (err) => {
      if (cut) return;
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(`fault-proxy: upstream error: ${err.message}`);
      }
    });
    // If the client goes away, stop talking to the upstream too.
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });

  const port = await listen(server);
  self = `127.0.0.1:${port}`;
  return {
    host: self,
    url: `http://${self}`,
    requests,
    addFault: (fault) => {
      faults.push({ ...fault });
    },
    pendingFaults: () => faults.filter((f) => f.times > 0).length,
    clearFaults: () => {
      faults.length = 0;
    },
    stop: () => closeServer(server),
  };
}
