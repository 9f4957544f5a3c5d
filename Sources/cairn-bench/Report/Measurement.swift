/// One figure measured for one system, once per run: its samples and their median and spread.
struct Measurement: Codable, Sendable {
    /// The workload, as in the table: `1 GiB PUT`, `4 KiB GET (16 conn.)`, …
    var workload: String
    /// `cairn`, `nginx`, `moto` or `machine`.
    var system: String
    /// What was measured: `throughput`, `ops/s`, `p50`, `p99`, `peak RSS`, `seconds to healthy`.
    var metric: String
    /// `MB/s` (10^6 bytes), `ops/s`, `ms`, `MB`, `s`.
    var unit: String
    var samples: [Double]
    var median: Double
    var min: Double
    var max: Double
    /// A remark a reader needs (what was run, what was left out).
    var note: String?

    init(workload: String, system: String, metric: String, unit: String, samples: [Double], note: String? = nil) {
        self.workload = workload
        self.system = system
        self.metric = metric
        self.unit = unit
        self.samples = samples
        let sorted = samples.sorted()
        if sorted.isEmpty {
            median = .nan
        } else if sorted.count % 2 == 1 {
            median = sorted[sorted.count / 2]
        } else {
            median = (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        min = sorted.first ?? .nan
        max = sorted.last ?? .nan
        self.note = note
    }
}
