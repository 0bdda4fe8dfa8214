"""One view per result: how each command's result looks, as a ``Page`` (``render.page``).

A view picks columns, titles and labels, and humanises where a row mixes units; it computes
nothing (every number comes in the result).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llmarch_cli.render.formats import header, humanise
from llmarch_cli.render.page import Page, Section
from llmarch_cli.render.units import format_bytes, format_count

if TYPE_CHECKING:
    from llmarch_cli.analysis.params_results import ParamsResult
    from llmarch_cli.analysis.results import (
        CompareResult,
        DiffResult,
        FitRow,
        KvCacheRow,
        MemoryResult,
        MemoryTerm,
        PresetRow,
    )
    from llmarch_cli.specs.model import ArchSpec


def _one_or_list(items: list[Any]) -> Any:
    """JSON: one object for one result, a list for several."""
    return items[0] if len(items) == 1 else items


def explanation(terms: Sequence[MemoryTerm], heading: str | None = None) -> list[str]:
    """``--explain``: four lines at most per term (name and size, formula, inputs, assumption)."""
    lines = [heading] if heading else []
    for t in terms:
        lines.append(f"{t.name}: {format_bytes(t.bytes)} ({t.bytes:,} B)")
        lines.append(f"  formula: {t.formula}")
        lines.append(f"  inputs: {t.inputs}")
        if t.assumption:
            lines.append(f"  assumption: {t.assumption}")
    return lines


# params --------------------------------------------------------------------------------------
PARAMS_SUMMARY = ("total_params", "active_params", "embedding_params", "lm_head_params",
                  "non_embedding_params")
BREAKDOWN_COLUMNS = {"stack": "Stack", "component": "Component", "per_layer": "Per layer (params)",
                     "layers": "Layers", "total": "Total (params)"}


def params_view(results: Sequence[ParamsResult], breakdown: bool) -> Page:
    """JSON: the results with their breakdown; csv/tsv: a summary row per model, or the
    breakdown rows; tables: the summary (SI and exact) and the breakdown per model."""
    groups = [{"model": r.model, **g.model_dump()} for r in results for g in r.breakdown]
    summaries = [r.model_dump(exclude={"breakdown"}) for r in results]
    sections = []
    for r in results:
        rows = [{"count": header(k), "params": format_count(getattr(r, k)), "exact": getattr(r, k)}
                for k in PARAMS_SUMMARY]
        sections.append(Section(rows, {"count": "", "params": "Params (SI)", "exact": "Exact"},
                                title=f"{r.model} parameters"))
        if breakdown:
            sections.append(Section([g.model_dump() for g in r.breakdown], BREAKDOWN_COLUMNS,
                                    title="Breakdown"))
    data = [r.model_dump(mode="json") for r in results]
    return Page(_one_or_list(data), groups if breakdown else summaries, sections=sections, jsonl=data)


# kvcache -------------------------------------------------------------------------------------
KV_COLUMNS = {
    "model": "Model", "context": "Context", "batch": "Batch", "kv_dtype": "KV dtype",
    "num_kv_heads": "KV heads", "sliding_window": "Window", "bytes_per_token": "Per token (B)",
    "state_bytes": "State (IEC)", "total_bytes": "Total (IEC)", "baseline_total_bytes": "Baseline (IEC)",
    "saving_ratio": "Saving (x)",
}


def kvcache_view(rows: Sequence[KvCacheRow], explained: Sequence[tuple[KvCacheRow, Sequence[MemoryTerm]]] = ()) -> Page:
    """One row per model, context and batch; ``explained``: the rows --explain itemises. The
    state column appears when some model keeps a recurrent state (linear-attention/Mamba)."""
    data = [r.model_dump(mode="json", exclude_unset=True) for r in rows]
    models = ", ".join(dict.fromkeys(r.model for r in rows))
    columns = {k: v for k, v in KV_COLUMNS.items()
               if k in data[0] and (k != "state_bytes" or any(r.state_bytes for r in rows))}
    lines: list[str] = []
    for row, terms in explained:
        lines += explanation(terms, f"{row.model}, context {row.context:,}, batch {row.batch:,}, "
                                    f"{row.kv_dtype}: {format_bytes(row.total_bytes)}")
    return Page(data, data, sections=[Section(data, columns, f"KV cache of {models} "
                                                             f"({rows[0].kv_dtype}, IEC units)")],
                explanation=lines)


# memory --------------------------------------------------------------------------------------
MEMORY_SUMMARY = {
    "model": "Model", "mode": "Mode", "weight_format": "Format", "kv_dtype": "KV dtype",
    "context": "Context", "batch": "Batch", "weights_bytes": "Weights (IEC)",
    "kv_cache_bytes": "KV cache (IEC)", "activation_bytes": "Activations (IEC)",
    "overhead_bytes": "Overhead (IEC)", "total_bytes": "Total (IEC)",
}


def _memory_title(r: MemoryResult) -> str:
    return (f"{r.model}: {r.mode}, {r.weight_format}, context {r.context:,}, batch {r.batch:,}, "
            f"per GPU of {r.gpus}")


def memory_view(results: Sequence[MemoryResult], explain: bool = False) -> Page:
    """One result: a row per term plus the total; several: a row per result."""
    data = [r.model_dump(mode="json", exclude_none=True) for r in results]
    summaries = [r.model_dump(mode="json", exclude_none=True, exclude={"terms"}) for r in results]
    if len(results) == 1:
        r = results[0]
        rows = [{"name": t.name, "bytes": t.bytes} for t in r.terms]
        rows.append({"name": "total", "bytes": r.total_bytes})
        section = Section(rows, {"name": "Term", "bytes": "Memory (IEC)"}, _memory_title(r) + " (IEC units)")
    else:
        section = Section(summaries, MEMORY_SUMMARY, "Memory per GPU (IEC units)")
    lines = [line for r in results for line in explanation(r.terms, _memory_title(r))] if explain else []
    return Page(_one_or_list(data), rows if len(results) == 1 else summaries,
                sections=[section], jsonl=data, explanation=lines)


# fit -----------------------------------------------------------------------------------------
FIT_COLUMNS = {
    "model": "Model", "weight_format": "Format", "total_params": "Params (SI)",
    "weights_bytes": "Weights (IEC)", "kv_bytes_per_token": "KV/token (IEC)", "context": "Context",
    "max_context": "Max context", "max_batch": "Max batch", "total_bytes": "Total (IEC)",
    "headroom_bytes": "Headroom (IEC)",
}


def fit_view(rows: Sequence[FitRow], where: str, gpus: int = 1, train: str | None = None,
             explain: bool = False) -> Page:
    """One row per model that fits ``where`` (largest first); notes on models split over
    fewer GPUs than given; --explain itemises the top row."""
    flat = [r.model_dump(mode="json", exclude={"terms"}) for r in rows]
    columns = FIT_COLUMNS | ({"tp": "TP", "dp": "DP"} if gpus > 1 else {})
    title = f"Models that fit {where} ({'training ' + train if train else 'inference'}, per GPU, IEC units)"
    split = list(dict.fromkeys(r.model for r in rows if r.tp < r.gpus))
    notes = [f"note: {gpus} does not divide the attention heads of {', '.join(split)}: each is split "
             "over fewer GPUs (TP) with the rest as data-parallel replicas (DP)"] if split else []
    notes += [] if rows else [f"nothing fits {where} at this context and batch"]
    lines = explanation(rows[0].terms, _memory_title(rows[0])) if explain and rows else []
    data = [r.model_dump(mode="json") for r in rows]
    return Page(data, flat, jsonl=data, record_columns=list(flat[0]) if flat else list(FIT_COLUMNS),
                sections=[Section(flat, columns, title)], notes=notes, explanation=lines)


# compare and diff ----------------------------------------------------------------------------
COMPARE_LABELS: dict[str, str] = {
    "model": "Preset", "family": "Family", "name": "Name", "architecture": "Type",
    "num_layers": "Layers", "num_decoder_layers": "Decoder layers", "hidden_size": "Hidden size",
    "num_heads": "Query heads", "num_kv_heads": "KV heads", "head_dim": "Head dim",
    "attention": "Attention", "sliding_window": "Sliding window (tokens)",
    "window_pattern": "Window pattern", "layer_pattern": "Layer pattern",
    "chunk_size": "Attention chunk (tokens)", "mla_kv_lora_rank": "MLA KV latent rank",
    "mla_q_lora_rank": "MLA q rank", "qk_norm": "QK-norm", "attention_softcap": "Attention soft-cap",
    "final_softcap": "Final logit soft-cap", "sinks": "Attention sinks", "qkv_bias": "QKV bias",
    "positions": "Positions", "rope_theta": "RoPE theta", "rope_scaling": "RoPE scaling",
    "rotary_dim": "Rotary dims per head", "norm": "Norm", "norm_placement": "Norm placement",
    "residual": "Residual", "ffn": "FFN", "activation": "Activation",
    "intermediate_size": "FFN width", "num_experts": "Experts",
    "experts_per_token": "Experts per token", "shared_experts": "Shared experts",
    "moe_routing": "Routing", "dense_layers": "Dense (non-MoE) layers", "vocab_size": "Vocabulary",
    "tied_embeddings": "Tied embeddings", "max_context": "Context (tokens)", "licence": "Licence",
    "total_params": "Total params", "active_params": "Active params",
    "kv_bytes_per_token": "KV cache per token (fp16)",
    "state_bytes_per_sequence": "Recurrent state per sequence (16-bit)",
}


def side_by_side(records: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> tuple[list[dict[str, str]], tuple[int, ...]]:
    """Human rows (one per key, one column per model) and the indices of rows that differ."""
    rows, differing = [], []
    for index, key in enumerate(keys):
        values = [r[key] for r in records]
        rows.append({"field": COMPARE_LABELS.get(key, key),
                     **{f"m{i}": humanise(key, v) for i, v in enumerate(values)}})
        if any(v != values[0] for v in values):
            differing.append(index)
    return rows, tuple(differing)


def compare_view(result: CompareResult) -> Page:
    """A record per model (machine formats); a row per field, a column per model (tables),
    differing rows highlighted; fields that apply to no model (None, or no recurrent state) left
    out of tables."""
    records = [r.model_dump(mode="json") for r in result.models]
    keys = [k for k in COMPARE_LABELS if k != "model" and any(r[k] is not None for r in records)
            and (k != "state_bytes_per_sequence" or any(r[k] for r in records))]
    rows, differing = side_by_side(records, keys)
    columns = {"field": "", **{f"m{i}": r["model"] for i, r in enumerate(records)}}
    return Page(records, records, record_columns=list(COMPARE_LABELS),
                sections=[Section(rows, columns, highlight=differing)])


def diff_view(result: DiffResult) -> Page:
    """A row per differing field: raw values (machine formats), humanised by the field's own
    unit (tables)."""
    data = [r.model_dump(mode="json") for r in result.rows]
    human = [{"field": r.field, "a": humanise(r.field, r.a), "b": humanise(r.field, r.b)}
             for r in result.rows]
    columns = {"field": "Field", "a": result.a, "b": result.b + (" (what-if)" if result.what_if else "")}
    return Page(data, data, record_columns=["field", "a", "b"], sections=[Section(human, columns)])


# show and list -------------------------------------------------------------------------------
SPEC_GROUPS = ("model", "attention", "positions", "norm", "ffn", "moe", "embeddings", "head", "meta")


def _spec_rows(spec: ArchSpec, human: bool) -> list[dict[str, Any]]:
    """One row per field; a human reader sees each group named once (machine rows complete)."""
    from llmarch_cli.analysis.summary import flatten

    data = spec.model_dump(mode="json")
    rows: list[dict[str, Any]] = []
    for group in SPEC_GROUPS:
        part = ({k: v for k, v in data.items() if k not in (*SPEC_GROUPS, "id")}
                if group == "model" else data.get(group))
        if group == "attention":
            from llmarch_cli.analysis.summary import layer_pattern

            part = {**part, "kind": spec.attention.kind, "layer_pattern": layer_pattern(spec)}
        if part is None:  # no MoE: a human reader sees the group is empty
            if human:
                rows.append({"group": group, "field": "-", "value": None})
            continue
        for index, (field, value) in enumerate(flatten(part).items()):
            rows.append({"group": group if index == 0 or not human else "", "field": field, "value": value})
    return rows


def show_view(specs: Sequence[ArchSpec]) -> Page:
    """JSON: the specs themselves; tables and csv/tsv: a row per field (and model, if several)."""
    many = len(specs) > 1

    def rows(human: bool) -> list[dict[str, Any]]:
        return [{"model": s.id, **row} if many else row for s in specs for row in _spec_rows(s, human)]

    columns = {**({"model": "Model"} if many else {}), "group": "Group", "field": "Field", "value": "Value"}
    title = "Specs" if many else f"{specs[0].id} ({specs[0].meta.name})"
    data = [s.model_dump(mode="json") for s in specs]
    return Page(_one_or_list(data), rows(False), sections=[Section(rows(True), columns, title)], jsonl=data)


LIST_TABLE_COLUMNS = ("model", "family", "released", "architecture", "attention", "total_params",
                      "features", "licence")


def list_view(rows: Sequence[PresetRow]) -> Page:
    """Every key in machine formats; the table shows the main columns."""
    data = [r.model_dump(mode="json") for r in rows]
    return Page(data, data, sections=[Section(data, {k: header(k) for k in LIST_TABLE_COLUMNS})])


# forward -------------------------------------------------------------------------------------
LAYER_COLUMNS = {
    "stack": "Stack", "layer": "Layer", "layer_type": "Type", "sliding_window": "Window",
    "mean": "Mean", "std": "Std",
    "max_abs": "Max |x|", "attention_entropy_nats": "Attention entropy per head (nats)",
    "expert_load": "Expert load (tokens)", "attention_ms": "Attention (ms)", "ffn_ms": "FFN (ms)",
}


def _sig(value: Any) -> Any:
    """Floats to 3 significant digits (lists of them as one spaced string): a statistic of a
    random replica carries no more, and 0.0338 stays 0.0338 (not 0.03)."""
    if isinstance(value, float):
        return float(f"{value:.3g}")
    if isinstance(value, list):
        return " ".join(str(_sig(v)) for v in value)
    return value


def _hidden(causal: bool, window: int | None, n: int) -> list[list[bool]] | None:
    """Cells a causal (and windowed) mask removes: future keys and keys beyond the window."""
    if not causal:
        return None
    return [[j > i or (window is not None and j <= i - window) for j in range(n)] for i in range(n)]


STEP_COLUMNS = {
    "step": "Step", "input_tokens": "In (tokens)", "token_id": "Token ID", "position": "Position",
    "cache_full_bytes": "Full cache", "cache_sliding_bytes": "Sliding cache",
    "cache_chunked_bytes": "Chunked cache",
    "cache_latent_bytes": "Latent cache", "cache_linear_bytes": "Linear-attention state",
    "cache_cross_bytes": "Cross cache", "ms": "Time (ms)",
}


def _step_rows(generation: Any) -> list[dict[str, Any]]:
    """One flat row per generated token, the cache bytes per layer kind as their own columns."""
    rows = []
    for st in generation.steps:
        row = {"step": st.step, "input_tokens": st.input_tokens, "token_id": st.token_id,
               "position": st.position}
        row.update({f"cache_{kind}_bytes": b for kind, b in st.cache_bytes.items()})
        rows.append({**row, "ms": st.ms})
    return rows


def _generation_section(generation: Any) -> Section:
    """--generate's table: per token the input, the token, its position, cache bytes, time."""
    rows = _step_rows(generation)
    per_token = generation.decode_ms_per_token
    title = (f"Generation · {len(rows)} new tokens · prefill {_sig(generation.prefill_ms)} ms"
             + (f" · {_sig(per_token)} ms per decoded token" if per_token is not None else "")
             + (f" · text {generation.generated_text!r}" if generation.generated_text is not None else ""))
    columns = {k: v for k, v in STEP_COLUMNS.items() if k in rows[0]}
    return Section([{k: _sig(v) for k, v in row.items()} for row in rows], columns, title)


