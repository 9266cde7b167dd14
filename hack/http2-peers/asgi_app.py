"""A small ASGI application for hypercorn: GET /hello, POST /echo (the body back),
GET /status/<code>."""


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    status, payload = 200, b"hello from hypercorn\n"
    if path == "/echo":
        payload = body
    elif path.startswith("/status/"):
        status, payload = int(path.rsplit("/", 1)[1]), b"status\n"
    elif path != "/hello":
        status, payload = 404, b"not found\n"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
