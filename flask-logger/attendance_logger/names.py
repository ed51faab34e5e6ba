"""Names compared as a person reads them: case, accents and spacing do not matter."""
from __future__ import annotations

import unicodedata


def fold_name(name: str) -> str:
    """`name` with case, accents and runs of whitespace folded away: "José  ÁLVAREZ" and
    "jose alvarez" fold alike. Letters that Unicode does not decompose into a base letter and an
    accent (ø, ł, đ) stay distinct."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def fold_course(course: str) -> str:
    """A course id as course ids are compared (filters, grants, exports): without regard to case,
    so `math101` is MATH101."""
    return course.casefold()