# layer_type as a learner reads it: sliding and chunked layers are local, full ones global
LAYER_TYPES = {"full": "global", "sliding": "local (sliding)", "chunked": "local (chunked)"}


def _layer_rows(result: Any) -> list[dict[str, Any]]:
    rows = [{k: _sig(v) for k, v in layer.model_dump().items()} for layer in result.layers]
    for row in rows:
        row["layer_type"] = LAYER_TYPES.get(row["layer_type"], row["layer_type"])
    return rows


def _routing_section(result: Any) -> Section | None:
    """Per MoE layer and token: the experts chosen (best first) and, group-limited, the groups."""
    rows = []
    for layer in result.layers:
        for i, experts in enumerate(layer.routed_experts or []):
            row = {"layer": layer.layer, "position": i, "token_id": result.tokens[i],
                   "routed_experts": " ".join(map(str, experts))}
            if layer.routed_groups is not None:
                row["routed_groups"] = " ".join(map(str, layer.routed_groups[i]))
            rows.append(row)
    if not rows:
        return None
    columns = {"layer": "Layer", "position": "Pos.", "token_id": "Token",
               "routed_experts": "Experts, best first", "routed_groups": "Groups"}
    grouped = "routed_groups" in rows[0]
    title = "Router choices per token" + (" · experts only from the groups allowed, best first"
                                          if grouped else "")
    return Section(rows, {k: v for k, v in columns.items() if k in rows[0]}, title)


