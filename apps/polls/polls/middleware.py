class CrossOriginOpenerPolicyOverHttpsOnly:
    """Send Django's Cross-Origin-Opener-Policy header over HTTPS only.

    Browsers ignore the header on a plain-HTTP origin (other than localhost) and log a console
    error about it on every page; over HTTPS (request.is_secure(), which trusts the proxy's
    X-Forwarded-Proto per SECURE_PROXY_SSL_HEADER) it is kept. Listed before SecurityMiddleware,
    which adds the header, so that it sees the response after it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.is_secure():
            response.headers.pop("Cross-Origin-Opener-Policy", None)
        return response
