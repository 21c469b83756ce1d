"""medcoder_desktop: an offline assistant for professional medical coders."""

__version__ = "0.1.0"
