"""An installation runs only with its own token secret: there is no default one."""
from __future__ import annotations

import pytest

from shared.config import ConfigurationError, settings_from_env


def test_without_a_configured_secret_there_is_none_to_sign_with(tmp_path):
    settings = settings_from_env({"HBCLOUD_DATA_DIR": str(tmp_path)})
    assert settings.token_secret is None
    with pytest.raises(ConfigurationError):
        settings.signing_secret()


def test_the_secret_comes_from_the_environment_a_file_or_the_one_kept_for_the_installation(tmp_path):
    given = "s" * 40
    assert settings_from_env({"HBCLOUD_DATA_DIR": str(tmp_path), "HBCLOUD_TOKEN_SECRET": given}).signing_secret() == given
    (tmp_path / "elsewhere").write_text("f" * 40 + "\n")
    from_file = {"HBCLOUD_DATA_DIR": str(tmp_path), "HBCLOUD_TOKEN_SECRET_FILE": str(tmp_path / "elsewhere")}
    assert settings_from_env(from_file).signing_secret() == "f" * 40
    (tmp_path / "token_secret").write_text("k" * 44)
    assert settings_from_env({"HBCLOUD_DATA_DIR": str(tmp_path)}).signing_secret() == "k" * 44
    with pytest.raises(ConfigurationError):
        settings_from_env({"HBCLOUD_DATA_DIR": str(tmp_path), "HBCLOUD_TOKEN_SECRET_FILE": str(tmp_path / "missing")})
