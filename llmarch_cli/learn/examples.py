"""Live examples of each topic: figures computed now by llmarch's own analyses and kernels,
each with the command that prints the same figure (``None`` where no command prints it yet:
a closed form evaluated here, stated as such).

Topics about features that may be missing from the spec library (MLA, QK-norm, local/global,
hybrid layers) compute from the presets that have them when there are any, and from a closed
form or a neighbouring preset otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from llmarch_cli.analysis.kvcache import Engine, kv_rows
from llmarch_cli.analysis.params import count_params
from llmarch_cli.learn import library
from llmarch_cli.learn.lang import count_text
from llmarch_cli.learn.library import FEATURE_TESTS, presets_with
from llmarch_cli.learn.results import Example
from llmarch_cli.specs.model import ArchSpec


def figure_text(value: int | float, unit: str, lang: str) -> str:
    """A figure written for ``lang``; ``unit`` is bytes, params, tokens, ratio or number."""
    ja = lang == "ja"
    if unit == "bytes":
        from llmarch_cli.render.units import format_bytes

        return f"{format_bytes(value)} ({value:,} B)"
    if unit == "params":
        return f"{count_text(value, lang)} ({value:,})"
    if unit == "tokens":
        return f"{value:,}トークン" if ja else f"{value:,} tokens"
    if unit == "ratio":
        return f"{value:.2f}倍" if ja else f"{value:.2f}x"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


class _Examples:
    """Collects examples in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.items: list[Example] = []

    def add(self, en: str, ja: str, value: int | float, unit: str, command: str | None,
            note: tuple[str, str] | None = None) -> None:
        text = figure_text(value, unit, self.lang)
        if note:
            text += f" ({note[self.lang == 'ja']})"
        self.items.append(Example(label=ja if self.lang == "ja" else en, result=value, unit=unit,
                                  text=text, command=command))


def _params(model: str):
    return count_params(library.find(model))


def _component(model: str, component: str):
    """The breakdown group ``component`` of ``model`` (first stack that has it)."""
    return next(g for g in _params(model).breakdown if g.component == component)


def _kv(spec: ArchSpec, context: int, engine: str = "minimal"):
    """The KV cache row ``llmarch kvcache`` prints for one fp16 sequence of ``context`` tokens."""
    return kv_rows(spec, [context], engine=Engine(engine))[0]


def _k(tokens: int) -> str:
    """A context as the CLI accepts it: 32768 -> '32k'."""
    return f"{tokens // 1024}k" if tokens % 1024 == 0 else str(tokens)


def _first(topic: str, limit: int = 2, rank: Callable[[ArchSpec], Any] | None = None) -> list[ArchSpec]:
    """Up to ``limit`` presets with the topic's feature, one per family, highest ``rank``
    first (then by id)."""
    specs = [library.find(pid) for pid in presets_with(FEATURE_TESTS[topic])]
    if rank is not None:
        specs.sort(key=rank, reverse=True)  # stable: ties stay in id order
    by_family = {}
    for spec in specs:
        by_family.setdefault(spec.meta.family, spec)
    return list(by_family.values())[:limit]


def _local_share(spec: ArchSpec) -> float:
    types = spec.attention.layer_types or ()
    return types.count("sliding") / len(types) if types else 0.0


def transformer(x: _Examples) -> None:
    for model, en, ja in (
        ("transformer-base", "Parameters of the 2017 Transformer (base)", "2017年のTransformer(base)のパラメータ数"),
        ("gpt2", "Parameters of GPT-2 (decoder only)", "GPT-2(デコーダーのみ)のパラメータ数"),
        ("bert-base-uncased", "Parameters of BERT base (encoder only)", "BERT base(エンコーダーのみ)のパラメータ数"),
        ("t5-base", "Parameters of T5 base (encoder-decoder)", "T5 base(エンコーダー・デコーダー)のパラメータ数"),
    ):
        x.add(en, ja, _params(model).total_params, "params", f"llmarch params {model} --json")


def attention(x: _Examples) -> None:
    q = _component("llama-2-7b", "attention.q")
    x.add("Query projection of one Llama-2-7B layer (4096 x 4096)",
          "Llama-2-7Bの1層あたりのクエリ射影(4096 × 4096)", q.per_layer, "params",
          "llmarch params llama-2-7b --json")
    spec = library.find("gpt2")
    x.add("Head dimension of GPT-2: 768 / 12 heads", "GPT-2のヘッド次元:768 / 12ヘッド",
          spec.attention.head_dim, "number", "llmarch show gpt2 --json")
    n = 4096
    x.add("Scores one head computes for 4,096 tokens (n x n, before the causal mask)",
          "4,096トークンで1ヘッドが計算するスコア数(n × n、因果マスク前)", n * n, "number", None)


