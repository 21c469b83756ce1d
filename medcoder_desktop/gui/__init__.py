"""The review window (PySide6). Qt lives only in this package; everything else goes through
``medcoder_desktop.core.service.CodingService``."""
