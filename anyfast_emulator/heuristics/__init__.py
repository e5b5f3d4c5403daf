"""The emulator's heuristic answers: text, tool calls and JSON guessed from the prompt, so the demo, the
examples and the framework suites get plausible answers without a script. Your own tests should script
the answers instead (:mod:`anyfast_emulator.script`)."""

from anyfast_emulator.heuristics.brain import think

__all__ = ["think"]
