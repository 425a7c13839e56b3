/**
 * Sends one notification to named channels of shipgate.yaml. A channel that
 * fails does not stop the others (nor the promotion that sent it): each
 * result says delivered or why not, and the caller records it.
 */
import type { NotificationConfig } from "../policy/config-schema.js";
import { postJson } from "./http.js";
import type { Notification } from "./message.js";
import { PAGERDUTY_EVENTS_URL, pagerDutyPayload } from "./pagerduty.js";
import { slackPayload } from "./slack.js";
import { teamsPayload } from "./teams.js";
import { webhookBody, webhookHeaders } from "./webhook.js";

export interface DeliveryResult {
  channel: string;
  type: string;
  ok: boolean;
  error?: string;
  attempts?: number;
}

export interface SendOptions {
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
}

export async function sendTo(
  channel: string,
  config: NotificationConfig,
  n: Notification,
  options: SendOptions = {},
): Promise<DeliveryResult> {
  const post = { channel, ...options };
  try {
    let result: { attempts: number };
    switch (config.type) {
      case "slack":
        result = await postJson(config.webhook_url, JSON.stringify(slackPayload(n)), post);
        break;
      case "teams":
        result = await postJson(config.webhook_url, JSON.stringify(teamsPayload(n)), post);
        break;
      case "pagerduty":
        result = await postJson(
          config.url ?? PAGERDUTY_EVENTS_URL,
          JSON.stringify(pagerDutyPayload(config, n)),
          post,
        );
        break;
      case "webhook": {
        const body = webhookBody(n);
        result = await postJson(config.url, body, { ...post, headers: webhookHeaders(config, n, body) });
        break;
      }
    }
    return { channel, type: config.type, ok: true, attempts: result.attempts };
  } catch (error) {
    return { channel, type: config.type, ok: false, error: (error as Error).message };
  }
}

export async function notifyAll(
  channels: readonly string[],
  configs: Readonly<Record<string, NotificationConfig>>,
  n: Notification,
  options: SendOptions = {},
): Promise<DeliveryResult[]> {
  return Promise.all(
    [...new Set(channels)].map((channel) => {
      const config = configs[channel];
      if (config === undefined)
        return Promise.resolve({
          channel,
          type: "unknown",
          ok: false,
          error: `no notification "${channel}" in the config`,
        });
      return sendTo(channel, config, n, options);
    }),
  );
}
