"""show_config / `python -m blockops info`, thread settings, BLOCKOPS_SIMD and the error classes."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import blockops
from blockops import _config, geo

ALL_LEVELS = ("scalar", "avx2", "avx512")


def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("BLOCKOPS_SIMD", "BLOCKOPS_NUM_THREADS", "OMP_NUM_THREADS")}
    env.update(extra)
    return env


def _run(code, tmp_path, env=None, args=None, **kw):
    cmd = [sys.executable] + (args if args is not None else ["-c", textwrap.dedent(code)])
    return subprocess.run(cmd, cwd=tmp_path, env=env or _env(), capture_output=True, text=True,
                          timeout=120, **kw)


# --------------------------------------------------------------------------------------
# show_config / info
# --------------------------------------------------------------------------------------
def test_config_info_contents():
    info = blockops.config_info()
    for key in ("version", "compiler", "c_flags", "openmp", "simd_compiled", "simd_supported",
                "simd_selected", "simd_reason", "default_threads", "effective_cpus"):
        assert key in info, key
    assert info["version"] == blockops.__version__ and info["version"]
    assert isinstance(info["openmp"], bool)
    assert isinstance(info["compiler"], str) and info["compiler"].strip()
    assert "scalar" in info["simd_compiled"]
    assert set(info["simd_compiled"]) <= set(ALL_LEVELS)
    assert set(info["simd_supported"]) <= set(info["simd_compiled"])
    assert info["simd_selected"] in info["simd_supported"]
    assert isinstance(info["simd_reason"], str) and info["simd_reason"].strip()
    assert isinstance(info["default_threads"], int) and info["default_threads"] >= 1
    if hasattr(os, "sched_getaffinity"):
        assert info["effective_cpus"] == len(os.sched_getaffinity(0))
    assert list(_config.supported_simd_levels()) == list(info["simd_supported"])


def test_show_config_prints_everything(capsys):
    info = blockops.config_info()
    buf = io.StringIO()
    assert blockops.show_config(file=buf) is None
    text = buf.getvalue()
    low = text.lower()
    assert info["version"] in text
    assert info["compiler"] in text
    assert "openmp" in low
    assert any(w in low for w in (("on", "yes", "true", "enabled") if info["openmp"]
                                  else ("off", "no", "false", "disabled")))
    assert "simd" in low
    for lvl in info["simd_compiled"]:
        assert lvl in text
    assert info["simd_selected"] in text and info["simd_reason"] in text
    assert "thread" in low and str(info["default_threads"]) in text
    assert "cpu" in low and str(info["effective_cpus"]) in text
    # default file is stdout
    blockops.show_config()
    assert capsys.readouterr().out == text


def test_cli_info_matches_show_config(tmp_path):
    cli = _run(None, tmp_path, args=["-m", "blockops", "info"])
    assert cli.returncode == 0, cli.stderr
    api = _run("import blockops; blockops.show_config()", tmp_path)
    assert api.returncode == 0, api.stderr
    assert cli.stdout == api.stdout
    assert blockops.__version__ in cli.stdout


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs sched_setaffinity")
def test_effective_cpus_follow_affinity(tmp_path):
    cpu = sorted(os.sched_getaffinity(0))[0]
    code = "import blockops; i = blockops.config_info(); print(i['effective_cpus'], i['default_threads'])"
    res = _run(code, tmp_path, preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["1", "1"], res.stdout


# --------------------------------------------------------------------------------------
# threads
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_set_get_num_threads_round_trip(restore_num_threads, n):
    blockops.set_num_threads(n)
    assert blockops.get_num_threads() == n
    assert blockops.config_info()["default_threads"] == n


@pytest.mark.parametrize("bad", [0, -1, "x", 1.5])
def test_set_num_threads_rejects_bad_values(restore_num_threads, bad):
    blockops.set_num_threads(3)
    with pytest.raises((ValueError, TypeError)):
        blockops.set_num_threads(bad)
    assert blockops.get_num_threads() == 3


@pytest.mark.parametrize("bad", [0, -2, "x"])
def test_n_threads_argument_rejects_bad_values(bad):
    a = np.zeros(4)
    with pytest.raises((ValueError, TypeError)):
        geo.haversine(lat1=a, lon1=a, lat2=a, lon2=a, n_threads=bad)


# --------------------------------------------------------------------------------------
# SIMD selection
# --------------------------------------------------------------------------------------
_PROBE = """
    import sys, numpy as np, blockops
    from blockops import geo
    r = np.random.default_rng(12345)
    n = 1037
    lat1 = np.degrees(np.arcsin(r.uniform(-1, 1, n))); lon1 = r.uniform(-180, 180, n)
    lat2 = np.degrees(np.arcsin(r.uniform(-1, 1, n))); lon2 = r.uniform(-180, 180, n)
    lat1[::101] = np.nan
    d64 = geo.haversine(lat1=lat1, lon1=lon1, lat2=lat2, lon2=lon2)
    d32 = geo.haversine(lat1=lat1.astype(np.float32), lon1=lon1.astype(np.float32),
                        lat2=lat2.astype(np.float32), lon2=lon2.astype(np.float32))
    m = geo.within_radius(lat=lat1, lon=lon1, center_lat=10.0, center_lon=20.0, radius_m=5e6)
    np.savez(sys.argv[1], d64=d64, d32=d32, m=m)
    i = blockops.config_info()
    print(i["simd_selected"]); print(i["simd_reason"])
