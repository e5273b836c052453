"""Inputs the pipeline tests build on: a small framework, paper texts, real PDFs."""

from typing import Any

from fpdf import FPDF

from litgap.pipeline import Corpus, Page, Paper

SOIL = "Pillar 1: Soil Health"
WATER = "Pillar 2: Water Use"


def pdf_bytes(pages: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def framework_data() -> dict[str, Any]:
    """A two-pillar framework shaped like the original ones, with non-pillar sections."""
    return {
        "Framework_Overview": {"vision": "Farms that keep their soil and use little water."},
        SOIL: {
            "description": "Keeping farm soil fertile and in place.",
            "keywords": ["soil", "fertility", "erosion"],
            "requirements": {
                "REQ-S1: Fertility": [
                    "Sub-S1.1: Nitrogen fixation by legume root nodules",
                    "Sub-S1.2: Compost application raising soil organic carbon",
                ],
                "REQ-S2: Erosion": [
                    "Sub-S2.1: Cover crops that reduce winter soil erosion",
                    "Sub-S2.2: Terracing steep slopes against runoff",
                ],
            },
            "quantitative_metrics": {"target": "no net soil loss"},
        },
        WATER: {
            "description": "Using irrigation water sparingly.",
            "keywords": ["irrigation", "groundwater"],
            "requirements": {
                "REQ-W1: Irrigation": [
                    "Sub-W1.1: Drip irrigation scheduling from soil moisture sensors",
                    "Sub-W1.2: Groundwater recharge basins for aquifer storage",
                ],
            },
        },
        "Cross_Cutting_Requirements": {
            "timescales": {"seasonal": "one growing season", "long_term": "a decade"},
            "validation_framework": {"field_tests": "two sites, three years"},
        },
        "Success_Criteria": {"primary_objectives": ["Less water per tonne"]},
    }


LEGUMES = (
    "Legume crops such as clover and beans host bacteria in their root nodules. The "
    "bacteria fix nitrogen from the air, and nitrogen fixation by legume root nodules "
    "supplied most of the nitrogen the following wheat crop needed in our plots."
)
COVER_CROPS = (
    "Winter cover crops of rye and vetch kept the ground covered. Cover crops reduced "
    "soil erosion over the winter by two thirds compared with bare fields, because roots "
    "held the soil and leaves broke the force of the rain."
)
DRIP = (
    "Drip irrigation delivered water straight to the roots. Scheduling each drip "
    "irrigation run from soil moisture sensors saved a third of the water compared with a "
    "fixed timetable, with no loss of yield."
)
OFF_TOPIC = (
    "The village museum opened a new room about medieval pottery, with bowls, jugs and "
    "a reconstructed kiln. Visitors can try the potter's wheel on Saturdays."
)
LEGUMES_AGAIN = (
    "In a second field trial, faba beans and peas formed many root nodules. Nitrogen "
    "fixation by the legume nodules replaced half of the mineral fertiliser on the farm."
)


def paper(paper_id: str, *pages: str) -> Paper:
    """A text paper (one page) or a PDF-like paper (several numbered pages)."""
    if len(pages) == 1:
        return Paper(paper_id, paper_id, "text", (Page(None, pages[0]),))
    return Paper(paper_id, paper_id, "pdf", tuple(Page(n, t) for n, t in enumerate(pages, 1)))


def farm_corpus() -> Corpus:
    """Two papers on legumes, one on cover crops, one on drip irrigation, one off topic."""
    return Corpus(
        (
            paper("legumes.txt", LEGUMES),
            paper("beans.pdf", OFF_TOPIC, LEGUMES_AGAIN),
            paper("cover.txt", COVER_CROPS),
            paper("drip.txt", DRIP),
            paper("museum.txt", OFF_TOPIC),
        )
    )
