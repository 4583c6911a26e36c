"""The fallbacks that make blockops work on its oldest declared versions (Python 3.10, pandas
2.1, pyarrow 14), forced in-process on whatever versions run the tests, so that the newest-deps
run checks them too. CI's matrix runs the whole package on the oldest versions as well."""
from __future__ import annotations

import sys

import pytest

from blockops import _compat

TOML = ('[input]\npath = "in.csv"\nblocksize = "1MB"\n[output]\ndir = "o"\n'
        '[attackers]\nmethod = "hash"\nratio = 0.25\n')


# ------------------------------------------------------------------ TOML without tomllib (3.10)

@pytest.fixture
def no_tomllib(monkeypatch):
    """Python 3.10: ``import tomllib`` fails (None in sys.modules makes the import fail)."""
    pytest.importorskip("tomli", reason="tomli is installed with blockops[test]")
    monkeypatch.setitem(sys.modules, "tomllib", None)
    with pytest.raises(ModuleNotFoundError):
        import tomllib  # noqa: F401


def test_toml_module_falls_back_to_tomli(no_tomllib):
    import tomli

    assert _compat.toml_module() is tomli


def test_pipeline_config_reads_toml_through_tomli(tmp_path, no_tomllib):
    from blockops.v2x.pipeline import PipelineConfig

    (tmp_path / "in.csv").write_bytes(b"")
    (tmp_path / "run.toml").write_text(TOML)
    cfg = PipelineConfig.from_toml(tmp_path / "run.toml")
    assert cfg["input"]["path"] == str(tmp_path / "in.csv")
    assert cfg["input"]["blocksize"] == "1MB"
    assert cfg["attackers"]["ratio"] == 0.25
    (tmp_path / "bad.toml").write_text("[input\n")
    with pytest.raises(ValueError, match="invalid TOML"):
        PipelineConfig.from_toml(tmp_path / "bad.toml")
