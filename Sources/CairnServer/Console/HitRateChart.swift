import Foundation

/// An inline SVG line chart of the hit rate of each protocol between samples: one line per protocol, 0 to 100 %.
struct HitRateChart {
    struct Point {
        let time: Date
        let rate: Double
    }

    let series: [(name: String, points: [Point])]
    let start: Date
    let end: Date

    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

    /// The hit rate of each protocol in every interval between consecutive samples that saw lookups. Across a
    /// restart (samples of two server runs) the later counts, which started from zero, are the interval's.
    init(samples: [HitRateHistory.Sample], start: Date, end: Date) {
        var byName: [String: [Point]] = [:]
        for (earlier, later) in zip(samples, samples.dropFirst()) {
            for (name, counts) in later.counts {
                let before = earlier.run == later.run ? earlier.counts[name] ?? LookupCounts() : LookupCounts()
                let delta = counts - before
                if let rate = delta.hitRate { byName[name, default: []].append(Point(time: later.time, rate: rate)) }
            }
        }
        series = byName.sorted { $0.key < $1.key }.map { (name: $0.key, points: $0.value) }
        self.start = start
        self.end = end
    }

    /// The chart as an `<svg>` element.
    func svg(title: String) -> String {
        let width = 600.0
        let height = 200.0
        let left = 40.0
        let span = max(end.timeIntervalSince(start), 1)
        func x(_ time: Date) -> Double { left + (width - left - 10) * time.timeIntervalSince(start) / span }
        func y(_ rate: Double) -> Double { 10 + (height - 30) * (1 - rate) }
        var parts: [String] = []
        parts.append(
            "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" "
                + "aria-label=\"\(Self.escape(title))\" xmlns=\"http://www.w3.org/2000/svg\">")
        parts.append("<title>\(Self.escape(title))</title>")
        for rate in [0.0, 0.5, 1.0] {
            let lineY = Self.format(y(rate))
            parts.append(
                "<line x1=\"\(Int(left))\" x2=\"\(Int(width - 10))\" y1=\"\(lineY)\" y2=\"\(lineY)\" stroke=\"#ccc\"/>")
            parts.append(
                "<text x=\"\(Int(left - 4))\" y=\"\(lineY)\" text-anchor=\"end\" font-size=\"10\" "
                    + "dominant-baseline=\"middle\">\(Int(rate * 100)) %</text>")
        }
        for (index, line) in series.enumerated() {
            let color = Self.colors[index % Self.colors.count]
            let points = line.points.map { "\(Self.format(x($0.time))),\(Self.format(y($0.rate)))" }
            if points.count > 1 {
                parts.append(
                    "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>"
                )
            }
            for point in line.points {
                parts.append(
                    "<circle data-protocol=\"\(Self.escape(line.name))\" data-rate=\"\(String(format: "%.4f", point.rate))\" "
                        + "cx=\"\(Self.format(x(point.time)))\" cy=\"\(Self.format(y(point.rate)))\" r=\"3\" "
                        + "fill=\"\(color)\"/>")
            }
            parts.append(
                "<text x=\"\(Int(left + 4 + Double(index) * 90))\" y=\"\(Int(height - 4))\" font-size=\"11\" "
                    + "fill=\"\(color)\">\(Self.escape(line.name))</text>")
        }
        if series.isEmpty {
            parts.append(
                "<text x=\"\(Int(width / 2))\" y=\"\(Int(height / 2))\" text-anchor=\"middle\" font-size=\"12\">"
                    + "no cache lookups in this period</text>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    private static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
