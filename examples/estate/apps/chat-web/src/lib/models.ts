// Models offered in the chat model picker. Ids go through the AI Gateway, so they carry the provider.
export const GATEWAY_MODELS = ["openai/gpt-4o", "anthropic/claude-sonnet-4.5"] as const;

export type GatewayModelId = (typeof GATEWAY_MODELS)[number];

// Default for anonymous visitors; staff can pick from GATEWAY_MODELS.
export const DEFAULT_MODEL = process.env.CHAT_MODEL ?? "gpt-4o-mini";

export function isGatewayModel(id: string): id is GatewayModelId {
  return (GATEWAY_MODELS as readonly string[]).includes(id);
}
