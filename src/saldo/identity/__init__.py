"""Identity: login with eID over OpenID Connect, and the browser sessions it opens."""
