"""Fidelity: does each scorer rank the right sub-requirement first for a passage?

Two hand-labelled sets: paragraphs of the bundled sample corpus (src/litgap/sample),
each labelled with the one sub-requirement of the sample framework it is about
(paragraphs about two things, and titles, are left out); and passages written for
this bench that paraphrase each sub-requirement in other words. Each passage is
analysed as a paper of its own; for every one, all 18 sub-requirements are ranked by the score the
scorer gives the paragraph for them (ties count against the right answer), and the
rank of the labelled one gives recall@1/5/10 and the mean reciprocal rank.

    .venv/bin/python bench/fidelity.py

Nothing here feeds back into a constant: the set is small and written to the
framework (the sample papers echo its wording), so it flatters a lexical scorer; it is
a check that each scorer does what it should, not a tuning set.
"""

import sys
import time
from pathlib import Path

import numpy as np

import litgap.pipeline.analysis as analysis
from litgap.pipeline import Analyzer, Corpus, Framework, Page, Paper, load_framework
from litgap.pipeline.sample import sample_framework_path

CORPUS = Path(__file__).resolve().parents[1] / "src" / "litgap" / "sample" / "corpus"
# (file, paragraph number counted from 1 over blank-line separated blocks, sub-requirement)
LABELS = [
    ("sample-01-roof-yield.txt", 3, "Sub-S1.1.1"),
    ("sample-01-roof-yield.txt", 4, "Sub-S1.1.1"),
    ("sample-01-roof-yield.txt", 5, "Sub-S1.1.1"),
    ("sample-02-first-flush.md", 4, "Sub-S1.1.2"),
    ("sample-02-first-flush.md", 6, "Sub-S1.1.2"),
    ("sample-02-first-flush.md", 8, "Sub-S1.1.2"),
    ("sample-02-first-flush.md", 10, "Sub-S1.1.2"),
    ("sample-03-sand-filters.txt", 3, "Sub-S2.2.1"),
    ("sample-03-sand-filters.txt", 4, "Sub-S2.2.1"),
    ("sample-03-sand-filters.txt", 5, "Sub-S2.2.1"),
    ("sample-03-sand-filters.txt", 6, "Sub-S2.1.2"),
    ("sample-03-sand-filters.txt", 7, "Sub-S2.2.1"),
    ("sample-04-neighbourhood-survey.md", 4, "Sub-S3.1.1"),
    ("sample-04-neighbourhood-survey.md", 6, "Sub-S3.1.1"),
    ("sample-04-neighbourhood-survey.md", 8, "Sub-S3.1.2"),
    ("sample-04-neighbourhood-survey.md", 10, "Sub-S3.1.1"),
    ("sample-05-tank-sizing.txt", 3, "Sub-S1.2.1"),
    ("sample-05-tank-sizing.txt", 4, "Sub-S1.2.1"),
    ("sample-05-tank-sizing.txt", 5, "Sub-S1.2.1"),
    ("sample-05-tank-sizing.txt", 6, "Sub-S1.2.2"),
    ("sample-06-uv-disinfection.md", 4, "Sub-S2.2.2"),
    ("sample-06-uv-disinfection.md", 6, "Sub-S2.2.2"),
    ("sample-07-turbidity-sensor.txt", 3, "Sub-S2.1.1"),
    ("sample-07-turbidity-sensor.txt", 4, "Sub-S2.1.1"),
    ("sample-07-turbidity-sensor.txt", 5, "Sub-S2.1.1"),
]
# Passages written for this bench, one per sub-requirement the sample covers, that say
# what the sub-requirement is about in other words (few of its own): where meaning has
# to do the work that shared words do above.
PARAPHRASES = [
    (
        "How many litres a house gets off its top each year follows from how much it rains "
        "and how big the top is in plan.",
        "Sub-S1.1.1",
    ),
    (
        "A pipe fills with the dirty start of each storm and then seals, so grit and leaves "
        "never get into the cistern.",
        "Sub-S1.1.2",
    ),
    (
        "Porous paving in car parks and lanes soaks up what runs off the road so that it can "
        "be used again.",
        "Sub-S1.1.3",
    ),
    (
        "How big should the cistern be? Enough to carry a family's daily use through the "
        "longest run of days without rain.",
        "Sub-S1.2.1",
    ),
    (
        "When the cistern is full the excess is piped to a soakaway on the owner's land, not "
        "next door.",
        "Sub-S1.2.2",
    ),
    (
        "A cheap probe shows how cloudy and how salty the stored water is, reading every few "
        "minutes.",
        "Sub-S2.1.1",
    ),
    (
        "Samples are cultured for faecal coliforms every two weeks once the system is running.",
        "Sub-S2.1.2",
    ),
    (
        "A barrel of fine grains with a living skin on top cleaned the rain caught at home of "
        "most germs.",
        "Sub-S2.2.1",
    ),
    (
        "The lamps that kill germs with light burned hundreds of kilowatt hours a year, more "
        "than the pump.",
        "Sub-S2.2.2",
    ),
    (
        "Written rules say when harvested water may flush lavatories or water vegetable beds "
        "without risk to health.",
        "Sub-S2.2.3",
    ),
    (
        "Neighbours voted on where the shared cisterns would stand and how they would look.",
        "Sub-S3.1.1",
    ),
    (
        "Local people learned to clear gutters and check the diverter so that the system "
        "kept working.",
        "Sub-S3.1.2",
    ),
    ("Grants paid part of the cost, but few poorer families applied for them.", "Sub-S3.2.1"),
    (
        "The city's construction rules were changed so that harvested water may be plumbed "
        "into homes.",
        "Sub-S3.2.2",
    ),
    ("Once built, nobody had budgeted for keeping the systems going in later years.", "Sub-S3.2.3"),
]
CONFIGS = [("lexical", False), ("semantic", False), ("semantic", True), ("lexical", True)]


