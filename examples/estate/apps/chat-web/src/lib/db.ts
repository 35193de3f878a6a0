import mongoose, { Schema } from "mongoose";

import type { UIMessage } from "ai";

// Mongoose "models" are database collections, not AI models.
const userSchema = new Schema({ email: String, plan: String, createdAt: Date });
const transcriptSchema = new Schema({ messages: Schema.Types.Mixed, answer: String, at: Date });

export const User = mongoose.models.User ?? mongoose.model("User", userSchema);
export const Transcript = mongoose.models.Transcript ?? mongoose.model("Transcript", transcriptSchema);

export async function saveTranscript(messages: UIMessage[], answer: string): Promise<void> {
  if (mongoose.connection.readyState === 0) {
    await mongoose.connect(process.env.MONGODB_URI ?? "mongodb://localhost:27017/northwind");
  }
  await Transcript.create({ messages, answer, at: new Date() });
}
