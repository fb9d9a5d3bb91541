"""Agent profiles: named, complete agent configurations from a TOML file (issue 12)."""