def paragraphs(path: Path) -> list[str]:
    blocks = [" ".join(b.split()) for b in path.read_text(encoding="utf-8").split("\n\n")]
    return [b for b in blocks if b]


def labelled_corpus(paraphrased: bool) -> tuple[Corpus, list[str]]:
    pairs = (
        PARAPHRASES
        if paraphrased
        else [(paragraphs(CORPUS / name)[number - 1], sub) for name, number, sub in LABELS]
    )
    papers = tuple(
        Paper(f"p{i:03d}", f"p{i:03d}", "text", (Page(None, text),))
        for i, (text, _) in enumerate(pairs)
    )
    return Corpus(papers), [sub for _, sub in pairs]


def evaluate(scorer: str, rerank: bool, paraphrased: bool) -> tuple[dict[str, float], float]:
    corpus, truth = labelled_corpus(paraphrased)
    return rank_metrics(corpus, load_framework(sample_framework_path()), truth, scorer, rerank)


def rank_metrics(
    corpus: Corpus,
    framework: Framework,
    truth: list[str],
    scorer: str,
    rerank: bool,
    evidence: int = 10_000,
) -> tuple[dict[str, float], float]:
    """Each paper (one passage) ranks every sub-requirement by the score the product
    gives it; the rank of `truth[i]` for paper i gives recall@1/5/10 and the MRR. By
    default every scored passage is kept, so that each paper has a score for every
    sub-requirement; `evidence` as the report keeps (EVIDENCE_PER_SUB) scores a paper
    0 for a sub-requirement whose list it is not in."""
    analysis.EVIDENCE_PER_SUB = evidence
    started = time.perf_counter()
    result = Analyzer(
        corpus, framework, framework.pillar_names(), scorer=scorer, rerank=rerank
    ).iterate(None)
    elapsed = time.perf_counter() - started
    subs = [s.id for s in result.subs]
    index = {p.id: i for i, p in enumerate(corpus.papers)}
    scores = np.zeros((len(corpus.papers), len(subs)))
    for column, sub in enumerate(result.subs):
        for e in sub.evidence:
            row = index[e.paper]
            scores[row, column] = max(scores[row, column], e.score)
    return metrics_of(scores, [subs.index(sub_id) for sub_id in truth]), elapsed


def metrics_of(scores: np.ndarray, truth: list[int]) -> dict[str, float]:
    """recall@1/5/10 and MRR of the right column per row (ties count against it)."""
    ranks = []
    for row, column in enumerate(truth):
        others = np.delete(scores[row], column)
        ranks.append(1 + int((others >= scores[row, column]).sum()))
    r = np.array(ranks)
    found = {f"recall@{k}": float((r <= k).mean()) for k in (1, 5, 10)}
    found["MRR"] = float((1.0 / r).mean())
    return found


def main() -> int:
    for paraphrased, title in (
        (False, f"{len(LABELS)} labelled sample paragraphs"),
        (True, f"{len(PARAPHRASES)} paraphrased passages"),
    ):
        print(f"{title} x 18 sub-requirements")
        print(f"  {'scorer':<20} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR':>6} {'time':>8}")
        for scorer, rerank in CONFIGS:
            metrics, elapsed = evaluate(scorer, rerank, paraphrased)
            name = scorer + (" + rerank" if rerank else "")
            print(
                f"  {name:<20} {metrics['recall@1']:6.2f} {metrics['recall@5']:6.2f} "
                f"{metrics['recall@10']:6.2f} {metrics['MRR']:6.3f} {elapsed:7.2f}s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
