"""CNN/DailyMail-shaped synthetic corpora built from the 501 real news rows of ../shared/data/news.

Each row's article is a seeded draw of real article sentences (737 words on average, like
CNN/DM's training articles) and its highlights a draw of real CNN/DM highlight sentences (56
words on average); rows are unique. The same (rows, seed) always gives the same bytes, so a
benchmark or a test can rebuild a corpus instead of keeping one.

    python bench/news_corpus.py OUT_DIR --rows 287000          # OUT_DIR/train.jsonl + validation
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

NEWS = Path(__file__).resolve().parents[2] / "shared" / "data" / "news" / "cnndm_xsum_sample.jsonl"
ARTICLE_WORDS = 737
SUMMARY_WORDS = 56
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'‘“])")


def _pools(news: Path) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """JSON-escaped article sentences and highlight sentences, with their word counts."""
    rows = [json.loads(line) for line in news.open(encoding="utf-8")]
    sentences = [s for r in rows for s in _SENTENCE.split(r["article"]) if len(s.split()) >= 4]
    highlights = [
        s.strip().removesuffix(" .") + " ."
        for r in rows
        if r["dataset"] == "cnndm"
        for s in r["summary"].split(" . ")
        if len(s.split()) >= 4
    ]

    def escaped(texts: list[str]) -> tuple[list[str], np.ndarray]:
        return [json.dumps(t, ensure_ascii=False)[1:-1] for t in texts], np.array(
            [len(t.split()) for t in texts]
        )

    return (*escaped(sentences), *escaped(highlights))


def _draw(rng: np.random.Generator, words: np.ndarray, target: int) -> list[int]:
    picked: list[int] = []
    total = 0
    # Draw a generous batch at once (numpy is the cost here, not Python), then cut.
    while total < target:
        batch = rng.integers(0, len(words), size=64)
        cum = total + np.cumsum(words[batch])
        stop = int(np.searchsorted(cum, target)) + 1
        picked += batch[:stop].tolist()
        total = int(cum[min(stop, len(cum)) - 1])
    return picked


def write_rows(path: Path, rows: int, seed: int, *, news: Path = NEWS, id_prefix: str = "") -> Path:
    """`rows` unique CNN/DM-shaped JSON lines (`id`, `article`, `highlights`) at `path`."""
    art, art_words, hl, hl_words = _pools(news)
    rng = np.random.default_rng(seed)
    # Lengths: gamma spreads around CNN/DM's means (articles: most 300-1,300 words), less half
    # a sentence, which the last sentence drawn overshoots by on average (and the floor of 80 adds).
    article_targets = rng.gamma(4.0, (ARTICLE_WORDS - 30) / 4.0, size=rows) - art_words.mean() / 2
    summary_targets = rng.gamma(9.0, SUMMARY_WORDS / 9.0, size=rows) - hl_words.mean() / 2
    article_targets = np.maximum(article_targets, 80).astype(int)
    summary_targets = np.maximum(summary_targets, 10).astype(int)
    seen: set[int] = set()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "w", encoding="utf-8") as fh:
        for i in range(rows):
            while True:  # unique articles: a repeated draw is drawn again
                picked = _draw(rng, art_words, int(article_targets[i]))
                key = hash(tuple(picked))
                if key not in seen:
                    seen.add(key)
                    break
            a = " ".join(art[j] for j in picked)
            h = "\\n".join(hl[j] for j in _draw(rng, hl_words, int(summary_targets[i])))
            fh.write(
                f'{{"id": "{id_prefix}{seed}-{i:08d}", "article": "{a}", "highlights": "{h}"}}\n'
            )
    tmp.replace(path)
    return path


def write_predictions(corpus: Path, out: Path, seed: int = 7) -> Path:
    """A predictions file for `corpus` (JSON lines): per row three sentences of its own article,
    a seeded pick, so that scores, novelty and compression look like a real system's."""
    rng = np.random.default_rng(seed)
    tmp = out.with_name(out.name + ".partial")
    with open(corpus, encoding="utf-8") as src, open(tmp, "w", encoding="utf-8") as fh:
        for line in src:
            sentences = _SENTENCE.split(json.loads(line)["article"])
            pick = sorted(rng.choice(len(sentences), size=min(3, len(sentences)), replace=False))
            prediction = " ".join(sentences[i] for i in pick)
            fh.write(json.dumps({"prediction": prediction}, ensure_ascii=False) + "\n")
    tmp.replace(out)
    return out


def build_eval_corpus(out: Path, rows: int, *, seed: int = 5) -> Path:
    """`out/test.jsonl` (`rows` rows) and `out/predictions.jsonl`, kept when already built."""
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "test.jsonl").exists():
        write_rows(out / "test.jsonl", rows, seed, id_prefix="test-")
    if not (out / "predictions.jsonl").exists():
        write_predictions(out / "test.jsonl", out / "predictions.jsonl")
    return out


def build_corpus(out: Path, rows: int, *, validation: int = 500, seed: int = 0) -> Path:
    """`out/train.jsonl` with `rows` rows and `out/validation.jsonl`; kept when already built."""
    out.mkdir(parents=True, exist_ok=True)
    train = out / "train.jsonl"
    if not train.exists():
        write_rows(train, rows, seed)
    if validation and not (out / "validation.jsonl").exists():
        write_rows(out / "validation.jsonl", validation, seed + 1_000_003, id_prefix="val-")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--validation", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    build_corpus(args.out, args.rows, validation=args.validation, seed=args.seed)


if __name__ == "__main__":
    main()