"""


def _probe_in_process():
    ns = {}
    exec(textwrap.dedent(_PROBE).replace("np.savez(sys.argv[1], d64=d64, d32=d32, m=m)", "")
         .replace('print(i["simd_selected"]); print(i["simd_reason"])', ""), ns)
    return ns["d64"], ns["d32"], ns["m"]


@pytest.mark.parametrize("level", _config.supported_simd_levels())
def test_env_var_forces_level_and_matches_in_process(tmp_path, level):
    out = tmp_path / "probe.npz"
    res = _run(None, tmp_path, env=_env(BLOCKOPS_SIMD=level),
               args=["-c", textwrap.dedent(_PROBE), str(out)])
    assert res.returncode == 0, res.stderr
    selected, reason = res.stdout.splitlines()[:2]
    assert selected == level
    assert "BLOCKOPS_SIMD" in reason
    got = np.load(out)
    with _config.simd_level(level):
        assert blockops.config_info()["simd_selected"] == level
        d64, d32, m = _probe_in_process()
    for name, want in (("d64", d64), ("d32", d32), ("m", m)):
        assert got[name].dtype == want.dtype
        assert got[name].tobytes() == want.tobytes(), f"{name} differs at {level}"


def test_env_var_bogus_fails_import_with_clear_message(tmp_path):
    res = _run("import blockops", tmp_path, env=_env(BLOCKOPS_SIMD="bogus"))
    assert res.returncode != 0
    err = res.stderr
    assert "BLOCKOPS_SIMD" in err and "bogus" in err, err
    assert "SimdConfigError" in err, err
    for lvl in _config.supported_simd_levels():
        assert lvl in err.split("SimdConfigError", 1)[1], err
    assert "Segmentation" not in err and "core dumped" not in err


@pytest.mark.parametrize("level", [lv for lv in ALL_LEVELS if lv not in _config.supported_simd_levels()]
                         or [pytest.param("none", marks=pytest.mark.skip(reason="CPU runs every level"))])
def test_env_var_unsupported_level_fails_import(tmp_path, level):
    res = _run("import blockops", tmp_path, env=_env(BLOCKOPS_SIMD=level))
    assert res.returncode != 0
    assert "BLOCKOPS_SIMD" in res.stderr and "SimdConfigError" in res.stderr, res.stderr


def test_simd_level_context_manager_restores_and_validates():
    before = blockops.config_info()["simd_selected"]
    for lvl in _config.supported_simd_levels():
        with _config.simd_level(lvl):
            assert blockops.config_info()["simd_selected"] == lvl
        assert blockops.config_info()["simd_selected"] == before
    with pytest.raises(blockops.SimdConfigError):
        with _config.simd_level("bogus"):
            pass  # pragma: no cover
    assert blockops.config_info()["simd_selected"] == before
    # restored even when the body raises
    with pytest.raises(KeyError):
        with _config.simd_level("scalar"):
            raise KeyError("boom")
    assert blockops.config_info()["simd_selected"] == before


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,base", [
    ("CsvParseError", ValueError),
    ("SimdConfigError", ValueError),
    ("BlockopsDomainError", ValueError),
    ("BlockopsMemoryError", MemoryError),
])
def test_error_hierarchy(cls, base):
    c = getattr(blockops, cls)
    assert issubclass(c, blockops.BlockopsError) and issubclass(c, base)
    assert issubclass(blockops.BlockopsError, Exception)
    # catchable as the builtin
    with pytest.raises(base):
        raise c("x")


def test_domain_error_is_raised_by_kernels():
    a = np.zeros(3)
    lat = np.array([0.0, 95.0, 0.0])
    with pytest.raises(blockops.BlockopsDomainError) as ei:
        geo.haversine(lat1=lat, lon1=a, lat2=a, lon2=a)
    assert ei.value.index == 1 and ei.value.value == 95.0


def test_openmp_spin_default_respects_the_users_environment(tmp_path):
    """blockops shortens libgomp's idle spinning unless the user chose a wait policy."""
    code = ("import os, blockops; print(os.environ.get('GOMP_SPINCOUNT'), '|', "
            "blockops.config_info()['openmp_wait'])")
    base = {k: v for k, v in _env().items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = _run(code, tmp_path, env=base)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("|")[0].strip() == "1000" and "set by blockops" in out.stdout
    for k, v in (("OMP_WAIT_POLICY", "PASSIVE"), ("GOMP_SPINCOUNT", "7")):
        out = _run(code, tmp_path, env={**base, k: v})
        assert out.returncode == 0, out.stderr
        spin, wait = out.stdout.split("|")
        assert spin.strip() == ("7" if k == "GOMP_SPINCOUNT" else "None")
        assert f"{k}={v}" in wait and "from the environment" in wait
