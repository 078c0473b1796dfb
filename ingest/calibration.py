"""Calibrated claim-matching parameters: per-method thresholds (and the semantic blend),
measured on the labelled dev set by ``mediamon eval --calibrate`` and shipped as
``mediamon/data/calibration.json``. A threshold set in the environment overrides them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ingest.semantic import Blend


@dataclass(frozen=True)
class Calibration:
    thresholds: dict[str, float] = field(default_factory=lambda: {"lexical": 0.55, "semantic": 0.6})
    blend: Blend = field(default_factory=Blend)
    measured: dict[str, object] = field(default_factory=dict)  # what it was calibrated on, and the F1

    def threshold(self, method: str) -> float:
        return self.thresholds[method]


def load_calibration(path: Path) -> Calibration:
    if not path.exists():
        return Calibration()
    data = json.loads(path.read_text(encoding="utf-8"))
    return Calibration(
        thresholds={str(k): float(v) for k, v in data["thresholds"].items()},
        blend=Blend(**data.get("blend", {})),
        measured=dict(data.get("measured", {})),
    )


def save_calibration(calibration: Calibration, path: Path) -> None:
    path.write_text(json.dumps(asdict(calibration), indent=2, sort_keys=True) + "\n", encoding="utf-8")
