"""Calibrated claim-matching parameters: per-method thresholds (and the semantic blend),
measured on the labelled dev set by ``mediamon eval --calibrate`` and shipped as
``config/data/calibration.json``. A threshold set in the environment overrides them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from matching.semantic import Blend


@dataclass(frozen=True)
class Calibration:
    thresholds: dict[str, float] = field(default_factory=lambda: {"lexical": 0.55, "semantic": 0.6})
    blend: Blend = field(default_factory=Blend)
    measured: dict[str, object] = field(default_factory=dict)  # what it was calibrated on, and the F1
    # per claim, a semantic bar above the threshold (matching.evaluation.fit_claim_floors)
    claim_floors: dict[str, float] = field(default_factory=dict)

    def threshold(self, method: str) -> float:
        return self.thresholds[method]


class CalibrationError(Exception):
    """The calibration file exists but cannot be read."""


def load_calibration(path: Path) -> Calibration:
    """The calibration at ``path``, or the defaults if there is none."""
    if not path.exists():
        return Calibration()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Calibration(
            thresholds={str(k): float(v) for k, v in data["thresholds"].items()},
            blend=Blend(**data.get("blend", {})),
            measured=dict(data.get("measured", {})),
            claim_floors={str(k): float(v) for k, v in data.get("claim_floors", {}).items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CalibrationError(
            f"{path} is not a valid calibration file ({exc}); rebuild it with `mediamon eval --calibrate`"
        ) from exc


def save_calibration(calibration: Calibration, path: Path) -> None:
    path.write_text(json.dumps(asdict(calibration), indent=2, sort_keys=True) + "\n", encoding="utf-8")
