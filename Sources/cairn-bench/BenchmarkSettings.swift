import Foundation

/// What one run of the benchmark measures, and how big and long each workload is.
struct BenchmarkSettings: Sendable {
    var smoke: Bool
    var runs: Int
    var systems: [String]
    var phaseDuration: Duration
    var startupObjects: Int
    var connections: Int
    var workloads: [String]
    var cairnExecutable: URL
    var command: String
    /// The image of the container workload (podman must have it).
    var containerImage = "localhost/cairn-test-bookworm"

    /// The workload groups, in the order they run.
    static let allWorkloads = [
        "limits", "large", "small", "durability", "scale", "memory", "startup", "manifest", "runner", "container",
        "batch", "retention",
    ]

    /// The "1 GiB" object of the single-stream workload.
    var largeObjectBytes: Int { smoke ? 8 << 20 : 1 << 30 }
    /// The "2 GiB" object of the memory workload.
    var memoryObjectBytes: Int { smoke ? 16 << 20 : 2 << 30 }
    var smallObjectBytes: Int { 4096 }
    /// Distinct keys per 4 KiB PUT phase: more than a phase writes on this kind of machine.
    var smallObjectKeys: Int { smoke ? 5_000 : 100_000 }
    /// Bytes for `dd` and the loopback stream.
    var machineProbeBytes: Int { smoke ? 16 << 20 : 1 << 30 }
    var digestSeconds: Int { smoke ? 1 : 3 }
    /// Files in the phase manifests the manifest workload decodes.
    var manifestFileCounts: [Int] { smoke ? [100, 1_000] : [5_000, 50_000] }

    /// Bytes the container workload's install phase writes under /usr.
    var containerInstallBytes: Int { smoke ? 5 << 20 : 50 << 20 }

    var largeLabel: String { smoke ? "8 MiB (smoke)" : "1 GiB" }
    var memoryLabel: String { smoke ? "16 MiB (smoke)" : "2 GiB" }
}
