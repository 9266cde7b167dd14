"""HTTP/2 over TLS (ALPN h2) with httpx: GETs each path given after the base URL on one
connection, certificate not checked. Prints each answer's status and body length."""
import sys

import httpx

base = sys.argv[1]
with httpx.Client(http1=False, http2=True, verify=False) as client:
    for path in sys.argv[2:]:
        response = client.get(f"{base}{path}")
        print(response.status_code, len(response.content), response.http_version)
