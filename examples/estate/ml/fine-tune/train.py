"""LoRA fine-tune of Llama 3.1 8B on Northwind support tickets.

Run on one 80 GB GPU: ``python train.py --epochs 2``. The base model is pinned to a commit so a
retrain reproduces the same starting weights.
"""

from __future__ import annotations

import argparse

import torch
from datasets import concatenate_datasets, load_dataset
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

OUTPUT_DIR = "outputs/northwind-support-lora"


def build_dataset(tokenizer: AutoTokenizer):  # type: ignore[no-untyped-def]
    tickets = load_dataset("northwind/support-tickets", split="train")
    # "json" is the loader's builder name; the data is the local file next to this script.
    curated = load_dataset("json", data_files="data/train.jsonl", split="train")
    merged = concatenate_datasets([tickets.select_columns(["prompt", "completion"]), curated])

    def tokenize(row: dict[str, str]) -> dict[str, list[int]]:
        text = f"### Question\n{row['prompt']}\n### Answer\n{row['completion']}{tokenizer.eos_token}"
        return tokenizer(text, truncation=True, max_length=1024)

    return merged.map(tokenize, remove_columns=merged.column_names)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    tokenizer = AutoTokenizer.from_pretrained(
        "meta-llama/Llama-3.1-8B", revision="8c7dac9732819405be40271286b1156cf6cca5b6"
    )
    tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(
        "meta-llama/Llama-3.1-8B",
        revision="8c7dac9732819405be40271286b1156cf6cca5b6",
        torch_dtype=torch.bfloat16,
        device_map="auto",
    )
    lora = LoraConfig(
        r=16,
        lora_alpha=32,
        lora_dropout=0.05,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    model.print_trainable_parameters()

    trainer = Trainer(
        model=model,
        args=TrainingArguments(
            output_dir=OUTPUT_DIR,
            num_train_epochs=args.epochs,
            per_device_train_batch_size=4,
            gradient_accumulation_steps=4,
            learning_rate=2e-4,
            bf16=True,
            logging_steps=10,
            save_strategy="epoch",
        ),
        train_dataset=build_dataset(tokenizer),
    )
    trainer.train()
    model.save_pretrained(OUTPUT_DIR)


if __name__ == "__main__":
    main()
