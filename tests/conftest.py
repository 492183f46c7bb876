"""Test-wide settings: offscreen rendering, no hub downloads, litellm's bundled cost map."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
