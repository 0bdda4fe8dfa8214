"""The examples of README.md and docs/**/*.md: found, run, compared, and regenerated.

An example is a ``$ llmarch ...`` line of a ``console`` block (its documented output is the
lines below it, up to the next ``$`` line or the end of the block) or an ``llmarch`` line of a
``sh`` block (run only). A ``cat FILE |``, ``echo TEXT |`` or ``printf TEXT |`` before llmarch
becomes its stdin; stages after it (``| jq ...``, ``| head -3``) run as programs when they are
installed; ``> FILE`` is dropped. Output is what a terminal shows: stderr (notes, errors) and
then stdout. In a documented output a line ``...`` stands for any number of lines. The exit
code expected is 2 where the output starts with ``llmarch: error:``, 3 where the command's
comment says ``# exit 3`` (``inspect --against`` on a mismatch), else 0.

``python tests/doc_examples.py`` (``make docs``) rewrites every documented output that differs
from what the example prints now; tests/test_docs.py fails on any difference.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FILE_SUFFIXES = (".json", ".toml", ".safetensors", ".gguf")
HEAVY = ("--scale full",)  # a full-size forward pass: minutes, gigabytes, and machine-dependent
ELISION = "..."


@dataclass
class Example:
    path: Path
    line: int  # index of the command line in the file
    command: str
    output: list[str] = field(default_factory=list)  # documented lines (console blocks)
    shows_output: bool = False  # a console example (an empty output is documented as empty)

    comment: str = ""  # after "  #" on the command line

    @property
    def code(self) -> int:
        """2 when the docs show an error right below, 3 when the comment says ``exit 3``
        (``inspect --against`` on a mismatch), else 0."""
        if self.output and self.output[0].startswith("llmarch: error:"):
            return 2
        return 3 if "exit 3" in self.comment else 0

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line + 1}"


def examples(paths: list[Path] = DOCS) -> list[Example]:
    found: list[Example] = []
    for path in paths:
        block, current = None, None
        for index, line in enumerate(path.read_text().splitlines()):
            if line.startswith("```"):
                block, current = (line[3:].strip() if block is None else None), None
                continue
            if block == "console" and line.startswith("$ "):
                text, _, comment = line[2:].partition("  #")
                current = Example(path, index, text.strip(), shows_output=True, comment=comment)
                found.append(current) if "llmarch" in current.command else None
            elif block == "console" and current is not None:
                current.output.append(line)
            elif block == "sh" and line.startswith("llmarch "):
                text, _, comment = line.partition("  #")
                found.append(Example(path, index, text.strip(), comment=comment))
    for example in found:
        while example.output and not example.output[-1].strip():
            example.output.pop()
    return found


def parse(line: str) -> list[list[list[str]]]:
    """The line's commands (``&&`` or ``;`` separated), each a list of pipeline stages."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|>&;")
    lexer.whitespace_split = True
    commands: list[list[list[str]]] = [[[]]]
    for token in lexer:
        if token in ("&&", ";"):
            commands.append([[]])
        elif token == "|":
            commands[-1].append([])
        else:
            commands[-1][-1].append(token)
    return commands


@dataclass
class Prepared:
    argv: list[str]
    stdin: str | None
    after: list[list[str]]  # pipeline stages after llmarch


def prepare(stages: list[list[str]]) -> Prepared | str:
    """How to run one pipeline, or why it can't run here."""
    start = next((i for i, stage in enumerate(stages) if stage and stage[0] == "llmarch"), None)
    if start is None:
        return "no llmarch in it"
    stdin = None
    if start:
        feeder = stages[start - 1]
        if feeder[0] == "cat" and len(feeder) == 2 and Path(feeder[1]).is_file():
            stdin = Path(feeder[1]).read_text()
        elif feeder[0] == "echo":
            stdin = " ".join(feeder[1:]) + "\n"
        elif feeder[0] == "printf" and len(feeder) == 2 and "%" not in feeder[1]:
            stdin = feeder[1].replace("\\n", "\n")
        else:
            return f"fed by {feeder[0]}"
    argv = stages[start][1:]
    if ">" in argv:
        argv = argv[: argv.index(">")]
    for previous, arg in zip(["", *argv[:-1]], argv, strict=True):
        local = arg.startswith(("./", "/")) or arg.endswith(FILE_SUFFIXES)
        if local and previous not in ("-o", "--output") and not Path(arg).exists():
            return f"needs {arg}"
        if needs_the_hub(arg, remote_files=argv[0] == "inspect"):
            return f"needs the Hub for {arg} (tests/test_hub_*.py run Hub ids offline)"
    return Prepared(argv, stdin, stages[start + 1:])


