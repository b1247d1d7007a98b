"""urllib openers whose every connection, redirects included, passes the guard.

Built by hand rather than with ``build_opener``: that would add the ``file:``,
``ftp:`` and ``data:`` handlers and the environment's proxies, and urllib follows
redirects to ``ftp:``. Here only http and https exist, and each hop of a redirect
is a new connection through ``outbound.connect``.
"""

import http.client
import urllib.request

from sensorgrid.outbound.connect import connect


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = connect


class _HTTPSConnection(http.client.HTTPSConnection):
    # The TLS handshake after ``connect`` still names the host (SNI) and verifies
    # the certificate against it: only the TCP connection is pinned.
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = connect


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_HTTPSConnection, req, context=self._context)


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    max_redirections = 5

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not newurl.lower().startswith(("http://", "https://")):
            return None  # the 3xx is then an error: no other scheme is ever opened
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx answer is raised as an HTTPError


def opener(follow_redirects: bool = True) -> urllib.request.OpenerDirector:
    """An opener for http(s) URLs only, guarded at connect time, without proxies."""
    director = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.UnknownHandler(),
        _HTTPHandler(),
        _HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _RedirectHandler() if follow_redirects else _NoRedirect(),
        urllib.request.HTTPErrorProcessor(),
    ):
        director.add_handler(handler)
    return director
