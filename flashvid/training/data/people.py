"""Who is who in the Intel people clips (``../shared/data/videos/asl_*.mkv``).

The 20 clips show five people filmed in one spot. Anything that pairs one clip's keyframe with another clip's
frames as "someone else" (training's different-identity case, the evaluation's other-subject ablation, the
checkpoint choice) must know when two clips show the same person, or it teaches and scores the matte to drop
the very subject it was keyed on.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

#: person of each clip, judged by eye from all twenty first frames (clothes, face, hair); checked in a contact
#: sheet of the first frames (A: black "Misfits" hoodie, B: grey T-shirt, C: orange hoodie, D: black patterned
#: jacket, E: plaid jumper and glasses)
PEOPLE = {
    "asl_again": "A",
    "asl_brother": "A",
    "asl_help": "A",
    "asl_no": "A",
    "asl_student": "A",
    "asl_yes": "A",
    "asl_bird": "B",
    "asl_milk": "B",
    "asl_please": "B",
    "asl_sorry": "B",
    "asl_thanks": "B",
    "asl_book": "C",
    "asl_learn": "C",
    "asl_school": "C",
    "asl_walk": "C",
    "asl_eat": "D",
    "asl_night": "D",
    "asl_sister": "D",
    "asl_hungry": "E",
    "asl_want": "E",
}


def subject_of(name: str) -> str:
    """The person a clip or foreground shows: the table's label for a known Intel clip, else its own name (every
    other source - a portrait, a cutout, a real flash pair - is one subject per file)."""
    return "person:" + PEOPLE[name] if name in PEOPLE else name


def subject_id(name: str) -> int:
    """`subject_of` as a stable integer (CRC-32), for batching as a tensor."""
    return zlib.crc32(subject_of(name).encode())


def someone_else(names: Sequence[str], i: int) -> int | None:
    """Index of the first clip after `i` (cyclically) that shows a different person than clip `i`, or None."""
    n = len(names)
    for k in range(1, n):
        j = (i + k) % n
        if subject_of(names[j]) != subject_of(names[i]):
            return j
    return None
