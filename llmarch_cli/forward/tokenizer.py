"""Text in and out through a checkpoint folder's own ``tokenizer.json`` (the ``tokenizers``
library, an optional extra imported only when text is asked for)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from llmarch_cli.errors import LlmarchError

if TYPE_CHECKING:
    from llmarch_cli.specs.loader import ResolvedModel

TOKENIZER = "tokenizer.json"


class Text:
    """Encode text to ids and decode ids to text with one tokenizer."""

    def __init__(self, folder: Path, vocab_size: int) -> None:
        path = folder / TOKENIZER
        if not path.is_file():
            raise LlmarchError(f"--text needs {TOKENIZER} in a checkpoint folder; {folder} has none",
                               "pass token ids with --tokens instead")
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise LlmarchError("--text needs the tokenizers package",
                               "pip install 'llmarch[text]'") from None
        try:
            self.tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # the library raises its own exception type for bad files
            raise LlmarchError(f"{path}: not a tokenizer the tokenizers library reads ({exc})") from None
        self.prompt: str | None = None  # the text last encoded
        size = self.tokenizer.get_vocab_size(with_added_tokens=True)
        if size > vocab_size:
            raise LlmarchError(f"{TOKENIZER} has {size:,} tokens but the model's vocabulary has "
                               f"{vocab_size:,}: they do not belong together")

    def encode(self, text: str) -> list[int]:
        """The prompt's token ids (kept as ``prompt``); LlmarchError when there are none."""
        ids = self.tokenizer.encode(text).ids
        if not ids:
            raise LlmarchError("--text encodes to no tokens")
        self.prompt = text
        return ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids)


def model_text(model: ResolvedModel, where: str, scale: str) -> Text:
    """The ``Text`` of ``model``'s checkpoint folder (else of ``where``, the MODEL as typed),
    checked against the vocabulary of the model that will run at ``scale``."""
    from llmarch_cli.forward.runner import runtime_spec

    return Text(model.folder or Path(where), runtime_spec(model, scale).embeddings.vocab_size)
