import { anthropic } from "@ai-sdk/anthropic";
import { generateText } from "ai";

// Nightly job: summarise long conversations before they are archived.
export async function summarizeConversation(transcript: string): Promise<string> {
  const { text } = await generateText({
    model: anthropic("claude-3-5-haiku-latest"),
    prompt: `Summarise this support conversation in three bullet points:\n\n${transcript}`,
  });
  return text;
}
