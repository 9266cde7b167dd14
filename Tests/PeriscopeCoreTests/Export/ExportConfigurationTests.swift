import Testing
@testable import PeriscopeCore

@Suite struct ExportConfigurationTests {
    static func resolve(_ environment: [String: String]) throws -> ExportConfiguration {
        try ExportConfiguration.resolve(environment: environment)
    }

    @Test func nothingConfiguredMeansNoExport() throws {
        let configuration = try Self.resolve([:])
        #expect(configuration.otlp == nil)
        #expect(configuration.prometheus == nil)
    }

    @Test func genericEndpointGetsSignalPaths() throws {
        let otlp = try #require(try Self.resolve(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]).otlp)
        #expect(otlp.tracesEndpoint == "http://collector:4318/v1/traces")
        #expect(otlp.metricsEndpoint == "http://collector:4318/v1/metrics")
        #expect(otlp.maxQueueSize == 2048 && otlp.maxExportBatchSize == 512)
        #expect(otlp.scheduleDelay == .seconds(5) && otlp.timeout == .seconds(10))
    }

    @Test func signalVariablesWinOverTheGenericOne() throws {
        let otlp = try #require(try Self.resolve(
            ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://m:9/custom"]
        ).otlp)
        #expect(otlp.tracesEndpoint == "http://env:4318/v1/traces")
        #expect(otlp.metricsEndpoint == "http://m:9/custom")
    }

    /// A policy's endpoint is an export of its own, with the settings the environment gives
    /// every export, whether or not the agent has an export of its own.
    @Test func policyExportsTakeTheSettingsOfTheEnvironment() throws {
        let configuration = try Self.resolve(["OTEL_EXPORTER_OTLP_COMPRESSION": "gzip", "OTEL_BSP_SCHEDULE_DELAY": "100"])
        #expect(configuration.otlp == nil)
        let export = configuration.export(toPolicyEndpoint: "https://policy:4318/")
        #expect(export.tracesEndpoint == "https://policy:4318/v1/traces")
        #expect(export.metricsEndpoint == "https://policy:4318/v1/metrics")
        #expect(export.compression == .gzip && export.scheduleDelay == .milliseconds(100))
    }

    @Test func headersCompressionAndBatchSettings() throws {
        let otlp = try #require(try Self.resolve([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
            "OTEL_EXPORTER_OTLP_HEADERS": "api-key=se%20cret, x-tenant = a ",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
            "OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "10",
            "OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        ]).otlp)
        #expect(otlp.headers == [.init(name: "api-key", value: "se cret"), .init(name: "x-tenant", value: "a")])
        #expect(otlp.compression == .gzip)
        #expect(otlp.maxQueueSize == 100 && otlp.maxExportBatchSize == 10)
        #expect(otlp.scheduleDelay == .milliseconds(250) && otlp.metricExportInterval == .seconds(1))
    }

    @Test(arguments: [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://:4318"),
        ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://c:99999"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "novalue"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "a=%zz"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
        ("OTEL_BSP_SCHEDULE_DELAY", "soon"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
        ("PERISCOPE_METRICS_PORT", "70000"),
    ])
    func malformedSettingsAreRefusedNamingTheSetting(name: String, value: String) throws {
        var environment = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"]
        environment[name] = value
        #expect {
            _ = try Self.resolve(environment)
        } throws: { error in
            guard let error = error as? ExportConfigurationError else { return false }
            return error.setting == name && error.description.hasPrefix("\(name): \"\(value)\" is not allowed")
        }
    }

    @Test func prometheusPortFromFlagOrEnvironment() throws {
        #expect(try Self.resolve(["PERISCOPE_METRICS_PORT": "9464"]).prometheus == .init(port: 9464))
        let flag = try ExportConfiguration.resolve(
            environment: ["PERISCOPE_METRICS_PORT": "1"], metricsPort: 9100, metricsAddress: "127.0.0.1")
        #expect(flag.prometheus == .init(port: 9100, address: "127.0.0.1"))
    }
}
