"""Real-sized inputs made on the fly: a framework of hundreds of pillars, for tests and
benchmarks that need job work that takes a while."""

import json
import random

WORDS = [
    "rainwater",
    "roof",
    "catchment",
    "tank",
    "storage",
    "overflow",
    "filtration",
    "sand",
    "turbidity",
    "sensor",
    "bacteria",
    "disinfection",
    "ultraviolet",
    "survey",
    "household",
    "demand",
    "rainfall",
    "runoff",
    "pavement",
    "governance",
    "maintenance",
    "upkeep",
    "quality",
    "monitoring",
    "treatment",
    "sizing",
    "yield",
    "diversion",
    "debris",
    "conductivity",
    "schedule",
    "indicator",
    "neighbourhood",
    "community",
    "cost",
    "sediment",
    "pipe",
    "gutter",
    "pump",
    "pressure",
    "chlorine",
    "membrane",
    "drought",
    "reuse",
    "irrigation",
    "drinking",
    "standard",
]


def big_framework(pillars: int, *, requirements: int = 3, subs: int = 4, seed: int = 7) -> bytes:
    """A framework JSON of `pillars` pillars x `requirements` x `subs` sub-requirements,
    worded from the sample corpus's vocabulary so that scoring finds real overlaps."""
    rng = random.Random(seed)

    def phrase(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    framework: dict[str, object] = {}
    for p in range(1, pillars + 1):
        framework[f"Pillar {p}: {phrase(3).title()}"] = {
            "description": phrase(12),
            "keywords": [phrase(2) for _ in range(4)],
            "requirements": {
                f"REQ-{p}.{r}: {phrase(3).title()}": [
                    f"Sub-{p}.{r}.{s}: {phrase(10)}" for s in range(1, subs + 1)
                ]
                for r in range(1, requirements + 1)
            },
        }
    return json.dumps(framework, indent=1).encode()


def sentence_papers(count: int, words: int, echoes: list[str], *, seed: int = 11) -> list[str]:
    """`count` papers of about `words` words each, of sentences drawn from the bundled
    sample corpus (real text: a model's cost depends on how its tokenizer cuts real
    words), with a few of `echoes` (sub-requirement texts) worked in as evidence."""
    from litgap.pipeline import load_corpus, sample_corpus_paths

    paths = [p for p in sample_corpus_paths() if p.suffix in (".txt", ".md")]
    text = " ".join(page.text for paper in load_corpus(paths).papers for page in paper.pages)
    sentences = [" ".join(s.split()) + "." for s in text.split(". ") if len(s.split()) >= 4]
    rng = random.Random(seed)
    papers = []
    for n in range(count):
        body: list[str] = []
        while sum(len(s.split()) for s in body) < words:
            body.append(rng.choice(sentences))
        for _ in range(rng.randint(0, 4)):
            body.insert(rng.randrange(len(body)), rng.choice(echoes) + ".")
        papers.append(f"Paper {n} on rainwater\n\n" + " ".join(body) + "\n")
    return papers
