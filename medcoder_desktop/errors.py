"""The one family of errors a user sees. Messages are written for coders and IT staff."""


class MedcoderError(Exception):
    """Base of every error the product reports to a user.

    Attributes:
        exit_code: the CLI's exit status for this error.
    """

    exit_code = 1


class DictionaryMissingError(MedcoderError):
    """The code dictionary has not been built yet."""


class DictionaryBuildError(MedcoderError):
    """Building the dictionary from its sources failed."""


class ImportFileError(MedcoderError):
    """An imported file is unreadable, malformed, too large or of the wrong kind."""

    exit_code = 2


class CodeNotFoundError(MedcoderError):
    """A code that is not in any code set of the dictionary."""

    exit_code = 3


class InvalidInputError(MedcoderError):
    """Input the user gave cannot be used (empty query, bad option, unreadable file)."""

    exit_code = 2


class DatabaseLockedError(MedcoderError):
    """Another program holds the database."""


class WorkspaceError(MedcoderError):
    """The coder's workspace (encounters, decisions, audit log) refused an operation or is unusable."""


class SettingsError(MedcoderError):
    """The settings file cannot be read or holds values the product cannot use."""

    exit_code = 2


class ModelError(MedcoderError):
    """A language model is missing, corrupt, unsupported, or could not be fetched."""

    exit_code = 4


class PreferencesError(MedcoderError):
    """Organization preferences cannot be used or changed: a pack that is tampered with, unsigned by a trusted
    key, malformed or too large; a rule that makes no sense; a missing signing key."""

    exit_code = 5


class UntrustedSignerError(PreferencesError):
    """A pack is signed by a key this workstation does not trust yet; ``fingerprint`` names it, so that a person
    can compare it with the administrator's before trusting it."""

    def __init__(self, message: str, fingerprint: str):
        super().__init__(message)
        self.fingerprint = fingerprint
