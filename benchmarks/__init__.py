"""Benchmarks of convoai-mcp against the local emulator (see README.md)."""
