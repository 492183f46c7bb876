"""What the lab's libraries need to stay offline, set in code before they are imported.

litellm fetches its model cost map from GitHub when it is imported, unless LITELLM_LOCAL_MODEL_COST_MAP is set;
the Hugging Face hub (under sentence-transformers) looks names up online unless HF_HUB_OFFLINE is set. Both read
the variables once, at import, so `stay_offline()` runs before the lab imports either. Values the user has set
win (e.g. HF_HUB_OFFLINE=0), and nothing is changed in a process that never uses those libraries.
"""

from __future__ import annotations

import os

OFFLINE_ENVIRONMENT = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}


def stay_offline() -> None:
    """Set every variable of OFFLINE_ENVIRONMENT the user has not set."""
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
