"""The scale scores and completeness are read on, in a module that imports nothing:
the serving process (prompt specs, the evidence API) needs these numbers without
loading the analysis and its numeric libraries."""

CHUNK_WORDS = 25  # words per chunk: the unit passages are cut from
# The scale every scorer's scores are on (completeness in analysis.py reads them):
NOISE_SCORE = 0.12  # cosine at or below which a passage is taken as chance overlap
STRONG_SCORE = 0.40  # cosine from which a passage counts as full evidence
SUPPORT_SCORE = (NOISE_SCORE + STRONG_SCORE) / 2  # a paper at or above "supports" a sub
GAP_THRESHOLD = 50.0
"""A sub-requirement with completeness below this (out of 100) is a gap: less than one
strong paper plus some corroboration, or only weak mentions."""
