"""The quiz: questions generated at run time from the spec library and the analyses.

The bank is every (fact, subject) pair the library supports today: a fact is one generator
below (KV heads, KV cache size, positional encoding, ...), a subject the preset(s) it asks
about. A quiz draws ``count`` of them with ``random.Random(seed)``, one fact after another so
that kinds mix, and the same seed gives the same quiz, and each question's wording, choices and answer come from the specs then.
Questions about features the library lacks today (MLA, QK-norm, hybrid layers) join the bank
as soon as presets with them exist.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from llmarch_cli.errors import LlmarchError
from llmarch_cli.learn import library
from llmarch_cli.learn.lang import count_text
from llmarch_cli.learn.library import FEATURE_TESTS
from llmarch_cli.learn.results import GradedQuestion, Question
from llmarch_cli.specs.model import ArchSpec

LETTERS = "abcdefgh"
KV_CONTEXTS = (4096, 32768, 131072)
LORA_RANK = 8
NUMBER = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*\S*\s*$")

POSITION_NAMES = {
    "sinusoidal": {"en": "Fixed sinusoidal vectors", "ja": "固定のサイン波ベクトル"},
    "learned": {"en": "Learned absolute position vectors", "ja": "学習型の絶対位置ベクトル"},
    "rope": {"en": "RoPE (rotary)", "ja": "RoPE(回転位置埋め込み)"},
    "alibi": {"en": "ALiBi (linear distance bias)", "ja": "ALiBi(距離に比例するバイアス)"},
    "relative_buckets": {"en": "T5 relative position buckets", "ja": "T5の相対位置バケット"},
}
NORM_NAMES = {
    ("layernorm", "pre"): {"en": "LayerNorm, pre-norm", "ja": "LayerNorm(プレノルム)"},
    ("layernorm", "post"): {"en": "LayerNorm, post-norm", "ja": "LayerNorm(ポストノルム)"},
    ("rmsnorm", "pre"): {"en": "RMSNorm, pre-norm", "ja": "RMSNorm(プレノルム)"},
    ("rmsnorm", "post"): {"en": "RMSNorm, post-norm", "ja": "RMSNorm(ポストノルム)"},
}
FFN_NAMES = {"RELU": "ReLU MLP", "GELU": "GELU MLP", "SwiGLU": "SwiGLU", "GeGLU": "GeGLU"}
FEATURE_NAMES = {
    "moe": {"en": "a mixture of experts", "ja": "MoE(Mixture of Experts)"},
    "mla": {"en": "multi-head latent attention (MLA)", "ja": "マルチヘッド潜在アテンション(MLA)"},
    "qk-norm": {"en": "QK-norm", "ja": "QK-norm"},
    "local-global": {"en": "interleaved local and global attention layers",
                     "ja": "ローカル層とグローバル層の組み合わせ"},
    "hybrid": {"en": "hybrid attention / linear-attention or state-space layers",
               "ja": "アテンションと線形アテンション/状態空間層のハイブリッド"},
}
# a numeric answer in one of these units is the raw figure divided by the scale
SCALES = {"B": 10**9, "億": 10**8, "M": 10**6, "万": 10**4, "GiB": 2**30, "MiB": 2**20}


def ffn_name(spec: ArchSpec) -> str:
    """The FFN kind as a quiz choice: ReLU MLP, GELU MLP, SwiGLU or GeGLU."""
    label = spec.ffn.label.split()[0].replace("GELU-TANH", "GELU")
    return FFN_NAMES.get(label, label)


@dataclass(frozen=True)
class _Item:
    fact: str
    topic: str
    subject: tuple[tuple[str, Any], ...]


@dataclass
class _Draft:
    """A question before it becomes a ``Question``: wording and explanation in both languages."""

    question: dict[str, str]
    explanation: dict[str, str]
    choices: list[dict[str, str]] | None = None
    correct: int = 0
    value: float = 0.0
    unit: dict[str, str] | None = None
    tolerance: float = 0.0


def _decoders() -> list[ArchSpec]:
    return [s for s in library.all_specs() if s.architecture == "decoder"]


def _classic_attention(spec: ArchSpec) -> bool:
    """Per-head K/V caches on full or sliding layers only (no MLA latent, no recurrent
    state): the models the KV-head, KV-size and LoRA questions are about."""
    return (spec.architecture == "decoder" and not {"mla", "hybrid", "ssm"} & set(spec.features)
            and set(spec.attention.layer_types or ()) <= {"full", "sliding"})


def _name(spec: ArchSpec) -> str:
    """The model as a question names it (its id appears in the explanation's command)."""
    return spec.meta.name


def _see(spec: ArchSpec, topic: str, lang: str) -> str:
    """Where to check the answer and read more."""
    if lang == "ja":
        return f"確認:llmarch show {spec.id}、参照:llmarch explain {topic}"
    return f"Check: llmarch show {spec.id}; see: llmarch explain {topic}"


def _mc(rng: random.Random, names: dict[Any, dict[str, str]], right: Any) -> tuple[list[dict[str, str]], int]:
    """Shuffled choices: the name of ``right`` among up to three other ``names``;
    (choices, index of the right one)."""
    wrong = [name for key, name in names.items() if key != right]
    choices = [names[right], *rng.sample(wrong, min(3, len(wrong)))]
    rng.shuffle(choices)
    return choices, choices.index(names[right])


def _same(text: str) -> dict[str, str]:
    return {"en": text, "ja": text}


# ---- generators: (spec library subject, rng) -> _Draft --------------------------------------

def _pick(spec: ArchSpec, rng: random.Random, names: dict[Any, dict[str, str]], right: Any,
          question: dict[str, str], answer: dict[str, str], topic: str) -> _Draft:
    """A multiple-choice question on ``spec``: ``right`` among ``names``, explained by
    ``answer`` and where to check it and read more (``topic``)."""
    choices, correct = _mc(rng, names, right)
    return _Draft(
        question=question,
        explanation={"en": f"{answer['en']}. {_see(spec, topic, 'en')}",
                     "ja": f"{answer['ja']}です。{_see(spec, topic, 'ja')}"},
        choices=choices, correct=correct)


def _kv_heads(s: dict[str, Any], rng: random.Random) -> _Draft:
    spec = library.find(s["model"])
    a = spec.attention
    return _Draft(
        question={"en": f"How many key/value heads does {_name(spec)} have per layer?",
                  "ja": f"{_name(spec)}の1層あたりのキー/バリューヘッド数はいくつですか?"},
        explanation={
            "en": f"{a.num_kv_heads} KV heads for {a.num_heads} query heads ({a.kind}): the KV cache is "
                  f"{a.num_kv_heads}/{a.num_heads} of a multi-head cache. Check: llmarch show {spec.id}",
            "ja": f"クエリヘッド{a.num_heads}個に対してKVヘッドは{a.num_kv_heads}個({a.kind})で、KVキャッシュは"
                  f"MHAの{a.num_kv_heads}/{a.num_heads}です。確認:llmarch show {spec.id}"},
        value=a.num_kv_heads, unit={"en": "", "ja": ""})


def _kv_cache(s: dict[str, Any], rng: random.Random) -> _Draft:
    from llmarch_cli.analysis.kvcache import kv_cache_bytes

    spec = library.find(s["model"])
    ctx = s["context_tokens"]
    size = kv_cache_bytes(spec, ctx)
    unit = "GiB" if size >= 2**30 else "MiB"
    amount = size / SCALES[unit]
    window = (" (sliding-window layers keep only their window)", "(スライディングウィンドウ層はウィンドウ分のみ保持)") \
        if spec.attention.sliding_window else ("", "")
    return _Draft(
        question={"en": f"What is the KV cache of {_name(spec)} for one sequence of {ctx:,} tokens "
                        f"in fp16{window[0]}, in {unit}?",
                  "ja": f"{_name(spec)}で{ctx:,}トークンの系列1本をfp16で保持するときのKVキャッシュは"
                        f"何{unit}ですか{window[1]}?"},
        explanation={
            "en": f"{size:,} B = {amount:.2f} {unit}: 2 x {spec.num_layers} layers x {spec.attention.num_kv_heads} KV heads x "
                  f"{spec.attention.head_dim} dims x 2 B per token held. Check: llmarch kvcache {spec.id} -c {ctx}",
            "ja": f"{size:,} B = {amount:.2f} {unit} です。保持するトークンごとに 2 × {spec.num_layers}層 × KVヘッド"
                  f"{spec.attention.num_kv_heads} × {spec.attention.head_dim}次元 × 2 B。確認:llmarch kvcache {spec.id} -c {ctx}"},
        value=size, unit={"en": unit, "ja": unit}, tolerance=0.02)


def _position(s: dict[str, Any], rng: random.Random) -> _Draft:
    spec = library.find(s["model"])
    kind = spec.positions.kind
    return _pick(spec, rng, POSITION_NAMES, kind,
                 {"en": f"Which positional encoding does {_name(spec)} use?",
                  "ja": f"{_name(spec)}が使う位置エンコーディングはどれですか?"},
                 {"en": f"{spec.meta.name}: {POSITION_NAMES[kind]['en']}",
                  "ja": f"{spec.meta.name}は{POSITION_NAMES[kind]['ja']}"}, "positions")


def _which(s: dict[str, Any], rng: random.Random) -> _Draft:
    """Which of four presets has a property (encoder-decoder, MoE, MLA, ...)."""
    right = library.find(s["model"])
    choices, correct = _mc(rng, {m: _same(m) for m in (right.id, *s["others"])}, right.id)
    feature = s["feature"]
    if feature == "encoder-decoder":
        what = {"en": "is an encoder-decoder", "ja": "エンコーダー・デコーダーのモデル"}
        why = {"en": f"{right.meta.name} has an encoder of {right.num_layers} layers and a decoder of "
                     f"{right.num_decoder_layers}; the others are one stack.",
               "ja": f"{right.meta.name}は{right.num_layers}層のエンコーダーと{right.num_decoder_layers}層の"
                     "デコーダーを持ち、他は1つのスタックです。"}
    else:
        what = {"en": f"uses {FEATURE_NAMES[feature]['en']}", "ja": f"{FEATURE_NAMES[feature]['ja']}を使うモデル"}
        why = {"en": f"{right.meta.name} uses {FEATURE_NAMES[feature]['en']}; the others do not.",
               "ja": f"{right.meta.name}は{FEATURE_NAMES[feature]['ja']}を使い、他は使いません。"}
    return _Draft(
        question={"en": f"Which of these {what['en']}?", "ja": f"次のうち{what['ja']}はどれですか?"},
        explanation={"en": f"{why['en']} Check: llmarch show {right.id}",
                     "ja": f"{why['ja']}確認:llmarch show {right.id}"},
        choices=choices, correct=correct)


def _params_question(s: dict[str, Any], active: bool) -> _Draft:
    from llmarch_cli.analysis.params import count_params

    spec = library.find(s["model"])
    counts = count_params(spec)
    n = counts.active_params if active else counts.total_params
    what = ("active parameters per token", "1トークンあたりのアクティブパラメータ") if active \
        else ("parameters in total", "総パラメータ")
    total = counts.total_params
    extra = {"en": f" of {count_text(total, 'en')} in total", "ja": f"(総数{count_text(total, 'ja')}のうち)"} \
        if active else {"en": "", "ja": ""}
    return _Draft(
        question={"en": f"How many {what[0]} does {_name(spec)} have, in billions?",
                  "ja": f"{_name(spec)}の{what[1]}は何億ですか?"},
        explanation={"en": f"{n:,} ({count_text(n, 'en')}){extra['en']}. Check: llmarch params {spec.id}",
                     "ja": f"{n:,}({count_text(n, 'ja')}){extra['ja']}です。確認:llmarch params {spec.id}"},
        value=n, unit={"en": "B", "ja": "億"}, tolerance=0.02)


def _active(s: dict[str, Any], rng: random.Random) -> _Draft:
    return _params_question(s, active=True)


def _total(s: dict[str, Any], rng: random.Random) -> _Draft:
    return _params_question(s, active=False)


def _attention_kind(s: dict[str, Any], rng: random.Random) -> _Draft:
    spec = library.find(s["model"])
    a = spec.attention
    return _pick(spec, rng, {k: _same(k) for k in ("MHA", "GQA", "MQA")}, a.kind,
                 {"en": f"Which attention does {_name(spec)} use?",
                  "ja": f"{_name(spec)}のアテンションはどれですか?"},
                 {"en": f"{a.num_heads} query heads and {a.num_kv_heads} KV heads: {a.kind}",
                  "ja": f"クエリヘッド{a.num_heads}個、KVヘッド{a.num_kv_heads}個なので{a.kind}"}, "gqa")


def _norm(s: dict[str, Any], rng: random.Random) -> _Draft:
    spec = library.find(s["model"])
    key = (spec.norm.kind, spec.norm.placement)
    return _pick(spec, rng, NORM_NAMES, key,
                 {"en": f"Which normalisation does {_name(spec)} use, and where?",
                  "ja": f"{_name(spec)}の正規化の種類と位置はどれですか?"},
                 NORM_NAMES[key], "norms")


def _ffn(s: dict[str, Any], rng: random.Random) -> _Draft:
    spec = library.find(s["model"])
    name = ffn_name(spec)
    ratio = spec.ffn.intermediate_size / spec.hidden_size
    return _pick(spec, rng, {v: _same(v) for v in FFN_NAMES.values()}, name,
                 {"en": f"Which feed-forward block does {_name(spec)} use?",
                  "ja": f"{_name(spec)}のフィードフォワードブロックはどれですか?"},
                 {"en": f"{name}, {spec.ffn.intermediate_size:,} wide ({ratio:.2f} x d)",
                  "ja": f"{name}で、幅は{spec.ffn.intermediate_size:,}({ratio:.2f} × d)"}, "ffn")


def _ffn_ratio(s: dict[str, Any], rng: random.Random) -> _Draft:
    spec = library.find(s["model"])
    ratio = spec.ffn.intermediate_size / spec.hidden_size
    return _Draft(
        question={"en": f"The FFN of {_name(spec)} is how many times wider than its hidden size?",
                  "ja": f"{_name(spec)}のFFNの幅は隠れ次元の何倍ですか?"},
        explanation={"en": f"{spec.ffn.intermediate_size:,} / {spec.hidden_size:,} = {ratio:.3f} ({spec.ffn.label}). "
                           "Gated FFNs use about 8/3; plain ones 4.",
                     "ja": f"{spec.ffn.intermediate_size:,} / {spec.hidden_size:,} = {ratio:.3f}({spec.ffn.label})です。"
                           "ゲート付きFFNは約8/3倍、通常のFFNは4倍が目安です。"},
        value=round(ratio, 4), unit={"en": "x", "ja": "倍"}, tolerance=0.02)


def _window(s: dict[str, Any], rng: random.Random) -> _Draft:
    spec = library.find(s["model"])
    w = spec.attention.sliding_window or 0
    if w:
        types = spec.attention.layer_types
        sliding = types.count("sliding") if types else spec.num_layers
        why = {"en": f"{w:,} tokens, on {sliding} of {spec.num_layers} layers.",
               "ja": f"{w:,}トークンで、{spec.num_layers}層中{sliding}層に適用されます。"}
    else:
        why = {"en": "No sliding window: every layer attends to the whole context.",
               "ja": "スライディングウィンドウはなく、全層がコンテキスト全体を参照します。"}
    return _Draft(
        question={"en": f"How many keys does a query see in the sliding-window layers of {_name(spec)}, "
                        "or 0 if it has none?",
                  "ja": f"{_name(spec)}のスライディングウィンドウ層で、1つのクエリが参照するキーは何個ですか?"
                        "ウィンドウがなければ0と答えてください。"},
        explanation={"en": f"{why['en']} {_see(spec, 'mistral', 'en')}", "ja": f"{why['ja']}{_see(spec, 'mistral', 'ja')}"},
        value=w, unit={"en": "tokens", "ja": "トークン"})


def _lora(s: dict[str, Any], rng: random.Random) -> _Draft:
    from llmarch_cli.analysis.training import trainable_params

    spec = library.find(s["model"])
    n = trainable_params(spec, "lora", LORA_RANK)
    return _Draft(
        question={"en": f"LoRA with rank {LORA_RANK} on every linear layer of {_name(spec)} "
                        "(PEFT all-linear): how many parameters are trained, in millions?",
                  "ja": f"{_name(spec)}の全線形層(PEFTのall-linear)にランク{LORA_RANK}のLoRAを付けると、"
                        "学習するパラメータは何万個ですか?"},
        explanation={"en": f"{n:,}: r x (in + out) per adapted matrix. Check: llmarch memory {spec.id} --train lora",
                     "ja": f"{n:,}個です(適用する行列ごとに r × (in + out))。確認:llmarch memory {spec.id} --train lora"},
        value=n, unit={"en": "M", "ja": "万"}, tolerance=0.02)


@dataclass(frozen=True)
class _Fact:
    topic: str
    make: Callable[[dict[str, Any], random.Random], _Draft]
    subjects: Callable[[], list[dict[str, Any]]]


def _models(specs: list[ArchSpec]) -> list[dict[str, Any]]:
    return [{"model": s.id} for s in specs]


def _which_subjects(feature: str, test: Callable[[ArchSpec], bool]) -> list[dict[str, Any]]:
    """One subject per preset passing ``test``, with three presets failing it (from other
    families, chosen by a fixed rule so the bank is the same every run)."""
    specs = library.all_specs()
    failing = [s for s in specs if not test(s)]
    subjects = []
    for spec in (s for s in specs if test(s)):
        pool = sorted({s.meta.family: s.id for s in failing if s.meta.family != spec.meta.family}.values())
        if len(pool) >= 3:
            picks = random.Random(f"{feature}:{spec.id}").sample(pool, 3)
            subjects.append({"model": spec.id, "feature": feature, "others": sorted(picks)})
    return subjects


def _kv_subjects() -> list[dict[str, Any]]:
    return [{"model": s.id, "context_tokens": c} for s in library.all_specs() if _classic_attention(s)
            for c in KV_CONTEXTS if c <= s.max_context]


def _windowed_families() -> list[ArchSpec]:
    windowed = {s.meta.family for s in _decoders() if s.attention.sliding_window}
    return [s for s in _decoders() if s.meta.family in windowed]


FACTS: dict[str, _Fact] = {
    "kv_heads": _Fact("gqa", _kv_heads, lambda: _models([s for s in library.all_specs() if _classic_attention(s)])),
    "kv_cache": _Fact("gqa", _kv_cache, _kv_subjects),
    "attention_kind": _Fact("gqa", _attention_kind,
                            lambda: _models([s for s in library.all_specs() if _classic_attention(s)])),
    "position_kind": _Fact("positions", _position,
                           lambda: _models([s for s in library.all_specs() if s.positions.kind in POSITION_NAMES])),
    "encoder_decoder": _Fact("encoder-decoder", _which,
                             lambda: _which_subjects("encoder-decoder", FEATURE_TESTS["encoder-decoder"])),
    "active_params": _Fact("moe", _active, lambda: _models([s for s in library.all_specs() if s.moe is not None])),
    "total_params": _Fact("compare", _total, lambda: _models(_decoders())),
    "norm": _Fact("norms", _norm, lambda: _models([s for s in library.all_specs()
                                                   if (s.norm.kind, s.norm.placement) in NORM_NAMES])),
    "ffn_kind": _Fact("ffn", _ffn, lambda: _models([s for s in library.all_specs() if ffn_name(s) in FFN_NAMES.values()])),
    "ffn_ratio": _Fact("ffn", _ffn_ratio, lambda: _models([s for s in _decoders() if s.moe is None])),
    "sliding_window": _Fact("mistral", _window, lambda: _models(_windowed_families())),
    "lora_params": _Fact("lora", _lora, lambda: _models([s for s in library.all_specs()
                                                         if _classic_attention(s) and s.moe is None])),
    **{f"which_{topic}": _Fact(topic, _which, lambda topic=topic: _which_subjects(topic, FEATURE_TESTS[topic]))
       for topic in FEATURE_NAMES},
}


def bank(topic: str | None = None) -> list[_Item]:
    """Every question the library supports now (for one topic, or all), in a fixed order."""
    items = []
    for fact, spec in FACTS.items():
        if topic is None or spec.topic == topic:
            items += [_Item(fact, spec.topic, tuple(s.items())) for s in spec.subjects()]
    return items


def _question(item: _Item, rng: random.Random, lang: str) -> Question:
    subject = dict(item.subject)
    d = FACTS[item.fact].make(subject, rng)
    if d.choices is not None:
        choices = [c[lang] for c in d.choices]
        return Question(topic=item.topic, kind="choice", question=d.question[lang], choices=choices,
                        answer=LETTERS[d.correct], answer_text=f"{LETTERS[d.correct]}) {choices[d.correct]}",
                        tolerance=0.0, unit="", explanation=d.explanation[lang], fact=item.fact,
                        subject=subject)
    unit = d.unit[lang] if d.unit else ""
    value = d.value / SCALES[unit] if unit in SCALES else d.value
    answer: float | int = value if isinstance(value, int) else round(value, 4)
    shown = f"{answer:,}" if isinstance(answer, int) else f"{answer:,.2f}"
    return Question(topic=item.topic, kind="number", question=d.question[lang], choices=None,
                    answer=answer, answer_text=f"{shown}{' ' if unit.isascii() else ''}{unit}".strip(),
                    tolerance=d.tolerance,
                    unit=unit, explanation=d.explanation[lang], fact=item.fact, subject=subject)


def make_quiz(count: int, seed: int, topic: str | None, lang: str) -> list[Question]:
    """``count`` questions drawn from the bank with ``seed`` (same seed, same quiz), taking
    each kind of question in turn."""
    items = bank(topic)
    where = f" about {topic}" if topic else ""
    if not items:
        raise LlmarchError(f"no quiz questions{where} yet: the spec library has no presets for it")
    if not 1 <= count <= len(items):
        raise LlmarchError(f"--count must be between 1 and {len(items)} (the questions{where} in the bank), "
                           f"got {count}")
    rng = random.Random(seed)
    by_fact: dict[str, list[_Item]] = {}
    for item in items:
        by_fact.setdefault(item.fact, []).append(item)
    for group in by_fact.values():
        rng.shuffle(group)
    facts = sorted(by_fact)
    rng.shuffle(facts)
    chosen: list[_Item] = []
    while len(chosen) < count:  # one question per kind in turn, so a quiz mixes them
        chosen += [by_fact[f].pop() for f in facts if by_fact[f]][: count - len(chosen)]
    return [_question(item, random.Random(f"{seed}:{i}"), lang) for i, item in enumerate(chosen)]


def parse_answer(question: Question, text: str) -> str:
    """The answer as typed, normalised (a letter, or a number without separators; full-width
    forms from a Japanese input method read as ASCII); ValueError with a short reason when it
    cannot be an answer to ``question``."""
    given = unicodedata.normalize("NFKC", text).strip().lower()
    if question.kind == "choice":
        letters = LETTERS[: len(question.choices or ())]
        if len(given) != 1 or given not in letters:
            raise ValueError(f"expected one of {', '.join(letters)}")
        return given
    match = NUMBER.match(given.replace("_", "").replace(",", ""))
    if not match:
        raise ValueError("expected a number")
    return match.group(1)


def is_correct(question: Question, given: str) -> bool:
    """True when ``given`` (from ``parse_answer``) is right: the letter, or a number within
    the relative tolerance (exact for counts)."""
    if question.kind == "choice":
        return given == question.answer
    expected = float(question.answer)
    return abs(float(given) - expected) <= question.tolerance * abs(expected) + 1e-9


def grade_all(questions: list[Question], answers: str) -> list[GradedQuestion]:
    """``--answers a,3,...`` checked against the questions and graded."""
    given = [a.strip() for a in answers.split(",")]
    if len(given) != len(questions):
        raise LlmarchError(f"--answers has {len(given)} answer(s) for {len(questions)} question(s): "
                           "give one per question, comma-separated")
    graded = []
    for index, (q, text) in enumerate(zip(questions, given, strict=True), start=1):
        try:
            value = parse_answer(q, text)
        except ValueError as exc:
            raise LlmarchError(f"--answers: answer {index} {text!r}: {exc}") from None
        graded.append(GradedQuestion(**q.model_dump(), given=value, correct=is_correct(q, value)))
    return graded
