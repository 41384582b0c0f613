"""One exception type for every user-facing error.

The CLI turns a :class:`VitbiasError` into a one-line message and exit status 2, without a
traceback: the message must name the file, field or value that is wrong.
"""


class VitbiasError(Exception):
    """Bad input or configuration that the user can fix; the message says what and where."""
