"""HTTP/2 by prior knowledge with httpx: three requests on one connection."""
import sys

import httpx

base = sys.argv[1]
with httpx.Client(http1=False, http2=True) as client:
    print(client.get(f"{base}/hello", headers={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}).status_code)
    print(client.post(f"{base}/echo", content=b"x" * 3000).status_code)
    print(client.get(f"{base}/status/503").status_code)
