"""Quality gate for exported or quantized models: the candidate against its source model.

    summarist export --model runs/t5 -o runs/t5-ct2 --quantize int8 \\
        --check-data dialogsum/ --check-samples 200 [--fail-on-drop]

Both models summarize the same validation texts with the same generation settings (the
source model's saved ones, plus any overrides), so the backend or the quantization is the only
difference. Per-example ROUGE F1 against the references goes through a paired bootstrap; a
drop is *significant* when the candidate is lower on any of ROUGE-1/2/L with p < `alpha`.
The result is written as `quality_check.json` (into the export directory for `export`);
`check_backend` runs the same check for the on-the-fly fast paths (torch int8/bf16, CTranslate2).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from summarist.config.export import QualityCheckConfig
from summarist.errors import ConfigError

log = logging.getLogger(__name__)

QUALITY_CHECK_FILE = "quality_check.json"
GATED = ("rouge1", "rouge2", "rougeL")
"""ROUGE types whose significant drop fails the gate (rougeLsum follows rougeL closely)."""
EXIT_DROP = 3
"""Exit code of `--fail-on-drop` when the drop is significant (2 is a usage error)."""


def check_quality(
    reference: Any,
    candidate: Any,
    cfg: QualityCheckConfig,
    *,
    split: Any = None,
    names: tuple[str, str] = ("", ""),
) -> dict[str, Any]:
    """Paired ROUGE of `candidate` against `reference` (two `Summarizer`s) on `cfg`'s split.

    `split` is the already loaded split (default: `load_check_split(cfg)`).

    >>> from summarist.inference.summarizer import Summarizer
    >>> ref = Summarizer.from_pretrained("runs/t5")  # doctest: +SKIP
    >>> int8 = Summarizer.from_pretrained("runs/t5", quantize="int8")  # doctest: +SKIP
    >>> check_quality(ref, int8, QualityCheckConfig("dialogsum/"))["verdict"]  # doctest: +SKIP
    'no significant ROUGE drop on validation (200 examples): ...'
    """
    from summarist.metrics import compute_rouge, paired_bootstrap
    from summarist.metrics.tokenizers import tokenizer_for_lang

    split = load_check_split(cfg) if split is None else split
    settings = reference.settings.with_overrides(**cfg.generation)
    texts = list(split.texts)
    ref_out = reference.summarize_detailed(texts, settings).summaries
    cand_out = candidate.summarize_detailed(texts, settings).summaries
    refs = [list(r) for r in split.references]
    # One ROUGE tokenizer for both arms, chosen from the reference arm's text.
    tokenizer = tokenizer_for_lang(None, ref_out[:100] + [r[0] for r in refs[:100]])
    scored = [
        compute_rouge(p, refs, bootstrap=0, lang=tokenizer).fmeasure() for p in (cand_out, ref_out)
    ]
    test = paired_bootstrap(scored[0], scored[1], max(cfg.bootstrap, 1), 1 - cfg.alpha, cfg.seed)
    rouge = {}
    for k, rt in enumerate(("rouge1", "rouge2", "rougeL", "rougeLsum")):
        rouge[rt] = {
            "reference": round(float(scored[1][:, k].mean()), 4),
            "candidate": round(float(scored[0][:, k].mean()), 4),
            **{key: round(float(test[key][k]), 4) for key in ("diff", "low", "high", "p_value")},
        }
    drops = [rt for rt in GATED if rouge[rt]["diff"] < 0 and rouge[rt]["p_value"] < cfg.alpha]
    result = {
        "reference": names[0],
        "candidate": names[1],
        "candidate_backend": getattr(candidate.backend, "name", ""),
        "split": split.name,
        "n": len(split),
        "identical": sum(a == b for a, b in zip(ref_out, cand_out, strict=True)),
        "generation": settings.to_dict(),
        "rouge": rouge,
        "rouge_tokenizer": tokenizer,
        "alpha": cfg.alpha,
        "bootstrap": cfg.bootstrap,
        "significant_drop": bool(drops),
        "dropped": drops,
        "examples": [
            {"source": t, "reference_model": a, "candidate": b}
            for t, a, b in zip(texts, ref_out, cand_out, strict=True)
            if a != b
        ][:5],
    }
    result["verdict"] = verdict(result)
    return result


def load_check_split(cfg: QualityCheckConfig) -> Any:
    """The split to check on, cut to `cfg.samples` examples."""
    from summarist.data.loading import load_corpus

    corpus = load_corpus(cfg.data)
    names = corpus.names()
    name = cfg.split or next((n for n in ("validation", "test") if n in names), names[0])
    split = corpus.split(name)
    if cfg.samples and cfg.samples < len(split):
        split = split.select(list(range(cfg.samples)))
    return split


def verdict(result: dict[str, Any]) -> str:
    """One plain sentence: is the drop significant, by how much, on what."""
    where = f"on {result['split']} ({result['n']} examples, {result['identical']} identical)"
    r1 = result["rouge"]["rouge1"]
    delta = (
        f"ROUGE-1 {r1['diff']:+.2f} [{r1['low']:+.2f}, {r1['high']:+.2f}], p={r1['p_value']:.3f}"
    )
    if result["significant_drop"]:
        worst = min(result["dropped"], key=lambda rt: result["rouge"][rt]["diff"])
        w = result["rouge"][worst]
        return (
            f"SIGNIFICANT QUALITY DROP {where}: {worst} {w['diff']:+.2f} "
            f"[{w['low']:+.2f}, {w['high']:+.2f}], p={w['p_value']:.3f} ({delta})"
        )
    return f"no significant ROUGE drop {where}: {delta}"


def check_export(
    export_dir: Path,
    source: str,
    cfg: QualityCheckConfig,
    *,
    split: Any = None,
    lang: str | None = None,
) -> dict[str, Any]:
    """Check a `summarist export` directory against the model it came from; writes the result.

    The source runs on the torch backend in fp32, the export as exported (CTranslate2, its
    saved quantization); `quality_check.json` lands in `export_dir`.
    """
    from summarist.inference.summarizer import Summarizer
    from summarist.rundir import write_json

    reference = Summarizer.from_pretrained(source, lang=lang)
    candidate = Summarizer.from_pretrained(str(export_dir))
    result = check_quality(reference, candidate, cfg, split=split, names=(source, str(export_dir)))
    write_json(Path(export_dir) / QUALITY_CHECK_FILE, result)
    return result


def check_backend(
    model: str,
    cfg: QualityCheckConfig,
    *,
    backend: str = "torch",
    quantize: str | None = None,
    lang: str | None = None,
) -> dict[str, Any]:
    """Check a fast path of `model` (`backend`, `quantize`) against the model in torch fp32.

    >>> check_backend("runs/t5", QualityCheckConfig("dialogsum/"), quantize="int8")  # doctest: +SKIP
    """
    from summarist.inference.summarizer import Summarizer

    if backend == "torch" and quantize in (None, "none"):
        raise ConfigError("nothing to check: torch fp32 is the reference", "pass --quantize int8")
    reference = Summarizer.from_pretrained(model, lang=lang)
    candidate = Summarizer.from_pretrained(model, backend=backend, quantize=quantize, lang=lang)
    label = f"{model} ({backend}, {quantize or 'fp32'})"
    return check_quality(reference, candidate, cfg, names=(f"{model} (torch, fp32)", label))
