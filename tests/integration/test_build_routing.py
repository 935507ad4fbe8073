"""`lotse build` checks the routing file, its holiday calendar included (issue 21)."""

from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path

import pytest

from handoff import routing_model
from ops import cli

SHIPPED = routing_model.ROUTING_FILE.read_text(encoding="utf-8")


def routing_file(tmp_path: Path, old: str, new: str) -> Path:
    assert SHIPPED.count(old) == 1, old
    path = tmp_path / "routing.yml"
    path.write_text(SHIPPED.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "      subdivision: NW\n      # Further",
            "      subdivision: NRW\n      # Further",
            "team 'sales'.holidays.subdivision: 'NRW' is not a subdivision of DE (known: "
            "BB, BE, BW, BY, HB, HE, HH, MV, NI, NW, RP, SH, SL, SN, ST, TH, Augsburg)",
        ),
        (
            "      country: DE  ",
            "      country: XX  ",
            "team 'sales'.holidays.country: no holiday calendar for country 'XX' (known: ",
        ),
    ],
)
def test_a_bad_holiday_setting_stops_lotse_build_with_the_valid_choices(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    old: str,
    new: str,
    message: str,
) -> None:
    broken = routing_file(tmp_path, old, new)
    load_broken = lru_cache(maxsize=1)(partial(routing_model.load_routing_model, broken))
    monkeypatch.setattr("ops.build.load_routing_model", load_broken)
    assert cli.main(["build"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"lotse: {broken}:")
    assert message in error
