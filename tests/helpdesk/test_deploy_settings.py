import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_check_deploy_without_warnings(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "x7!Kq2#pLm9$Vt4&Rz8@Nw3^Hy6*Bc1%Jd5(Fg0)Se-Ua_Ox+Ei=" * 2,
        "ALLOWED_HOSTS": "help.example.com",
        "FRONTLINE_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_in_production_is_reported(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(
        {"DEBUG": "0", "ALLOWED_HOSTS": "help.example.com", "FRONTLINE_VAR_DIR": str(tmp_path)}
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "helpdesk.W001" in result.stdout + result.stderr


def test_bad_boolean_in_environment_is_a_clear_error(tmp_path):
    env = {**os.environ, "DEBUG": "maybe", "FRONTLINE_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr
