"""A gRPC server and client with grpcio, no generated code: messages are raw bytes.

    grpc_peers.py serve PORT     serves helloworld.Greeter/SayHello (unary),
                                 routeguide.RouteGuide/ListFeatures (5 replies),
                                 helloworld.Greeter/Fail (NOT_FOUND),
                                 routeguide.RouteGuide/ListLargeFeatures (5 replies of 3,000 bytes)
    grpc_peers.py call PORT      calls the first three once, then an unimplemented method
    grpc_peers.py call-large PORT N  calls ListLargeFeatures N times
"""
import sys
import time
from concurrent import futures

import grpc


def say_hello(request, context):
    return b"\x0a\x0bHello " + request[2:]


def list_features(request, context):
    for index in range(5):
        yield bytes([0x0a, 10 + index]) + b"f" * (10 + index)


def list_large_features(request, context):
    for index in range(5):
        yield bytes([0x0a, 0x96, 0x17]) + bytes([0x61 + index]) * 2966


def fail(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "no such greeting: ✓")


def serve(port):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler("helloworld.Greeter", {
            "SayHello": grpc.unary_unary_rpc_method_handler(say_hello),
            "Fail": grpc.unary_unary_rpc_method_handler(fail),
        }),
        grpc.method_handlers_generic_handler("routeguide.RouteGuide", {
            "ListFeatures": grpc.unary_stream_rpc_method_handler(list_features),
            "ListLargeFeatures": grpc.unary_stream_rpc_method_handler(list_large_features),
        }),
    ))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("serving", flush=True)
    server.wait_for_termination()


def call(port):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        print(channel.unary_unary("/helloworld.Greeter/SayHello")(b"\x0a\x05world", timeout=10))
        print(list(channel.unary_stream("/routeguide.RouteGuide/ListFeatures")(b"\x0a\x01x", timeout=10)))
        for method in ("/helloworld.Greeter/Fail", "/helloworld.Greeter/Missing"):
            try:
                channel.unary_unary(method)(b"\x0a\x01x", timeout=10)
            except grpc.RpcError as error:
                print(error.code())
        time.sleep(0.2)


def call_large(port, count):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        method = channel.unary_stream("/routeguide.RouteGuide/ListLargeFeatures")
        for _ in range(count):
            replies = list(method(b"\x0a\x01x", timeout=10))
            print(len(replies), sum(len(reply) for reply in replies))
        time.sleep(0.2)


if __name__ == "__main__":
    if sys.argv[1] == "call-large":
        call_large(int(sys.argv[2]), int(sys.argv[3]))
    else:
        {"serve": serve, "call": call}[sys.argv[1]](int(sys.argv[2]))
