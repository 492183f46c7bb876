"""Policy skills' policy: a trained actor as plain arrays, its deterministic MLP run in numpy, with its normalisation.

Policy skills run inside the skill sandbox, which must not unpickle anything or import torch: the exported file is a
numpy `.npz` of weights (no pickled objects) and the forward pass below gives the same action as SB3's
`predict(deterministic=True)`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lab.errors import LabError

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Tanh": np.tanh,
    "ReLU": lambda x: np.maximum(x, 0.0),
    "ELU": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
    "LeakyReLU": lambda x: np.where(x > 0, x, 0.01 * x),
    "Identity": lambda x: x,
}
FORMAT = 1


@dataclass
class NumpyPolicy:
    """A deterministic MLP actor: normalise, hidden layers, output layer, then clip (or tanh-squash) to the bounds."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activations: list[str]
    squash: bool
    low: np.ndarray
    high: np.ndarray
    obs_mean: np.ndarray | None = None
    obs_var: np.ndarray | None = None
    clip_obs: float = 10.0
    epsilon: float = 1e-8

    def act(self, observations: np.ndarray) -> np.ndarray:
        """Actions for a batch of raw observations (or one observation)."""
        x = np.asarray(observations, dtype=np.float32)
        if self.obs_mean is not None and self.obs_var is not None:
            x = np.clip((x - self.obs_mean) / np.sqrt(self.obs_var + self.epsilon), -self.clip_obs, self.clip_obs)
        x = x.astype(np.float32)
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = x @ weight.T + bias
            if index < len(self.activations):
                x = ACTIVATIONS[self.activations[index]](x)
        if self.squash:
            return self.low + 0.5 * (np.tanh(x) + 1.0) * (self.high - self.low)
        return np.clip(x, self.low, self.high)

    def save(self, path: Path) -> None:
        """Write-then-rename, so a reader never sees half a file."""
        arrays: dict[str, Any] = {"format": np.int64(FORMAT), "squash": np.bool_(self.squash), "low": self.low,
                                  "high": self.high, "activations": np.array(self.activations, dtype=np.str_),
                                  "clip_obs": np.float64(self.clip_obs), "epsilon": np.float64(self.epsilon)}
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            arrays[f"weight_{index}"], arrays[f"bias_{index}"] = weight, bias
        if self.obs_mean is not None and self.obs_var is not None:
            arrays["obs_mean"], arrays["obs_var"] = self.obs_mean, self.obs_var
        partial = path.with_name(f".{path.name}.partial")
        with open(partial, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path) -> NumpyPolicy:
        try:
            with np.load(path, allow_pickle=False) as saved:
                if int(saved["format"]) != FORMAT:
                    raise LabError(f"{path} is a policy export of format {int(saved['format'])}; this lab reads "
                                   f"format {FORMAT}", hint="export it again from its run with this version")
                layers = sum(1 for key in saved.files if key.startswith("weight_"))
                return cls(
                    weights=[saved[f"weight_{i}"] for i in range(layers)],
                    biases=[saved[f"bias_{i}"] for i in range(layers)],
                    activations=[str(a) for a in saved["activations"]], squash=bool(saved["squash"]),
                    low=saved["low"], high=saved["high"],
                    obs_mean=saved["obs_mean"] if "obs_mean" in saved.files else None,
                    obs_var=saved["obs_var"] if "obs_var" in saved.files else None,
                    clip_obs=float(saved["clip_obs"]), epsilon=float(saved["epsilon"]))
        except (OSError, KeyError, ValueError) as error:
            raise LabError(f"cannot read the policy export {path}: {error}") from None


def _mlp(modules: Any) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Linear layers and the activation after each, from a torch Sequential (or an empty one)."""
    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    activations: list[str] = []
    for module in modules:
        kind = type(module).__name__
        if kind == "Linear":
            weights.append(module.weight.detach().cpu().numpy().astype(np.float32))
            biases.append(module.bias.detach().cpu().numpy().astype(np.float32))
        elif kind in ACTIVATIONS:
            activations.append(kind)
        else:
            raise LabError(f"cannot export a policy layer of type {kind}",
                           hint=f"policy skills support MLPs with {', '.join(ACTIVATIONS)} activations")
    if len(activations) != len(weights):
        raise LabError("cannot export this policy: each hidden layer must be followed by one activation")
    return weights, biases, activations


def export_policy(model: Any, obs_mean: np.ndarray | None = None, obs_var: np.ndarray | None = None,
                  clip_obs: float = 10.0, epsilon: float = 1e-8) -> NumpyPolicy:
    """The deterministic actor of an SB3 PPO or SAC MLP policy, as a NumpyPolicy."""
    policy = model.policy
    space = model.action_space
    if hasattr(policy, "actor") and hasattr(policy.actor, "mu"):
        weights, biases, activations = _mlp(policy.actor.latent_pi)
        head, squash = policy.actor.mu, True
    elif hasattr(policy, "mlp_extractor") and hasattr(policy, "action_net"):
        if type(policy.features_extractor).__name__ != "FlattenExtractor":
            raise LabError("cannot export a policy whose features extractor is not a flatten layer")
        weights, biases, activations = _mlp(policy.mlp_extractor.policy_net)
        head, squash = policy.action_net, False
    else:
        raise LabError(f"cannot export a policy of type {type(policy).__name__}",
                       hint="policy skills come from PPO or SAC MLP policies")
    weights.append(head.weight.detach().cpu().numpy().astype(np.float32))
    biases.append(head.bias.detach().cpu().numpy().astype(np.float32))
    return NumpyPolicy(weights, biases, activations, squash, np.asarray(space.low, dtype=np.float32),
                       np.asarray(space.high, dtype=np.float32), obs_mean, obs_var, clip_obs, epsilon)