def needs_the_hub(arg: str, remote_files: bool = False) -> bool:
    """A Hugging Face id that no preset, fine-tune or file answers (any id, when the command
    reads the repository's files: inspect)."""
    from llmarch_cli.errors import LlmarchError
    from llmarch_cli.specs.hub import HUB_ID
    from llmarch_cli.specs.registry import resolve_id

    if HUB_ID.fullmatch(arg) is None or Path(arg).exists():
        return False
    if remote_files:
        return True
    try:
        resolve_id(arg)
    except LlmarchError:
        return True
    return False


@dataclass
class Ran:
    code: int
    text: list[str] | None  # what a terminal shows, or None when a later stage can't run here


def run_example(example: Example) -> Ran | str:
    """Run every command of the example line (in the current folder); a string says why not."""
    from conftest import run

    if any(heavy in example.command for heavy in HEAVY):
        return "too heavy for the plain suite"
    lines: list[str] | None = []
    code = 0
    for stages in parse(example.command):
        prepared = prepare(stages)
        if isinstance(prepared, str):
            return prepared
        result = run(*prepared.argv, stdin=prepared.stdin, env={"COLUMNS": "80", "NO_COLOR": "1"})
        code = result.exit_code
        stdout = result.stdout
        for stage in prepared.after:
            if shutil.which(stage[0]) is None:
                lines = None
                break
            stdout = subprocess.run(stage, input=stdout, capture_output=True, text=True,
                                    timeout=60).stdout
        if lines is not None:
            lines += (result.stderr + stdout).splitlines()
    if lines is not None:
        lines = [line.rstrip() for line in lines]
        while lines and not lines[-1]:
            lines.pop()
    return Ran(code, lines)


def matches(documented: list[str], actual: list[str]) -> bool:
    """``documented`` equals ``actual``, a ``...`` line standing for any run of lines."""
    if not documented:
        return not actual
    head, rest = documented[0].rstrip(), documented[1:]
    if head == ELISION:
        return any(matches(rest, actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and head == actual[0] and matches(rest, actual[1:])


@contextlib.contextmanager
def example_folder() -> Iterator[Path]:
    """A temporary working folder holding the files examples name: config.json, my-arch.toml
    and the inspect checkpoints (tiny-llama, tiny-llama-q4_k_m.gguf, broken.gguf)."""
    from checkpoint_files import LLAMA, llama_shapes, write_gguf, write_safetensors
    from conftest import run

    old = Path.cwd()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        shutil.copy(ROOT / "tests" / "data" / "tiny-gqa.json", path / "config.json")
        write_safetensors(path / "tiny-llama", llama_shapes(), LLAMA, shards=2)
        write_gguf(path / "tiny-llama-q4_k_m.gguf")
        (path / "broken.gguf").write_bytes(b"GGUX")
        spec = run("spec", "export", "llama-2-7b", "--gqa", "8")
        (path / "my-arch.toml").write_text(spec.stdout)
        os.chdir(path)
        try:
            yield path
        finally:
            os.chdir(old)


def _keep_elision(documented: list[str], actual: list[str]) -> list[str]:
    """``actual``, shortened as ``documented`` was: as many lines before and after ``...``."""
    if ELISION not in documented:
        return actual
    head = documented.index(ELISION)
    tail = len(documented) - 1 - max(i for i, line in enumerate(documented) if line == ELISION)
    if head + tail >= len(actual):
        return actual
    return [*actual[:head], ELISION, *actual[len(actual) - tail:]]


def regenerate() -> int:
    """Rewrite every documented output that no longer matches; returns how many changed."""
    changed = 0
    with example_folder():
        for path in DOCS:
            found = [e for e in examples([path]) if e.shows_output and e.output]
            lines = path.read_text().splitlines()
            for example in reversed(found):  # from the bottom, so line numbers stay valid
                ran = run_example(example)
                if isinstance(ran, str) or ran.text is None or matches(example.output, ran.text):
                    continue
                start = example.line + 1
                lines[start:start + len(example.output)] = _keep_elision(example.output, ran.text)
                changed += 1
                print(f"updated {example.name}: {example.command}")
            path.write_text("\n".join(lines) + "\n")
    return changed


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(f"{regenerate()} documented outputs updated")
