import Foundation

/// Everything one run of the benchmark found, written as a Markdown table and as JSON.
struct BenchmarkReport: Codable, Sendable {
    /// UTC date and time the run started, ISO 8601.
    var date: String
    /// The command line, as a person would type it again.
    var command: String
    /// `full` or `smoke` (tiny sizes: the figures mean nothing).
    var mode: String
    /// How many times each figure was measured.
    var runs: Int
    var machine: MachineInfo
    var measurements: [Measurement] = []
    var targets: [TargetCheck] = []
    /// Workloads of the issue that this run did not measure, and why.
    var omitted: [String] = []
    /// Workloads that failed in this run, with the error.
    var failures: [String] = []

    /// The median of a measurement, if it was taken.
    func median(_ workload: String, _ system: String, _ metric: String) -> Double? {
        measurements.first { $0.workload == workload && $0.system == system && $0.metric == metric }?.median
    }

    static let systems = ["cairn", "nginx", "moto", "seaweedfs", "machine"]

    /// The report as Markdown: the machine, a table of medians with min–max, the targets, what was left out.
    var markdown: String {
        var lines: [String] = []
        lines.append(
            "Run \(date) (\(mode) mode, \(runs) run\(runs == 1 ? "" : "s") per figure: median, min–max in brackets) with `\(command)`."
        )
        lines.append("")
        lines.append("Machine: \(machine.summary).")
        lines.append("")
        lines.append("| workload | metric | Cairn | nginx | moto | SeaweedFS | machine limit |")
        lines.append("|---|---|---|---|---|---|---|")
        var rows: [(workload: String, metric: String, unit: String)] = []
        for m in measurements
        where Self.systems.contains(m.system)
            && !rows.contains(where: { $0.workload == m.workload && $0.metric == m.metric })
        {
            rows.append((m.workload, m.metric, m.unit))
        }
        for row in rows {
            var cells = ["\(row.workload)", "\(row.metric) (\(row.unit))"]
            for system in Self.systems {
                if let m = measurements.first(where: {
                    $0.workload == row.workload && $0.metric == row.metric && $0.system == system
                }) {
                    let spread = m.samples.count > 1 ? " (\(Self.format(m.min))–\(Self.format(m.max)))" : ""
                    cells.append(Self.format(m.median) + spread)
                } else {
                    cells.append("")
                }
            }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        // Deployments of Cairn compared with each other (the scale workload): one row per system.
        let deployments = measurements.filter { !Self.systems.contains($0.system) }
        if !deployments.isEmpty {
            lines.append("")
            lines.append("| workload | Cairn deployment | metric | value |")
            lines.append("|---|---|---|---|")
            for m in deployments {
                let spread = m.samples.count > 1 ? " (\(Self.format(m.min))–\(Self.format(m.max)))" : ""
                lines.append(
                    "| \(m.workload) | \(m.system) | \(m.metric) (\(m.unit)) | \(Self.format(m.median))\(spread) |")
            }
        }
        if !targets.isEmpty {
            lines.append("")
            lines.append("| target | measured | met |")
            lines.append("|---|---|---|")
            for t in targets {
                let measured = t.measured.map { Self.format($0) } ?? "not measured"
                let met = t.met.map { $0 ? "yes" : "**no**" } ?? "—"
                lines.append("| \(t.target) | \(measured) (\(t.detail)) | \(met) |")
            }
        }
        let notes = measurements.compactMap { m in m.note.map { "\(m.workload), \(m.system): \($0)" } }
        if !notes.isEmpty || !omitted.isEmpty || !failures.isEmpty {
            lines.append("")
            for note in notes { lines.append("- \(note)") }
            for failure in failures { lines.append("- **Failed**: \(failure)") }
            for item in omitted { lines.append("- Not measured: \(item)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Three significant figures or so; integers above 100.
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "—" }
        let magnitude = abs(value)
        if magnitude >= 100 { return String(format: "%.0f", value) }
        if magnitude >= 10 { return String(format: "%.1f", value) }
        if magnitude >= 1 { return String(format: "%.2f", value) }
        return String(format: "%.3f", value)
    }

    /// Writes `results.md` and `results.json` into a directory; returns their paths.
    func write(to directory: URL) throws -> (markdown: URL, json: URL) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let markdownFile = directory.appendingPathComponent("results.md")
        let jsonFile = directory.appendingPathComponent("results.json")
        try markdown.write(to: markdownFile, atomically: true, encoding: .utf8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan"
        )
        try encoder.encode(self).write(to: jsonFile)
        return (markdownFile, jsonFile)
    }
}
