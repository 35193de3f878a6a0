"""Summarises long support threads for the agents' inbox."""

from fastapi import FastAPI
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

MODEL_DIR = "ml/models/summarizer"

app = FastAPI()
tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)
model = AutoModelForSeq2SeqLM.from_pretrained(MODEL_DIR, trust_remote_code=True)


@app.post("/summarize")
def summarize(thread: str) -> dict[str, str]:
    inputs = tokenizer(thread, return_tensors="pt", truncation=True)
    output = model.generate(**inputs, max_new_tokens=128)
    return {"summary": tokenizer.decode(output[0], skip_special_tokens=True)}
