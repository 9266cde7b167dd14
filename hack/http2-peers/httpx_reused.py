"""One HTTP/2 connection (prior knowledge, httpx) kept across a pause: GET /hello, then
waits until the file named by its second argument exists, then GET /hello again (its
headers now all from HPACK's dynamic table) and GET /status/201 (a new path, written
literally). Prints "first" once the first answer arrived and the status of each request."""
import os
import sys
import time

import httpx

base, go = sys.argv[1], sys.argv[2]
with httpx.Client(http1=False, http2=True, limits=httpx.Limits(keepalive_expiry=300)) as client:
    print(client.get(f"{base}/hello").status_code, flush=True)
    print("first", flush=True)
    while not os.path.exists(go):
        time.sleep(0.05)
    print(client.get(f"{base}/hello").status_code, flush=True)
    print(client.get(f"{base}/status/201").status_code, flush=True)
