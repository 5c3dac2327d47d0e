"""Speed and memory figures, each with a ratio against a baseline measured in the same run."""
