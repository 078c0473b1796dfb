"""The calibration file: what `mediamon eval --calibrate` writes is what the matcher reads."""

from __future__ import annotations

from pathlib import Path

from matching.calibration import Calibration, load_calibration, save_calibration
from matching.semantic import Blend


def test_claim_floors_survive_a_save_and_a_load(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    written = Calibration(
        thresholds={"lexical": 0.6, "semantic": 0.34},
        blend=Blend(cosine=4.0),
        claim_floors={"economic-ties-ease-fallout": 0.74},
    )
    save_calibration(written, path)
    read = load_calibration(path)
    assert read.claim_floors == {"economic-ties-ease-fallout": 0.74}
    assert read.threshold("semantic") == 0.34 and read.blend.cosine == 4.0


def test_a_calibration_file_from_before_floors_has_none(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    path.write_text('{"thresholds": {"lexical": 0.6, "semantic": 0.33}, "blend": {}}', encoding="utf-8")
    assert load_calibration(path).claim_floors == {}
