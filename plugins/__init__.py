"""pytest plugins of the harness (loaded by the root conftest), kept out of the four layers."""
