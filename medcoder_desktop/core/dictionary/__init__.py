"""The code dictionary: build, store, import, search."""

from medcoder_desktop.core.dictionary.dictionary import Dictionary

__all__ = ["Dictionary"]
