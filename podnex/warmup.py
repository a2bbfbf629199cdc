"""What a web process does once at start, so that its first requests and its garbage
collector do not stall the requests it serves (bench/load.py measured both).

- Django imports the URLconf, and with it every view, serializer and the SDKs they use, on
  the first request: about 0.5 s, during which every request that process received waited.
- A full (generation 2) collection walks every object the process holds; after start-up that
  is mostly modules, classes and functions that live as long as the process, and each such
  pass stopped the process for 120-140 ms under load. `gc.freeze()` moves what exists after
  the warm-up to the permanent generation, which collections no longer walk (the use the
  Python documentation gives for it); what requests allocate is collected as before.
"""

from __future__ import annotations

import gc

from django.urls import get_resolver


def warm_up() -> None:
    get_resolver().url_patterns  # noqa: B018 - the import is the point
    gc.collect()
    gc.freeze()
