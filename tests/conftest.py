"""Settings shared by the whole suite.

Hypothesis runs derandomized under CI (``CI`` set, as ``.ci/run`` is run), so a red build is
reproducible from its commit; locally it explores new examples on every run. Set
``HYPOTHESIS_PROFILE=explore`` to explore under CI too.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "explore")
)