def _softcap_section(result: Any) -> Section | None:
    """What each soft cap did: the largest |x| before it and the values it clipped."""
    caps = [(f"{layer.stack} layer {layer.layer} scores", layer.attention_softcap)
            for layer in result.layers if layer.attention_softcap is not None]
    if result.logit_softcap is not None:
        caps.append(("final logits", result.logit_softcap))
    if not caps:
        return None
    rows = [{"where": where, "cap": _sig(c.cap), "max_abs_before_cap": _sig(c.max_abs_before_cap),
             "clipped_values": c.clipped_values, "values": c.values,
             "clipped_fraction": _sig(c.clipped_fraction)} for where, c in caps]
    columns = {"where": "Where", "cap": "Cap", "max_abs_before_cap": "Max |x| before cap",
               "clipped_values": "Clipped", "values": "Of", "clipped_fraction": "Share"}
    return Section(rows, columns, "Soft-capping · clipped: the cap took over 10% off |x| "
                                  "(|x| > 0.584 cap)")


def _latent_cache_section(cache: Any) -> Section:
    """MLA: the cache of the pass's tokens as the latent (kept) vs decompressed K and V."""
    rows = [{"form": "latent + RoPE key", "values": cache.latent_values_per_token_layer,
             "bytes": cache.latent_bytes},
            {"form": "decompressed K, V", "values": cache.decompressed_values_per_token_layer,
             "bytes": cache.decompressed_bytes}]
    ratio = cache.decompressed_bytes / cache.latent_bytes
    title = (f"MLA cache · {cache.tokens} tokens x {cache.layers} layers x "
             f"{cache.bytes_per_value} B · decompressed {_sig(ratio)}x the latent")
    return Section(rows, {"form": "Form", "values": "Values per token and layer",
                          "bytes": "Bytes"}, title)


