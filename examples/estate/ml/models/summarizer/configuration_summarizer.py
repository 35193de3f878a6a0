from transformers import PretrainedConfig


class SummarizerConfig(PretrainedConfig):
    model_type = "northwind-summarizer"

    def __init__(self, d_model: int = 16, max_summary_tokens: int = 128, **kwargs):
        self.d_model = d_model
        self.max_summary_tokens = max_summary_tokens
        super().__init__(**kwargs)
