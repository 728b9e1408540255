"""HTTP and HTML plumbing that knows no domain: the request's database session and settings, path
and upload helpers, the answer to an error (``Problem``), languages, rendering and charts. It sits
below every domain, so a domain's ``api.py`` and ``pages.py`` use it freely; composing the
application from the domains is ``saldo.web``'s (above them)."""
