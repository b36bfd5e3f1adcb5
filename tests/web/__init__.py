"""The web UI's files checked without a browser: i18n keys and messages."""
