/// The version of Periscope's binaries, as `periscopectl version` prints it and exported spans
/// name their SDK (`telemetry.sdk.version`).
public enum PeriscopeVersion {
    public static let current = "0.1.0"
}
