"""Benchmark: how much of the transformer's judgement the semantic scorer's first stage keeps.

The semantic scorer embeds only each query's CANDIDATES best passages by its first
stage (lexical blended with static word vectors). This measures, on real papers (the
reference PDFs when present, and the bundled sample corpus) against two real
frameworks (the sample one and the reference one, 108 sub-requirements):

- recall@K of the first stage: the share of the full transformer's top 10 passages
  (bge fused with lexical, scored on every passage; only those above NOISE_SCORE,
  since an order among noise means nothing, and only those at SUPPORT_SCORE or more,
  the passages that count as support) that are among the first stage's top K,
  for the lexical score alone, the static vectors alone, and the blend;
- for the whole scorer at the shipped CANDIDATES, and for the lexical scorer: how
  many of the full scorer's top 10 its report keeps, and how far completeness moves
  (mean and worst, in points).

    .venv/bin/python bench/candidates.py

Goal (issue 18): the blend keeps at least 90% of the transformer's supporting top 10
at the shipped K on every set (paraphrase R@1 is bench/fidelity.py's).
"""

import itertools
import sys
import time
from pathlib import Path

import numpy as np

import litgap.pipeline.scorers.semantic as semantic
from litgap.pipeline import (
    Analyzer,
    Corpus,
    Framework,
    IterationResult,
    load_corpus,
    load_framework,
)
from litgap.pipeline.sample import sample_corpus_paths, sample_framework_path
from litgap.pipeline.scorers.lexical import NOISE_SCORE, CorpusIndex, lexical_scores, short_weight
from litgap.pipeline.scorers.semantic import SemanticScorer, on_scale
from litgap.pipeline.thresholds import CHUNK_WORDS, SUPPORT_SCORE

REFERENCE = Path("/work/shared/data/reference-inputs")
KS = (10, 20, 30, 50)
TOP = 10
GOAL = 0.90


def first_stage_recall(
    analyzer: Analyzer, window: int, stride: int, floor: float
) -> dict[str, list[float]]:
    """Per first stage, recall@K of the full scorer's top TOP (above `floor`), for each K."""
    index: CorpusIndex = analyzer._index  # type: ignore[attr-defined]
    scorer: SemanticScorer = analyzer._scorer  # type: ignore[assignment, attr-defined]
    queries = analyzer._queries  # type: ignore[attr-defined]
    passages = index.passages(window, stride)
    rows = list(range(queries.shape[0]))
    lex = lexical_scores(passages, queries)(0, passages.count)
    short = short_weight(passages.words)[:, None]
    all_chunks = np.arange(index.chunk_page.size)
    scorer._ensure(all_chunks)  # the full transformer: every chunk embedded

    def pooled(chunks: np.ndarray) -> np.ndarray:
        vectors = np.asarray(passages.aggregate @ chunks, dtype=np.float64)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    static = pooled(scorer._static_chunks) @ scorer._static_queries[rows].T
    dense = pooled(scorer._dense) @ scorer._queries[rows].T
    full = 0.5 * lex + 0.5 * semantic.dense_score(dense) * short
    blend_line = on_scale(static, semantic.STATIC_NOISE, semantic.STATIC_STRONG, clip=False)
    stages = {
        "lexical": lex,
        "static": static,
        "blend": (1 - semantic.STATIC_SHARE) * lex + semantic.STATIC_SHARE * blend_line * short,
    }
    best = np.argsort(-full, axis=0, kind="stable")[:TOP]
    out: dict[str, list[float]] = {}
    for name, score in stages.items():
        order = np.argsort(-score, axis=0, kind="stable")
        recalls = []
        for k in KS:
            kept = total = 0
            for q in rows:
                wanted = {int(r) for r in best[:, q] if full[r, q] > floor}
                kept += len(wanted & {int(r) for r in order[:k, q]})
                total += len(wanted)
            recalls.append(kept / max(total, 1))
        out[name] = recalls
    return out


def whole_scorer(corpus: Corpus, fw: Framework) -> dict[str, tuple[float, float, float]]:
    """Against the full scorer (every passage judged by the transformer), for the
    two-stage scorer and for the lexical one: the share of its top 10 kept, and the mean
    and worst completeness change."""
    shipped = semantic.CANDIDATES
    semantic.CANDIDATES = 10**9
    try:
        full = Analyzer(corpus, fw, fw.pillar_names(), scorer="semantic").iterate(None)
    finally:
        semantic.CANDIDATES = shipped
    return {
        name: _against(Analyzer(corpus, fw, fw.pillar_names(), scorer=scorer).iterate(None), full)
        for name, scorer in (("two-stage semantic", "semantic"), ("lexical", "lexical"))
    }


def _against(two: IterationResult, full: IterationResult) -> tuple[float, float, float]:
    kept = total = 0
    moves = []
    for a, b in zip(two.subs, full.subs, strict=True):
        wanted = {e.evidence_id for e in b.evidence[:TOP] if e.score > NOISE_SCORE}
        kept += len(wanted & {e.evidence_id for e in a.evidence[:TOP]})
        total += len(wanted)
        moves.append(abs(a.completeness - b.completeness))
    return kept / max(total, 1), float(np.mean(moves)), float(np.max(moves))


def main() -> int:
    pdfs = sorted((REFERENCE / "papers").glob("*.pdf")) if REFERENCE.is_dir() else []
    corpus = load_corpus([*pdfs, *sample_corpus_paths()])
    frameworks = [("sample framework", load_framework(sample_framework_path()))]
    if (REFERENCE / "pillar_definitions.json").is_file():
        frameworks.append(
            ("reference framework", load_framework(REFERENCE / "pillar_definitions.json"))
        )
    words = sum(len(page.text.split()) for paper in corpus.papers for page in paper.pages)
    print(f"pool: {len(corpus.papers)} real papers, {words:,} words; K = {semantic.CANDIDATES}")
    ok = True
    for name, fw in frameworks:
        started = time.perf_counter()
        analyzer = Analyzer(corpus, fw, fw.pillar_names(), scorer="semantic")
        print(f"{name}, {fw.sub_requirement_count} sub-requirements")
        for (window, stride), (floor, what) in itertools.product(
            ((6, 3), (3, 1), (2, 1)), ((NOISE_SCORE, "above noise"), (SUPPORT_SCORE, "support"))
        ):
            recalls = first_stage_recall(analyzer, window, stride, floor)
            print(
                f"  {window * CHUNK_WORDS}-word passages: recall of the full top {TOP} "
                f"({what}) in the first stage's top K"
            )
            for stage, values in recalls.items():
                cells = "  ".join(f"K={k}: {v:.3f}" for k, v in zip(KS, values, strict=True))
                print(f"    {stage:8} {cells}")
            at = KS.index(semantic.CANDIDATES) if semantic.CANDIDATES in KS else None
            if at is not None and floor == SUPPORT_SCORE:
                ok = ok and recalls["blend"][at] >= GOAL
        for scorer, (overlap, mean_move, worst) in whole_scorer(corpus, fw).items():
            print(
                f"  {scorer} (K={semantic.CANDIDATES}): keeps {overlap:.3f} of the full top {TOP}; "
                f"completeness moves {mean_move:.2f} points on average, {worst:.2f} at most"
            )
        print(f"  ({time.perf_counter() - started:.0f} s)")
    verdict = "met" if ok else "NOT met"
    print(f"goal: blend recall@{semantic.CANDIDATES} of support >= {GOAL} on every set: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
