#!/usr/bin/env python3
"""An OTLP/HTTP receiver for tests and benchmarks.

Decodes every request with the official OpenTelemetry protobuf classes
(opentelemetry-proto) and appends what it found to a JSON-lines file, one line per
request: {"signal": "traces"|"metrics", "bytes": N, "gzip": bool, ...}.

  receiver.py --port 4318 --out requests.jsonl [--address 0.0.0.0] [--status 503 --retry-after 1] [--summary]

--status answers every request with that status instead of 200 (the body is still
decoded and recorded, with "status"). --summary records only counts, for benchmarks.
"""
import argparse
import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest, ExportMetricsServiceResponse)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse)


def any_value(value):
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind in ("array_value", "kvlist_value", "bytes_value"):
        return str(getattr(value, kind))
    return getattr(value, kind)


def attributes(key_values):
    return {kv.key: any_value(kv.value) for kv in key_values}


def traces(request, summary):
    if summary:
        return {"spans": sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)}
    spans = []
    for rs in request.resource_spans:
        resource = attributes(rs.resource.attributes)
        for ss in rs.scope_spans:
            for span in ss.spans:
                spans.append({
                    "resource": resource,
                    "scope": ss.scope.name,
                    "traceId": span.trace_id.hex(),
                    "spanId": span.span_id.hex(),
                    "parentSpanId": span.parent_span_id.hex(),
                    "name": span.name,
                    "kind": span.kind,
                    "start": span.start_time_unix_nano,
                    "end": span.end_time_unix_nano,
                    "statusCode": span.status.code,
                    "statusMessage": span.status.message,
                    "attributes": attributes(span.attributes),
                })
    return {"spans": spans}


def metrics(request, summary):
    found = []
    for rm in request.resource_metrics:
        resource = attributes(rm.resource.attributes)
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                entry = {"resource": resource, "name": metric.name, "unit": metric.unit, "type": kind, "points": []}
                data = getattr(metric, kind)
                for point in data.data_points:
                    p = {"attributes": attributes(point.attributes)}
                    if kind == "histogram":
                        p.update(count=point.count, sum=point.sum, bucketCounts=list(point.bucket_counts),
                                 bounds=list(point.explicit_bounds))
                    else:
                        p["value"] = point.as_int if point.WhichOneof("value") == "as_int" else point.as_double
                    entry["points"].append(p)
                if kind in ("sum", "histogram"):
                    entry["temporality"] = data.aggregation_temporality
                if kind == "sum":
                    entry["monotonic"] = data.is_monotonic
                found.append(entry)
    return {"metrics": found}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on (0.0.0.0 for pods to reach it)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--retry-after", default=None)
    parser.add_argument("--summary", action="store_true")
    options = parser.parse_args()
    lock = threading.Lock()
    out = open(options.out, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            compressed = self.headers.get("Content-Encoding") == "gzip"
            raw = gzip.decompress(body) if compressed else body
            record = {"bytes": len(body), "gzip": compressed, "status": options.status,
                      "contentType": self.headers.get("Content-Type"),
                      "headers": {k.lower(): v for k, v in self.headers.items()}}
            if self.path == "/v1/traces":
                request = ExportTraceServiceRequest()
                request.ParseFromString(raw)
                record.update(signal="traces", **traces(request, options.summary))
                reply = ExportTraceServiceResponse()
            elif self.path == "/v1/metrics":
                request = ExportMetricsServiceRequest()
                request.ParseFromString(raw)
                record.update(signal="metrics", **metrics(request, options.summary))
                reply = ExportMetricsServiceResponse()
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with lock:
                out.write(json.dumps(record) + "\n")
            payload = reply.SerializeToString()
            self.send_response(options.status)
            if options.retry_after is not None:
                self.send_header("Retry-After", options.retry_after)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer((options.address, options.port), Handler)
    server.daemon_threads = True
    print(f"listening on {options.port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
