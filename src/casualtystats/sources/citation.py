"""Who published each data source, under which terms, and how to cite it.

The report's header and the briefing's caveats name the sources behind every
figure. `cite(sources)` maps the `source` values of an incident table (as the
readers set them: "UCDP", "ACLED", "GTD", a native table's own `source` values, or
"native" for a native table without them) to their publisher, license and
citation. A source not in the table is reported as such ("terms not known to
casualtystats: check with its publisher"), never given a license it may not have. Simulated records are labelled synthetic.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class SourceTerms:
    """One data source: name, publisher, terms of use and the citation it asks for."""

    source: str
    name: str
    license: str
    citation: str
    url: str

    def to_dict(self) -> dict:
        return asdict(self)


#: Known sources by the `source` value the readers give their rows.
KNOWN_SOURCES = {
    "UCDP": SourceTerms(
        "UCDP",
        "UCDP Georeferenced Event Dataset (GED)",
        "CC BY 4.0",
        "Sundberg, Ralph and Erik Melander (2013). Introducing the UCDP Georeferenced Event Dataset. "
        "Journal of Peace Research 50(4); Davies, Pettersson and Öberg (2023), Organized violence 1989-2022, "
        "Journal of Peace Research 60(4).",
        "https://ucdp.uu.se/downloads/",
    ),
    "ACLED": SourceTerms(
        "ACLED",
        "Armed Conflict Location & Event Data (ACLED)",
        "ACLED Terms of Use (attribution required; redistribution of the raw data restricted)",
        "Raleigh, Clionadh, Andrew Linke, Håvard Hegre and Joakim Karlsen (2010). Introducing ACLED: "
        "An Armed Conflict Location and Event Dataset. Journal of Peace Research 47(5).",
        "https://acleddata.com/terms-of-use/",
    ),
    "GTD": SourceTerms(
        "GTD",
        "Global Terrorism Database (GTD), START, University of Maryland",
        "GTD terms of use (non-commercial use; no redistribution of the data)",
        "National Consortium for the Study of Terrorism and Responses to Terrorism (START) (2022). "
        "Global Terrorism Database. https://www.start.umd.edu/gtd",
        "https://www.start.umd.edu/gtd/terms-of-use/",
    ),
}

_SYNTHETIC = re.compile(r"synth|simulat", re.IGNORECASE)


def terms_of(source: str) -> SourceTerms:
    """The terms of one `source` value; merged sources ("GTD+UCDP") are looked up part by part
    with `cite`. Unknown sources get a plain statement that their terms are not known."""
    key = str(source).strip()
    known = KNOWN_SOURCES.get(key.upper())
    if known is not None:
        return known
    if _SYNTHETIC.search(key):
        return SourceTerms(key, f"{key} (SYNTHETIC, simulated records)", "none needed (simulated)", "", "")
    return SourceTerms(key, key, "terms not known to casualtystats: check with its publisher", "", "")


def cite(sources) -> list[SourceTerms]:
    """Terms of each distinct source in `sources` (an iterable of `source` values; merged
    values such as "GTD+UCDP" count for each part), in first-seen order."""
    seen: dict[str, SourceTerms] = {}
    for value in sources:
        for part in str(value).split("+"):
            terms = terms_of(part)
            seen.setdefault(terms.source, terms)
    return list(seen.values())