def forward_view(result: Any) -> Page:
    """A ``forward.results.ForwardResult`` (render/ sits beside forward/, not above it): layers, time per stage and top next tokens (probabilities to 4 significant digits);
    the attention heatmap on a terminal, its weights as a table in Markdown."""
    layers = [layer.model_dump() for layer in result.layers]
    title = (f"{result.model} · {result.dtype} · {len(result.tokens)} tokens"
             + (f" · seed {result.seed}" if result.seed is not None else ""))
    sections = [
        Section(_layer_rows(result), LAYER_COLUMNS, title),
        Section([{"stage": name, "ms": _sig(ms)} for name, ms in result.stages_ms.items()],
                {"stage": "Stage", "ms": "Time (ms)"}, "Time per stage"),
        Section([{"token_id": str(t.token_id), "prob": float(f"{t.prob:.4g}")} for t in result.top_next_tokens],
                {"token_id": "Token ID", "prob": "Probability"}, "Top next tokens"),
    ]
    sections += [sec for sec in (_routing_section(result), _softcap_section(result)) if sec]
    if result.latent_cache is not None:
        sections.append(_latent_cache_section(result.latent_cache))
    pictures: list[dict[str, Any]] = []
    shown = result.attention
    if shown is not None:
        name = f"Attention weights, {shown.stack} layer {shown.layer} head {shown.head}"
        pictures.append({"kind": "heatmap", "title": name, "matrix": shown.weights, "rows": "query",
                         "cols": "key", "hide": _hidden(shown.causal, shown.sliding_window, len(shown.weights))})
        cells = [{"query": i, **{f"k{j}": f"{w:.3f}" for j, w in enumerate(row)}}
                 for i, row in enumerate(shown.weights)]
        sections.append(Section(cells, {k: header(k) for k in cells[0]}, name, markdown_only=True))
    if result.generation is not None:  # --generate: its table, and one record per new token
        sections.append(_generation_section(result.generation))
        steps = _step_rows(result.generation)
        return Page(result.model_dump(mode="json"), steps, record_columns=list(steps[0]),
                    sections=sections, pictures=pictures)
    return Page(result.model_dump(mode="json"), layers, record_columns=list(LAYER_COLUMNS),
                sections=sections, pictures=pictures)


# kernel --------------------------------------------------------------------------------------
def kernel_view(result: Any) -> Page:
    """A ``kernels.results.KernelResult``. JSON: its figures; tables: the title, the pictures,
    then the rows (the figures' ``ROWS`` field, or one (quantity, value) row per figure)."""
    figures = result.figures
    data = figures.model_dump(mode="json")
    rows = data[figures.ROWS] if figures.ROWS else [
        {"quantity": k, "value": v} for k, v in data.items() if k != "kernel"]
    columns = {k: header(k) for k in rows[0]}
    return Page(data, rows, sections=[Section(rows, columns, result.title)],
                pictures=result.views, picture_title=result.title, pictures_first=True)


# schema --------------------------------------------------------------------------------------
def schema_list_view(rows: Sequence[Mapping[str, Any]]) -> Page:
    """The commands that have a result model: command, model, shape of the JSON."""
    columns = {"command": "Command", "result": "Result model", "json": "JSON"}
    return Page(list(rows), list(rows), sections=[
        Section(rows, columns, "Commands with a result model (llmarch schema COMMAND)")])
