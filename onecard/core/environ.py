"""Keep the process environment out of each request's WSGI environ.

granian (``onecard serve``'s default server) builds every request's environ from a copy of
``os.environ`` plus the request, so ``DATABASE_URL``, ``ONECARD_SECRET_KEY`` and the rest would
reach ``request.META`` (and anything that logs or renders it). ``ProcessEnvironmentFilter``
removes the names the process environment had at start, except the CGI and WSGI names a server
sets per request. Under gunicorn, which does not copy the environment, it removes nothing.
"""

import os

# Names a server sets per request; a process variable of the same name is overwritten by the
# server, so these are never removed.
REQUEST_NAMES = frozenset({
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
    "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR",
    "REMOTE_HOST", "REMOTE_PORT", "GATEWAY_INTERFACE", "SERVER_SOFTWARE", "RAW_URI",
    "REQUEST_URI",
})


def process_names(environment=None):
    """The names of ``environment`` (default: ``os.environ``) that are not request names."""
    environment = os.environ if environment is None else environment
    return tuple(name for name in environment
                 if name not in REQUEST_NAMES and not name.startswith(("HTTP_", "wsgi.")))


class ProcessEnvironmentFilter:
    """WSGI middleware: ``application`` sees the environ without the process's variables."""

    def __init__(self, application, names=None):
        self.application = application
        self.names = process_names() if names is None else tuple(names)

    def __call__(self, environ, start_response):
        pop = environ.pop
        for name in self.names:
            pop(name, None)
        return self.application(environ, start_response)
