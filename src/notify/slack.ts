/**
 * Slack incoming webhooks: a JSON body with `text` (the fallback Slack shows
 * in notifications) and Block Kit `blocks` (header, section with fields,
 * context). Limits from Slack's Block Kit reference: header text 150
 * characters, section text 3000, at most 10 fields of 2000 each.
 */
import { approvalHint, facts, gateSymbol, type Notification } from "./message.js";

export interface SlackConfig {
  webhook_url: string;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

type Block = Record<string, unknown>;

export function slackPayload(n: Notification): { text: string; blocks: Block[] } {
  const blocks: Block[] = [
    { type: "header", text: { type: "plain_text", text: clip(n.title, 150), emoji: true } },
    { type: "section", text: { type: "mrkdwn", text: clip(n.text, 3000) } },
  ];
  const fields = facts(n).slice(0, 10);
  if (fields.length > 0) {
    blocks.push({
      type: "section",
      fields: fields.map(([label, value]) => ({
        type: "mrkdwn",
        text: clip(`*${label}*\n\`${value}\``, 2000),
      })),
    });
  }
  if (n.gates && n.gates.length > 0) {
    const lines = n.gates.map((g) => `${gateSymbol(g.status)} *${g.gate}*: ${g.summary}`);
    blocks.push({ type: "section", text: { type: "mrkdwn", text: clip(lines.join("\n"), 3000) } });
  }
  const hint = approvalHint(n);
  const context = [`shipgate · ${n.kind} · ${n.at.toISOString()}`];
  if (hint) context.unshift(hint);
  blocks.push({
    type: "context",
    elements: context.map((text) => ({ type: "mrkdwn", text: clip(text, 3000) })),
  });
  return { text: clip(`${n.title}: ${n.text}`, 3000), blocks };
}
