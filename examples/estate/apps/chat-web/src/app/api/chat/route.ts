import { openai } from "@ai-sdk/openai";
import { convertToModelMessages, streamText, type UIMessage } from "ai";

import { isGatewayModel } from "@/lib/models";
import { saveTranscript } from "@/lib/db";

export const maxDuration = 30;

const SYSTEM = `You are Northwind's support assistant. Be brief and cite the help-centre article you used.`;

export async function POST(req: Request) {
  const { messages, model }: { messages: UIMessage[]; model?: string } = await req.json();

  const result = streamText({
    // Staff may pick a gateway model; everyone else gets the default provider model.
    model: model && isGatewayModel(model) ? model : openai("gpt-4o"),
    system: SYSTEM,
    messages: convertToModelMessages(messages),
    onFinish: async ({ text }) => {
      await saveTranscript(messages, text);
    },
  });

  return result.toUIMessageStreamResponse();
}
