"""A trained policy as a run directory keeps it, and as policy skills run it.

One policy, saved the way stable-baselines3 saves it, so plain SB3 and rl-zoo3 load it as they load their own:
`policy.zip` (`model.save`) and, when observations were normalised, `vecnormalize.pkl` (`VecNormalize.save`):
`PPO.load("policy.zip")` and `VecNormalize.load("vecnormalize.pkl", venv)` reproduce the lab's evaluation. Its
deterministic actor is also exported as plain arrays, `policy.npz`, with the normalisation inside: policy skills run
inside the skill sandbox, which must not unpickle anything or import torch, and the numpy forward pass below gives
the same action as SB3's `predict(deterministic=True)`.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from lab.errors import LabError
from lab.runs import CONFIG, Run

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Tanh": np.tanh,
    "ReLU": lambda x: np.maximum(x, 0.0),
    "ELU": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
    "LeakyReLU": lambda x: np.where(x > 0, x, 0.01 * x),
    "Identity": lambda x: x,
}
FORMAT = 1
POLICY = "policy.zip"
VECNORMALIZE = "vecnormalize.pkl"
POLICY_EXPORT = "policy.npz"
CHECKPOINT = "checkpoint.pt"
"""The lab's batched PPO's networks, optimiser and statistics (torch), to go on training; it acts from policy.npz."""
OLD_NORMALIZATION = "normalization.npz"
"""Where runs made before `vecnormalize.pkl` keep their observation statistics (still read)."""


def normalized(observations: Any, mean: np.ndarray | None, var: np.ndarray | None, clip: float,
               epsilon: float) -> np.ndarray:
    """Observations as SB3's VecNormalize gives them to the policy (float32; unchanged without statistics)."""
    x = np.asarray(observations, dtype=np.float32)
    if mean is None or var is None:
        return x
    return np.clip((x - mean) / np.sqrt(var + epsilon), -clip, clip).astype(np.float32)


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
    log_std: np.ndarray | None = None
    """The Gaussian's log standard deviation (the lab's batched PPO keeps it), so actions can also be sampled."""
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0), repr=False)

    def act(self, observations: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch of raw observations (or one observation): the Gaussian's mean, or a sample from it
        (clipped to the bounds, as in training) when not `deterministic` and the policy knows its deviation."""
        x = normalized(observations, self.obs_mean, self.obs_var, self.clip_obs, self.epsilon)
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = x @ weight.T + bias
            if index < len(self.activations):
                x = ACTIVATIONS[self.activations[index]](x)
        if self.squash:
            return self.low + 0.5 * (np.tanh(x) + 1.0) * (self.high - self.low)
        if not deterministic and self.log_std is not None:
            x = x + np.exp(self.log_std) * self.rng.standard_normal(x.shape).astype(np.float32)
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
        if self.log_std is not None:
            arrays["log_std"] = self.log_std
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
                    clip_obs=float(saved["clip_obs"]), epsilon=float(saved["epsilon"]),
                    log_std=saved["log_std"] if "log_std" in saved.files else None)
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


class Actor(Protocol):
    """A trained policy as evaluation and rendering use it: actions for a batch of raw observations."""

    def act(self, observations: np.ndarray, deterministic: bool = True) -> np.ndarray: ...


@dataclass
class Policy:
    """A trained policy with the observation normalisation it was trained with."""

    model: BaseAlgorithm
    obs_mean: np.ndarray | None = None
    obs_var: np.ndarray | None = None
    clip_obs: float = 10.0
    epsilon: float = 1e-8

    def act(self, observations: np.ndarray, deterministic: bool = True) -> np.ndarray:
        observations = normalized(observations, self.obs_mean, self.obs_var, self.clip_obs, self.epsilon)
        actions, _ = self.model.predict(observations, deterministic=deterministic)
        return np.asarray(actions)


def resolve_device(device: str) -> str:
    """The torch device `auto` means here, or `device` itself once it is known to exist."""
    import torch  # heavy: torch, only where a policy is trained or loaded

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise LabError("--device cuda was asked for, but torch sees no CUDA device", hint="use --device auto or cpu")
    return device


def save_policy(run: Run, model: Any, normalizer: Any | None) -> None:
    """Write the policy into the run as SB3 saves it (`policy.zip`; `vecnormalize.pkl` when observations are
    normalised), each file renamed into place, and its deterministic actor as plain arrays (`policy.npz`)."""
    partial = run.file(".policy.partial.zip")
    model.save(partial)
    os.replace(partial, run.file(POLICY))
    normalization: dict[str, Any] = {}
    if normalizer is not None:
        rms = normalizer.obs_rms
        normalization = {"obs_mean": rms.mean, "obs_var": rms.var, "clip_obs": float(normalizer.clip_obs),
                         "epsilon": float(normalizer.epsilon)}
        partial = run.file(".vecnormalize.partial.pkl")
        normalizer.save(partial)
        os.replace(partial, run.file(VECNORMALIZE))
    export_policy(model, **normalization).save(run.file(POLICY_EXPORT))


def load_policy(run: Run, device: str = "auto") -> Policy | NumpyPolicy:
    """The policy saved in a run directory, ready to act on raw observations (normalised as in training): the
    lab's PPO acts from its export; an SB3 model is loaded by SB3 (a run from before `vecnormalize.pkl` keeps its
    statistics in `normalization.npz`, read the same way)."""
    if run.file(CHECKPOINT).is_file():
        return NumpyPolicy.load(run.file(POLICY_EXPORT))
    from stable_baselines3 import PPO, SAC  # heavy: torch, only where a policy is loaded

    config = run.read_json(CONFIG)
    path = run.file(POLICY)
    if not path.is_file():
        raise LabError(f"{run.path} has no trained policy ({POLICY})",
                       hint="the run may have failed or been stopped before training finished; see events.jsonl")
    algo: type[PPO] | type[SAC] = SAC if config["algo"] == "sac" else PPO
    policy = Policy(algo.load(path, device=resolve_device(device)))
    normalization = run.file(VECNORMALIZE)
    if normalization.is_file():
        with open(normalization, "rb") as handle:
            normalizer = pickle.load(handle)  # the run's own file, written by save_policy, as SB3 reads it
        policy.obs_mean, policy.obs_var = normalizer.obs_rms.mean, normalizer.obs_rms.var
        policy.clip_obs, policy.epsilon = float(normalizer.clip_obs), float(normalizer.epsilon)
    elif run.file(OLD_NORMALIZATION).is_file():
        with np.load(run.file(OLD_NORMALIZATION)) as saved:
            policy.obs_mean, policy.obs_var = saved["mean"], saved["var"]
            policy.clip_obs, policy.epsilon = float(saved["clip_obs"]), float(saved["epsilon"])
    return policy
