"""llmarch: a command-line LLM architecture explorer."""

__version__ = "0.1.0"