def positions(x: _Examples) -> None:
    from llmarch_cli.kernels.positions import alibi_slopes, rope_inv_freq
    from llmarch_cli.specs.model import Rope

    spec = library.find("llama-2-7b")
    rope = spec.positions.rope
    d = spec.attention.head_dim
    inv, _ = rope_inv_freq(Rope(theta=rope.theta, rotary_dim=d), max_positions=8)
    command = f"llmarch kernel rope --head-dim {d} --theta {rope.theta:g} --json"
    for pair in (0, d // 8, d // 4, d // 2 - 1):
        wavelength = float(f"{2 * math.pi / float(inv[pair]):.6g}")
        x.add(f"RoPE of Llama-2-7B: wavelength of rotated pair {pair} (of {d // 2})",
              f"Llama-2-7BのRoPE:回転ペア{pair}(全{d // 2}組)の波長", wavelength, "tokens",
              command)
    slopes = alibi_slopes(8)
    for head in (0, 7):
        x.add(f"ALiBi slope of head {head + 1} of 8", f"ALiBi:8ヘッド中ヘッド{head + 1}の傾き",
              float(f"{float(slopes[head]):.6g}"), "number", "llmarch kernel alibi --heads 8 --json")
    table = _component("gpt2", "embeddings.position")
    x.add("GPT-2's learned position table (1,024 positions x 768)",
          "GPT-2の学習可能な位置埋め込み表(1,024位置 × 768)", table.total, "params",
          "llmarch params gpt2 --json")
    scaling = library.find("llama-3.1-8b").positions.rope.scaling
    x.add("RoPE scaling factor Llama 3.1 needs to reach 128K tokens",
          "Llama 3.1が128Kトークンに届くためのRoPEスケーリング係数", scaling.factor, "number",
          "llmarch show llama-3.1-8b --json")


def llama(x: _Examples) -> None:
    for model in ("llama-7b", "llama-2-70b", "llama-3-8b"):
        x.add(f"Parameters of {model}", f"{model}のパラメータ数", _params(model).total_params,
              "params", f"llmarch params {model} --json")
    spec = library.find("llama-2-7b")
    ratio = spec.ffn.intermediate_size / spec.hidden_size
    x.add("SwiGLU width of Llama-2-7B (about 8/3 of 4,096)", "Llama-2-7BのSwiGLU幅(4,096の約8/3)",
          spec.ffn.intermediate_size, "number", "llmarch show llama-2-7b --json",
          (f"{ratio:.2f} x d", f"{ratio:.2f} × d"))


def qwen(x: _Examples) -> None:
    for model in ("qwen-7b", "qwen2-7b", "qwen2.5-7b"):
        spec = library.find(model)
        x.add(f"KV heads of {model} ({spec.attention.num_heads} query heads)",
              f"{model}のKVヘッド数(クエリヘッド{spec.attention.num_heads})",
              spec.attention.num_kv_heads, "number", f"llmarch show {model} --json")
    spec = library.find("qwen-7b")
    x.add("Embedding rows of Qwen 1 7B (151,851 tokens, padded)", "Qwen 1 7Bの埋め込み行数(151,851トークンをパディング)",
          spec.embeddings.vocab_size, "number",
          "llmarch show qwen-7b --json")


def mistral(x: _Examples) -> None:
    spec = library.find("mistral-7b-v0.1")
    ctx = 32768
    rolling = _kv(spec, ctx).total_bytes
    full = _kv(spec, ctx, "full").total_bytes
    x.add("Mistral-7B-v0.1 KV cache at 32K tokens, rolling buffer of 4,096",
          "Mistral-7B-v0.1のKVキャッシュ(32Kトークン、4,096のローリングバッファ)", rolling, "bytes",
          "llmarch kvcache mistral-7b-v0.1 -c 32k --json")
    x.add("The same with every token kept (no window)", "全トークンを保持した場合(ウィンドウなし)",
          full, "bytes", "llmarch kvcache mistral-7b-v0.1 -c 32k --engine full --json")
    from llmarch_cli.analysis.complexity import complexity_rows

    row = complexity_rows(spec, [ctx], spec.attention.sliding_window)[0]
    complexity = "llmarch complexity mistral-7b-v0.1 --seq 32k --json"
    x.add("Attention score FLOPs over 32K tokens (causal): every key",
          "32Kトークン全体のアテンションスコアのFLOPs(因果):全キー", row.full_attention_flops, "number",
          complexity)
    ratio = row.full_attention_flops / row.window_attention_flops
    x.add("The same with a 4,096-token window", "4,096トークンのウィンドウの場合",
          row.window_attention_flops, "number", complexity,
          (f"{ratio:.2f}x fewer", f"{ratio:.2f}分の1"))
    x.add("Reach after 32 layers of 4,096-token windows (in theory)",
          "4,096トークンのウィンドウを32層重ねた到達距離(理論値)", row.receptive_field_tokens, "tokens",
          complexity)
    v3 = library.find("mistral-7b-v0.3")
    x.add("Mistral-7B-v0.3 (no window) KV cache at 32K tokens",
          "Mistral-7B-v0.3(ウィンドウなし)の32KトークンでのKVキャッシュ", _kv(v3, ctx).total_bytes,
          "bytes", "llmarch kvcache mistral-7b-v0.3 -c 32k --json")


def _total_active(x: _Examples, model: str) -> None:
    p = _params(model)
    x.add(f"{model}: total parameters", f"{model}:総パラメータ数", p.total_params, "params",
          f"llmarch params {model} --json")
    x.add(f"{model}: active parameters per token", f"{model}:1トークンあたりのアクティブパラメータ数",
          p.active_params, "params", f"llmarch params {model} --json")


def gpt_oss(x: _Examples) -> None:
    _total_active(x, "gpt-oss-20b")
    _total_active(x, "gpt-oss-120b")
    spec = library.find("gpt-oss-20b")
    x.add("gpt-oss-20b KV cache at 128K tokens (sliding layers keep 128)",
          "gpt-oss-20bの128KトークンでのKVキャッシュ(スライディング層は128のみ保持)",
          _kv(spec, 131072).total_bytes, "bytes", "llmarch kvcache gpt-oss-20b -c 128k --json")


def encoder_decoder(x: _Examples) -> None:
    spec = library.find("t5-base")
    x.add("T5 base: decoder KV cache at 512 tokens, cross-attention included",
          "T5 base:512トークンでのデコーダーKVキャッシュ(クロスアテンションを含む)",
          _kv(spec, 512).total_bytes, "bytes", "llmarch kvcache t5-base -c 512 --json")
    for model in ("t5-base", "bart-base", "gpt2"):
        x.add(f"Parameters of {model}", f"{model}のパラメータ数", _params(model).total_params,
              "params", f"llmarch params {model} --json")


def ffn(x: _Examples) -> None:
    for model in ("transformer-base", "gpt2", "llama-2-7b", "mistral-7b-v0.1"):
        spec = library.find(model)
        ratio = spec.ffn.intermediate_size / spec.hidden_size
        x.add(f"FFN width of {model} ({spec.ffn.label}, d = {spec.hidden_size:,})",
              f"{model}のFFN幅({spec.ffn.label}、d = {spec.hidden_size:,})",
              spec.ffn.intermediate_size, "number", f"llmarch show {model} --json",
              (f"{ratio:.2f} x d", f"{ratio:.2f} × d"))


def norms(x: _Examples) -> None:
    for model, en, ja in (
        ("gpt2", "LayerNorm (weight and bias)", "LayerNorm(重みとバイアス)"),
        ("llama-2-7b", "RMSNorm (weight only)", "RMSNorm(重みのみ)"),
    ):
        g = _component(model, "norms")
        x.add(f"Norm parameters per layer of {model}: {en}", f"{model}の1層あたりの正規化パラメータ:{ja}",
              g.per_layer, "params", f"llmarch params {model} --json")


def gqa(x: _Examples) -> None:
    spec = library.find("llama-2-70b")
    heads = spec.attention.num_heads  # the --mha what-if: one KV head per query head
    mha = spec.model_copy(update={"attention": spec.attention.model_copy(update={"num_kv_heads": heads})})
    with_gqa = _kv(spec, 4096).total_bytes
    without = _kv(mha, 4096).total_bytes
    x.add("Llama-2-70B KV cache at 4K tokens, GQA (8 KV heads)",
          "Llama-2-70Bの4KトークンでのKVキャッシュ、GQA(KVヘッド8)", with_gqa, "bytes",
          "llmarch kvcache llama-2-70b -c 4k --json")
    x.add("The same without GQA (64 KV heads)", "GQAなし(KVヘッド64)の場合", without, "bytes",
          "llmarch kvcache llama-2-70b -c 4k --mha --json")
    x.add("Saving", "削減率", without / with_gqa, "ratio", None)
    spec = library.find("llama-3-70b")
    x.add("KV heads of Llama-3-70B", "Llama-3-70BのKVヘッド数", spec.attention.num_kv_heads, "number",
          "llmarch show llama-3-70b --json")


def moe(x: _Examples) -> None:
    _total_active(x, "mixtral-8x7b")
    dense = _params("mistral-7b-v0.1").total_params
    x.add("For comparison: one Mistral 7B, whose attention Mixtral shares across its 8 experts",
          "比較:Mistral 7B単体(Mixtralは8個のエキスパートでアテンションを共有)", dense, "params",
          "llmarch params mistral-7b-v0.1 --json",
          (f"8 copies: {count_text(8 * dense, 'en')}", f"8個分:{count_text(8 * dense, 'ja')}"))


def lora(x: _Examples) -> None:
    from llmarch_cli.analysis.training import trainable_params, training_memory

    spec = library.find("llama-2-7b")
    trained = trainable_params(spec, "lora")
    total = count_params(spec).total_params
    x.add("LoRA r=8 on every linear layer of Llama-2-7B: trainable parameters",
          "Llama-2-7Bの全線形層にLoRA r=8:学習するパラメータ数", trained, "params",
          "llmarch memory llama-2-7b --train lora --json",
          (f"{100 * trained / total:.2f} % of {count_text(total, 'en')}",
           f"{count_text(total, 'ja')}の{100 * trained / total:.2f} %"))
    big = library.find("llama-65b")
    x.add("QLoRA of LLaMA-65B (4-bit NF4 base, r=8): training memory for one 512-token sequence",
          "LLaMA-65BのQLoRA(4ビットNF4ベース、r=8):512トークンの系列1本の学習メモリ",
          training_memory(big, mode="qlora", context=512).total_bytes, "bytes",
          "llmarch memory llama-65b --train qlora -c 512 --json")


def compare(x: _Examples) -> None:
    for model in ("llama-2-7b", "qwen2.5-7b", "mistral-7b-v0.1", "bloom", "gpt-oss-20b"):
        spec = library.find(model)
        x.add(f"KV cache per token of {model} (fp16)", f"{model}の1トークンあたりKVキャッシュ(fp16)",
              _kv(spec, 4096).bytes_per_token, "bytes", f"llmarch kvcache {model} -c 4k --json")


def choosing(x: _Examples) -> None:
    from llmarch_cli.analysis.memory import inference_memory

    spec = library.find("mixtral-8x7b")
    x.add("Mixtral 8x7B weights in bf16: every expert stays in memory",
          "Mixtral 8x7Bのbf16重み:全エキスパートがメモリに載る",
          inference_memory(spec).weights_bytes, "bytes", "llmarch memory mixtral-8x7b --json")
    x.add("Parameters of BERT base, the classic encoder for understanding tasks",
          "理解タスクの定番エンコーダーBERT baseのパラメータ数",
          _params("bert-base-uncased").total_params, "params", "llmarch params bert-base-uncased --json")


def mla(x: _Examples) -> None:
    specs = _first("mla", 1, rank=lambda s: (s.id == "deepseek-v3", s.num_layers))  # the example
    for spec in specs:
        latent = _kv(spec, 32768).total_bytes
        full = _kv(spec, 32768, "full").total_bytes
        x.add(f"{spec.id}: cache at 32K tokens, latent (as vLLM and SGLang keep it)",
              f"{spec.id}:32Kトークンのキャッシュ(潜在ベクトル、vLLM/SGLang方式)", latent, "bytes",
              f"llmarch kvcache {spec.id} -c 32k --json")
        x.add(f"{spec.id}: the same decompressed into per-head K and V (eager transformers)",
              f"{spec.id}:ヘッドごとのK・Vに展開した場合(transformersのeager実装)", full, "bytes",
              f"llmarch kvcache {spec.id} -c 32k --engine full --json",
              (f"{full / latent:.1f}x the latent", f"潜在ベクトルの{full / latent:.1f}倍"))
    if not specs:  # DeepSeek-V3's published dimensions (paper §2.1, config.json)
        layers, latent, rope, heads, nope, v, ctx = 61, 512, 64, 128, 128, 128, 32768
        x.add("DeepSeek-V3 from its published dimensions: 32K tokens of latent, 61 x (512 + 64) x 2 B each",
              "DeepSeek-V3の公開次元から:32Kトークン分の潜在キャッシュ(1トークン 61 × (512 + 64) × 2 B)",
              layers * (latent + rope) * 2 * ctx, "bytes", None)
        x.add("Decompressed: 61 x 128 heads x (192 for K + 128 for V) x 2 B per token",
              "展開した場合:1トークン 61 × 128ヘッド × (Kの192 + Vの128) × 2 B",
              layers * heads * (nope + rope + v) * 2 * ctx, "bytes", None)
    spec = library.find("llama-3-70b")
    x.add("For comparison: Llama-3-70B (GQA, 8 KV heads) at 32K tokens",
          "比較:Llama-3-70B(GQA、KVヘッド8)の32Kトークン",
          _kv(spec, 32768).total_bytes, "bytes", "llmarch kvcache llama-3-70b -c 32k --json")


def qk_norm(x: _Examples) -> None:
    specs = _first("qk-norm", 1) or [library.find("llama-3-8b")]
    spec = specs[0]
    d = spec.attention.head_dim
    x.add(f"Head dimension of {spec.id}", f"{spec.id}のヘッド次元", d, "number",
          f"llmarch show {spec.id} --json")
    x.add(f"Largest possible logit with unit-gain QK-norm: sqrt({d})",
          f"ゲイン1のQK-normで取りうる最大ロジット:√{d}", float(f"{math.sqrt(d):.6g}"), "number", None)


def local_global(x: _Examples) -> None:
    for spec in _first("local-global", rank=_local_share):
        types = spec.attention.layer_types or ()
        ctx = 131072 if spec.max_context >= 131072 else spec.max_context
        local = types.count("sliding")
        x.add(f"{spec.id}: window of its {local} local layers (of {len(types)})",
              f"{spec.id}:全{len(types)}層中{local}層のローカル層のウィンドウ",
              spec.attention.sliding_window, "tokens", f"llmarch show {spec.id} --json")
        x.add(f"{spec.id}: KV cache at {ctx:,} tokens", f"{spec.id}:{ctx:,}トークンでのKVキャッシュ",
              _kv(spec, ctx).total_bytes, "bytes", f"llmarch kvcache {spec.id} -c {_k(ctx)} --json")
        x.add("The same if every layer were global", "全層がグローバルだった場合",
              _kv(spec, ctx, "full").total_bytes, "bytes",
              f"llmarch kvcache {spec.id} -c {_k(ctx)} --engine full --json")
    if x.items:
        return
    spec = library.find("mistral-7b-v0.1")  # every layer local: the other end of the pattern
    ctx, w, per_layer = 131072, spec.attention.sliding_window, _kv(spec, 4096).bytes_per_token // spec.num_layers
    x.add("Mistral-7B-v0.1 (all 32 layers local, window 4,096): KV cache at 131,072 tokens",
          "Mistral-7B-v0.1(32層すべてローカル、ウィンドウ4,096):131,072トークンでのKVキャッシュ",
          _kv(spec, ctx).total_bytes, "bytes", "llmarch kvcache mistral-7b-v0.1 -c 128k --json")
    x.add("The same layers alternating local and global (1:1)", "同じ層をローカルとグローバルで交互にした場合(1:1)",
          spec.num_layers // 2 * per_layer * (w + ctx), "bytes", None)


def hybrid(x: _Examples) -> None:
    specs = _first("hybrid")
    for spec in specs:
        x.add(f"{spec.id}: cache at 32K tokens", f"{spec.id}:32Kトークンでのキャッシュ",
              _kv(spec, 32768).total_bytes, "bytes", f"llmarch kvcache {spec.id} -c 32k --json")
    if specs:
        return
    spec = library.find("llama-3-8b")
    per_token = _kv(spec, 4096).bytes_per_token
    x.add("Llama-3-8B, attention in all 32 layers: KV per token",
          "Llama-3-8B(32層すべてアテンション):1トークンあたりKV", per_token, "bytes",
          "llmarch kvcache llama-3-8b -c 4k --json")
    x.add("The same stack with attention in 1 layer of 8 (as Jamba): KV per token",
          "8層に1層だけアテンションにした場合(Jamba型):1トークンあたりKV", per_token // 8, "bytes", None)


BUILDERS: dict[str, Callable[[_Examples], None]] = {
    "transformer": transformer, "attention": attention, "positions": positions, "llama": llama,
    "qwen": qwen, "mistral": mistral, "gpt-oss": gpt_oss, "encoder-decoder": encoder_decoder,
    "ffn": ffn, "norms": norms, "gqa": gqa, "moe": moe, "lora": lora, "compare": compare,
    "choosing": choosing, "mla": mla, "qk-norm": qk_norm, "local-global": local_global,
    "hybrid": hybrid,
}


def examples(topic: str, lang: str) -> list[Example]:
    """The live examples of ``topic`` in ``lang``."""
    collected = _Examples(lang)
    BUILDERS[topic](collected)
    return collected.items
