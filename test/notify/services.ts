// Local stand-ins for Slack, Teams and PagerDuty that accept only what each
// service's public docs specify and answer as the service does, so the tests
// fail when a payload drifts from the documented shape.
import http from "node:http";
import { closeServer, listen } from "../harness/util.js";

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: unknown;
}

export interface FakeService {
  url: string;
  received: Received[];
  /** Answers to give before validating (e.g. [429, 500] then normal behaviour). */
  failFirst: number[];
  close(): Promise<void>;
}

type Validator = (body: unknown) => string[];

export async function startService(
  validate: Validator,
  answer: (body: unknown) => [number, string],
): Promise<FakeService> {
  const received: Received[] = [];
  const service: FakeService = { url: "", received, failFirst: [], close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      received.push({ path: req.url ?? "", headers: req.headers, raw, body });
      const fail = service.failFirst.shift();
      if (fail !== undefined) {
        res.writeHead(fail, fail === 429 ? { "retry-after": "0" } : {});
        res.end("try later");
        return;
      }
      const problems = req.headers["content-type"]?.startsWith("application/json")
        ? validate(body)
        : ["content-type is not application/json"];
      if (problems.length > 0) {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: "invalid", errors: problems }));
        return;
      }
      const [status, text] = answer(body);
      res.writeHead(status);
      res.end(text);
    });
  });
  const port = await listen(server);
  service.url = `http://127.0.0.1:${port}`;
  service.close = () => closeServer(server);
  return service;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isText = (v: unknown, type: string, max: number): boolean =>
  isObject(v) && v.type === type && typeof v.text === "string" && v.text.length > 0 && v.text.length <= max;

/** Slack: incoming webhook message with `text` and Block Kit blocks (api.slack.com/reference/block-kit/blocks). */
export function validateSlack(body: unknown): string[] {
  const p: string[] = [];
  if (!isObject(body)) return ["body is not a JSON object"];
  if (typeof body.text !== "string" || body.text === "")
    p.push("text: a non-empty fallback string is required");
  if (!Array.isArray(body.blocks) || body.blocks.length === 0 || body.blocks.length > 50)
    return [...p, "blocks: 1..50 blocks"];
  body.blocks.forEach((b, i) => {
    if (!isObject(b)) return p.push(`blocks[${i}] is not an object`);
    switch (b.type) {
      case "header":
        if (!isText(b.text, "plain_text", 150))
          p.push(`blocks[${i}].text: plain_text of at most 150 characters`);
        break;
      case "section":
        if (b.text === undefined && b.fields === undefined) p.push(`blocks[${i}]: text or fields required`);
        if (b.text !== undefined && !isText(b.text, "mrkdwn", 3000) && !isText(b.text, "plain_text", 3000))
          p.push(`blocks[${i}].text: a text object of at most 3000 characters`);
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length > 10) p.push(`blocks[${i}].fields: at most 10`);
          else
            b.fields.forEach(
              (f, j) => !isText(f, "mrkdwn", 2000) && p.push(`blocks[${i}].fields[${j}]: text object ≤ 2000`),
            );
        }
        break;
      case "context":
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10)
          p.push(`blocks[${i}].elements: 1..10`);
        else
          b.elements.forEach(
            (e, j) =>
              !isText(e, "mrkdwn", 3000) &&
              !isText(e, "plain_text", 3000) &&
              p.push(`blocks[${i}].elements[${j}]`),
          );
        break;
      case "divider":
        break;
      default:
        p.push(`blocks[${i}].type "${String(b.type)}" is not a block type used here`);
    }
    return undefined;
  });
  return p;
}

/** Teams: a message with one Adaptive Card attachment (learn.microsoft.com, "Send Adaptive Cards using an Incoming Webhook"). */
export function validateTeams(body: unknown): string[] {
  if (!isObject(body) || body.type !== "message") return ['type must be "message"'];
  const attachments = body.attachments;
  if (!Array.isArray(attachments) || attachments.length !== 1) return ["exactly one attachment expected"];
  const a = attachments[0] as Record<string, unknown>;
  const p: string[] = [];
  if (a.contentType !== "application/vnd.microsoft.card.adaptive") p.push("contentType");
  if (a.contentUrl !== null) p.push("contentUrl must be null");
  const card = a.content;
  if (!isObject(card)) return [...p, "content must be an Adaptive Card"];
  if (card.type !== "AdaptiveCard") p.push("content.type");
  if (card.$schema !== "http://adaptivecards.io/schemas/adaptive-card.json") p.push("content.$schema");
  if (typeof card.version !== "string" || !/^1\.[0-5]$/.test(card.version))
    p.push("content.version 1.0..1.5");
  if (!Array.isArray(card.body) || card.body.length === 0) return [...p, "content.body"];
  card.body.forEach((el, i) => {
    if (!isObject(el)) return p.push(`body[${i}]`);
    if (el.type === "TextBlock") {
      if (typeof el.text !== "string") p.push(`body[${i}].text`);
    } else if (el.type === "FactSet") {
      if (
        !Array.isArray(el.facts) ||
        el.facts.some((f) => !isObject(f) || typeof f.title !== "string" || typeof f.value !== "string")
      )
        p.push(`body[${i}].facts: {title, value} strings`);
    } else p.push(`body[${i}].type "${String(el.type)}" unexpected`);
    return undefined;
  });
  return p;
}

const PD_SEVERITIES = new Set(["critical", "error", "warning", "info"]);

/** PagerDuty Events API v2 (developer.pagerduty.com, "Send an Alert Event"). */
export function validatePagerDuty(body: unknown): string[] {
  if (!isObject(body)) return ["not an object"];
  const p: string[] = [];
  if (typeof body.routing_key !== "string" || body.routing_key.length !== 32)
    p.push("routing_key: a 32-character integration key");
  if (!["trigger", "acknowledge", "resolve"].includes(body.event_action as string)) p.push("event_action");
  if (body.dedup_key !== undefined && (typeof body.dedup_key !== "string" || body.dedup_key.length > 255))
    p.push("dedup_key ≤ 255");
  if (body.event_action === "trigger") {
    const payload = body.payload;
    if (!isObject(payload)) return [...p, "payload required for trigger"];
    if (typeof payload.summary !== "string" || payload.summary.length === 0 || payload.summary.length > 1024)
      p.push("payload.summary 1..1024");
    if (typeof payload.source !== "string" || payload.source === "") p.push("payload.source");
    if (!PD_SEVERITIES.has(payload.severity as string)) p.push("payload.severity");
    if (payload.timestamp !== undefined && Number.isNaN(Date.parse(payload.timestamp as string)))
      p.push("payload.timestamp ISO 8601");
    if (payload.custom_details !== undefined && !isObject(payload.custom_details))
      p.push("payload.custom_details object");
  } else if (typeof body.dedup_key !== "string") p.push("dedup_key required for acknowledge/resolve");
  return p;
}

export const startSlack = () => startService(validateSlack, () => [200, "ok"]);
export const startTeams = () => startService(validateTeams, () => [202, ""]);
export const startPagerDuty = () =>
  startService(validatePagerDuty, (body) => [
    202,
    JSON.stringify({
      status: "success",
      message: "Event processed",
      dedup_key: (body as { dedup_key?: string }).dedup_key,
    }),
  ]);
export const startWebhook = () =>
  startService(
    () => [],
    () => [204, ""],
  );
