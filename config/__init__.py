"""Settings from the environment (and `.env`), with safe defaults for the embedded mode."""

from config.settings import PROJECT_ROOT, Settings, SettingsError, load_settings

__all__ = ["PROJECT_ROOT", "Settings", "SettingsError", "load_settings"]
