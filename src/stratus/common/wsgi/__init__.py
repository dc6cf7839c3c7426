"""The HTTP layer every Stratus API is built on (Falcon WSGI apps)."""
