"""Recall against the external reviewer (issue 18, item 4): the claims of the reference
research database, each an evidence chunk an external reviewer assigned to one
sub-requirement of the reference framework.

Each chunk is analysed as a paper of its own and ranks all 108 sub-requirements by the
score the product gives it (as `bench/fidelity.py` does; ties count against the right
one): recall@1/5/10 and MRR through the product, per scorer, with every passage kept
and with the passages the report lists per sub-requirement; then TF-IDF scored
directly (scikit-learn's TfidfVectorizer, chunk against sub-requirement text, fitted on
both), the figure the product's lexical scorer should reach.

Then, per sub-requirement, whether a scorer tells covered from uncovered: over the
claims as a corpus, the ROC AUC of completeness between the 35 sub-requirements the
reviewer gave a claim and the 73 it gave none, with how many of those 73 pass the gap
threshold; and the two gaps the bundled sample was written with (permeable pavement,
maintenance funding), which should stay under it.

Needs `../shared/data/reference-inputs` (not shipped: the project's tests never use it).

    .venv/bin/python bench/reviewer.py
"""

import csv
import json
import re
import sys
from pathlib import Path

import numpy as np
from fidelity import metrics_of, rank_metrics
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import roc_auc_score
from sklearn.metrics.pairwise import cosine_similarity

import litgap.pipeline.analysis as analysis
from litgap.pipeline import Analyzer, Corpus, Page, Paper, load_framework
from litgap.pipeline.corpus import load_corpus
from litgap.pipeline.results import GAP_THRESHOLD
from litgap.pipeline.sample import sample_corpus_paths, sample_framework_path

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "reference-inputs"
SUB_ID = re.compile(r"^(Sub-\d+\.\d+\.\d+):")
CONFIGS = [("lexical", False), ("semantic", False), ("semantic", True)]
SAMPLE_GAPS = ("Sub-S1.1.3", "Sub-S3.2.3")  # src/litgap/sample/README.md


def claims(framework_ids: set[str]) -> list[tuple[str, str]]:
    """(evidence chunk, sub-requirement id) of every claim on a sub-requirement of the
    framework, each distinct pair once."""
    found: dict[tuple[str, str], None] = {}
    with open(REFERENCE / "research_database.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            for claim in json.loads(row["Requirement(s)"] or "[]"):
                match = SUB_ID.match(claim.get("sub_requirement", ""))
                text = " ".join(str(claim.get("evidence_chunk", "")).split())
                if match and match.group(1) in framework_ids and text:
                    found[(text, match.group(1))] = None
    return list(found)


def main() -> int:
    if not REFERENCE.is_dir():
        print(f"no reference inputs at {REFERENCE}: nothing to measure")
        return 0
    framework = load_framework(REFERENCE / "pillar_definitions.json")
    targets = [
        (sub.id, sub.text)
        for pillar in framework.select(framework.pillar_names())
        for _, sub in pillar.sub_requirements()
    ]
    pairs = claims({sub_id for sub_id, _ in targets})
    truth = [sub for _, sub in pairs]
    corpus = Corpus(
        tuple(
            Paper(f"c{i:03d}", f"c{i:03d}", "text", (Page(None, text),))
            for i, (text, _) in enumerate(pairs)
        )
    )
    print(
        f"{len(pairs)} claims of the external reviewer on {len(set(truth))} of "
        f"{len(targets)} sub-requirements"
    )
    print(f"  {'method':<34} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR':>6} {'time':>8}")
    listed = analysis.EVIDENCE_PER_SUB
    for scorer, rerank in CONFIGS:
        for evidence, kept in ((10_000, "all passages"), (listed, f"report's {listed}")):
            metrics, elapsed = rank_metrics(corpus, framework, truth, scorer, rerank, evidence)
            name = f"{scorer}" + (" + rerank" if rerank else "") + f", {kept}"
            print(
                f"  {name:<34} {metrics['recall@1']:6.2f} {metrics['recall@5']:6.2f} "
                f"{metrics['recall@10']:6.2f} {metrics['MRR']:6.3f} {elapsed:7.2f}s"
            )
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    matrix = vectorizer.fit_transform([text for text, _ in pairs] + [t for _, t in targets])
    scores = cosine_similarity(matrix[: len(pairs)], matrix[len(pairs) :])
    ids = [sub_id for sub_id, _ in targets]
    direct = metrics_of(np.asarray(scores), [ids.index(sub) for sub in truth])
    print(
        f"  {'TF-IDF scored directly':<34} {direct['recall@1']:6.2f} {direct['recall@5']:6.2f} "
        f"{direct['recall@10']:6.2f} {direct['MRR']:6.3f}"
    )
    print("  per sub-requirement: covered (a claim) against uncovered, and the sample's gaps")
    covered = set(truth)
    sample = load_framework(sample_framework_path())
    sample_corpus = load_corpus(sample_corpus_paths())
    for scorer in ("lexical", "semantic"):
        result = Analyzer(corpus, framework, framework.pillar_names(), scorer=scorer).iterate(None)
        labels = [sub.id in covered for sub in result.subs]
        values = [sub.completeness for sub in result.subs]
        passing = sum(v >= GAP_THRESHOLD for v, c in zip(values, labels, strict=True) if not c)
        gaps = Analyzer(sample_corpus, sample, sample.pillar_names(), scorer=scorer).iterate(None)
        designed = [round(gaps.sub(sub).completeness, 1) for sub in SAMPLE_GAPS]
        print(
            f"  {scorer:<34} AUC {roc_auc_score(labels, values):.3f}; uncovered at or above "
            f"{GAP_THRESHOLD:.0f}: {passing} of {labels.count(False)}; sample's gaps {designed}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
