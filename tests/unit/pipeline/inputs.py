"""Inputs the pipeline tests build on: a small framework, paper texts, real PDFs."""

import io
import zlib
from typing import Any

from fpdf import FPDF
from fpdf.enums import EncryptionMethod

from litgap.pipeline import Corpus, Page, Paper

SOIL = "Pillar 1: Soil Health"
WATER = "Pillar 2: Water Use"


def pdf_bytes(
    pages: list[str],
    password: str | None = None,
    title: str | None = None,
    author: str | None = None,
    published: str | None = None,
) -> bytes:
    """A real PDF, one string per page; `password` "" restricts it by an owner password
    only (readable), any other locks it with a user password. `published` (a date) goes
    into the XMP metadata as publishers write it."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    if title is not None:
        pdf.set_title(title)
    if author is not None:
        pdf.set_author(author)
    if published is not None:
        pdf.set_xmp_metadata(
            '<rdf:Description xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/">'
            f"<prism:publicationDate>{published}</prism:publicationDate></rdf:Description>"
        )
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    if password is not None:
        pdf.set_encryption(
            owner_password="owner", user_password=password, encryption_method=EncryptionMethod.RC4
        )
    return bytes(pdf.output())


def inflating_pdf(text_chars: int) -> bytes:
    """A one-page PDF whose deflated content stream shows `text_chars` characters of
    text: ~4 KB per MiB of text on disk (the attack of a small file with huge text)."""
    line = b"(Nitrogen fixation by legume root nodules feeds the next wheat crop.) Tj T*\n"
    shown = len(line) - len(b"() Tj T*\n")
    content = b"BT /F1 1 Tf 1 TL 0 0 Td\n" + line * max(1, text_chars // shown) + b"ET\n"
    stream = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


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
