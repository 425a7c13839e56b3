/**
 * Microsoft Teams incoming webhooks and Workflows ("Post to a channel when a
 * webhook request is received"): a `message` whose one attachment is an
 * Adaptive Card (contentType application/vnd.microsoft.card.adaptive,
 * contentUrl null), as Microsoft's "Send Adaptive Cards using an Incoming
 * Webhook" documents. Version 1.4 is the newest every Teams client renders.
 */
import { approvalHint, facts, gateSymbol, type Notification } from "./message.js";

export interface TeamsConfig {
  webhook_url: string;
}

const COLOURS: Record<Notification["severity"], string> = {
  info: "Good",
  warning: "Warning",
  error: "Attention",
  critical: "Attention",
};

export function teamsPayload(n: Notification): Record<string, unknown> {
  const body: Record<string, unknown>[] = [
    {
      type: "TextBlock",
      size: "Medium",
      weight: "Bolder",
      text: n.title,
      wrap: true,
      color: COLOURS[n.severity],
    },
    { type: "TextBlock", text: n.text, wrap: true },
  ];
  const list = facts(n);
  if (list.length > 0)
    body.push({ type: "FactSet", facts: list.map(([title, value]) => ({ title, value })) });
  if (n.gates && n.gates.length > 0) {
    body.push({
      type: "FactSet",
      facts: n.gates.map((g) => ({ title: `${gateSymbol(g.status)} ${g.gate}`, value: g.summary })),
    });
  }
  const hint = approvalHint(n);
  if (hint) body.push({ type: "TextBlock", text: hint, wrap: true, fontType: "Monospace", isSubtle: true });
  body.push({
    type: "TextBlock",
    text: `shipgate · ${n.kind} · ${n.at.toISOString()}`,
    isSubtle: true,
    size: "Small",
    wrap: true,
  });
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body,
          msteams: { width: "Full" },
        },
      },
    ],
  };
}
