"""Model-server images, serving arguments, and model-bearing configuration keys."""

from __future__ import annotations

import pytest

from aispm.analysis.serving import (
    is_model_key,
    is_strong_model_key,
    nim_model_from_image,
    normalise_image,
    parse_serving_args,
    plausible_model_value,
    provider_of_name,
    server_for_command,
    server_for_image,
    split_command,
)


@pytest.mark.parametrize(
    ("image", "server"),
    [
        ("vllm/vllm-openai:v0.6.3", "vllm"),
        ("docker.io/vllm/vllm-openai@sha256:abc", "vllm"),
        ("ghcr.io/huggingface/text-generation-inference:2.4", "tgi"),
        ("ollama/ollama", "ollama"),
        ("ghcr.io/ggerganov/llama.cpp:server", "llama.cpp"),
        ("ghcr.io/ggml-org/llama.cpp:server-cuda", "llama.cpp"),
        ("localai/localai:latest-aio-cpu", "localai"),
        ("nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.0", "nim"),
        ("lmsysorg/sglang:latest", "sglang"),
        ("nvcr.io/nvidia/tritonserver:24.08-py3", "triton"),
        ("localhost:5000/team/vllm-openai:dev", "vllm"),
        ("nginx:1.27", None),
        ("python:3.11", None),
        ("myorg/ollama-webui", None),
    ],
)
def test_server_for_image(image: str, server: str | None) -> None:
    assert server_for_image(image) == server


def test_normalise_and_nim() -> None:
    assert normalise_image("registry.example.com:443/a/b:tag") == "a/b"
    assert nim_model_from_image("nvcr.io/nim/meta/llama-3.1-8b-instruct:1") == "meta/llama-3.1-8b-instruct"
    assert nim_model_from_image("vllm/vllm-openai") is None


def test_commands_and_args() -> None:
    argv = split_command('sh -c "vllm serve Qwen/Qwen2-7B --port 8000 --api-key k"')
    assert server_for_command(argv) == "vllm"
    args = parse_serving_args(argv)
    assert args.models == [("vllm serve", "Qwen/Qwen2-7B")]
    assert args.auth_flags == ["--api-key"] and args.port == "8000"
    args = parse_serving_args(
        ["--model-id=org/m", "--served-model-name", "chat", "-m", "/m.gguf", "--host", "::"]
    )
    assert args.models == [("--model-id", "org/m")]
    assert (args.served_names, args.model_files, args.host) == (["chat"], ["/m.gguf"], "::")
    assert server_for_command(["python", "-m", "vllm.entrypoints.openai.api_server"]) == "vllm"
    assert server_for_command(["python", "app.py", "--model", "x"]) is None


@pytest.mark.parametrize(
    ("key", "model", "strong"),
    [
        ("MODEL_ID", True, True),
        ("model", True, False),
        ("modelName", True, False),
        ("embedding_model", True, False),
        ("EMBEDDING_MODEL", True, True),
        ("modelURL", True, True),
        ("base_model", True, True),
        ("AZURE_OPENAI_DEPLOYMENT_NAME", True, False),
        ("model_type", False, False),
        ("models", False, False),
        ("model_dir", False, False),
        ("modelling", False, False),
    ],
)
def test_model_keys(key: str, model: bool, strong: bool) -> None:
    assert is_model_key(key) is model
    assert is_strong_model_key(key) is strong


def test_provider_of_name_and_plausible_values() -> None:
    assert provider_of_name("OPENAI_MODEL") == "openai"
    assert provider_of_name("AZURE_OPENAI_DEPLOYMENT") == "azure-openai"
    assert provider_of_name("HF_MODEL_ID") == "huggingface"
    assert provider_of_name("MODEL_ID") is None
    assert provider_of_name("SHELF_MODEL") is None
    assert plausible_model_value("gpt-4o") and plausible_model_value("org/name")
    for bad in ("str", "", "two words", "{llm}", "42", "inherit", "%s"):
        assert not plausible_model_value(bad)
