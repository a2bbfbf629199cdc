"""Opaque, non-sequential object ids (Prisma's cuid, here cuid2 from the `cuid2` package)."""

from cuid2 import Cuid

ID_LENGTH = 25
_generator = Cuid(length=ID_LENGTH)


def new_id() -> str:
    return _generator.generate()
