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

    exit_code = 7


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


class StorageError(MedcoderError):
    """The data folder or a file cannot be written: read-only folder, no permission, disk full."""

    exit_code = 6


class BusyError(DatabaseLockedError):
    """Another medcoder holds the dictionary or a data-folder lock longer than the wait allows."""

    exit_code = 7


# Exit codes of the command line, documented in README.md ("Exit codes"); tests/badinput checks them.
EXIT_CODES = {
    0: "success",
    1: "the product could not do what was asked (dictionary missing or unusable, workspace refused)",
    2: "bad input: a file that is missing, unreadable, not text, malformed or too large; a bad option",
    3: "a code that is in no code set of the dictionary",
    4: "the language model is missing, corrupt or cannot be loaded",
    5: "organization preferences refused (pack tampered, untrusted, older than one imported, bad rule)",
    6: "storage: the data folder or a file cannot be written (read-only, no permission, disk full)",
    7: "busy: another medcoder holds the dictionary or the workspace (build, import) longer than the wait allows",
    70: "internal error (a bug): one line on stderr, MEDCODER_DEBUG=1 shows the traceback",
    130: "interrupted (Ctrl+C)",
}
