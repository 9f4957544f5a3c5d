import Foundation

extension BenchmarkRun {
    /// The issue's targets, each from the medians of this run.
    func computeTargets() {
        let r = report
        func ratio(_ target: String, _ numerator: Double?, _ denominator: Double?, _ required: Double, _ detail: String)
        {
            let value = numerator.flatMap { n in denominator.map { n / $0 } }
            report.targets.append(
                TargetCheck(target: target, measured: value, required: required, isMinimum: true, detail: detail)
            )
        }
        func f(_ value: Double?) -> String { value.map { BenchmarkReport.format($0) } ?? "—" }

        let cairnPut = r.median(largePutWorkload, "cairn", "throughput")
        let nginxPut = r.median(largePutWorkload, "nginx", "throughput")
        ratio(
            "\(settings.largeLabel) PUT ≥ 0.8 × nginx WebDAV PUT", cairnPut, nginxPut, 0.8,
            "Cairn \(f(cairnPut)) / nginx \(f(nginxPut)) MB/s"
        )
        let sha = r.median(Self.sha256Workload, "machine", "throughput")
        let disk = r.median(Self.diskWriteWorkload, "machine", "throughput")
        let limit = sha.flatMap { s in disk.map { Swift.min(s, $0) } }
        ratio(
            "\(settings.largeLabel) PUT ≥ 0.7 × min(SHA-256, disk write)", cairnPut, limit, 0.7,
            "Cairn \(f(cairnPut)) / min(\(f(sha)), \(f(disk))) MB/s"
        )
        let cairnGet = r.median(largeGetWorkload, "cairn", "throughput")
        let nginxGet = r.median(largeGetWorkload, "nginx", "throughput")
        ratio(
            "\(settings.largeLabel) GET ≥ 0.9 × nginx GET", cairnGet, nginxGet, 0.9,
            "Cairn \(f(cairnGet)) / nginx \(f(nginxGet)) MB/s"
        )
        let smallGet = r.median(smallGetWorkload, "cairn", "throughput")
        let smallPut = r.median(smallPutWorkload, "cairn", "throughput")
        let nginxSmallGet = r.median(smallGetWorkload, "nginx", "throughput")
        ratio(
            "4 KiB GET ≥ 0.5 × nginx", smallGet, nginxSmallGet, 0.5,
            "Cairn \(f(smallGet)) / nginx \(f(nginxSmallGet)) ops/s"
        )
        let motoPut = r.median(smallPutWorkload, "moto", "throughput")
        let motoGet = r.median(smallGetWorkload, "moto", "throughput")
        ratio("4 KiB PUT ≥ 20 × moto", smallPut, motoPut, 20, "Cairn \(f(smallPut)) / moto \(f(motoPut)) ops/s")
        ratio("4 KiB GET ≥ 20 × moto", smallGet, motoGet, 20, "Cairn \(f(smallGet)) / moto \(f(motoGet)) ops/s")
        let peak = [
            r.median(memoryWorkload, "cairn", "peak RSS after the PUT"),
            r.median(memoryWorkload, "cairn", "peak RSS after the GET"),
        ].compactMap { $0 }.max()
        let worstPeak = r.measurements.filter { $0.workload == memoryWorkload && $0.metric.hasPrefix("peak RSS after") }
            .map(\.max).max()
        report.targets.append(
            TargetCheck(
                target: "peak RSS streaming \(settings.memoryLabel) in and out ≤ 150 MB", measured: worstPeak,
                required: 150, isMinimum: false,
                detail: "MB, worst run; median \(f(peak)) MB"
            )
        )
        let startUp = r.median(startUpWorkload, "cairn", "seconds to healthy")
        let worstStartUp = r.measurements.first { $0.workload == startUpWorkload }?.max
        report.targets.append(
            TargetCheck(
                target: "\(startUpWorkload): healthy in < 1 s", measured: worstStartUp, required: 1, isMinimum: false,
                detail: "s, slowest run; median \(f(startUp)) s"
            )
        )

        if let small = retentionCounts.first, let large = retentionCounts.last,
            let largeSeconds = r.median(retentionWorkload(large), "cairn", "wall time")
        {
            report.targets.append(
                TargetCheck(
                    target: "\(retentionWorkload(large)): < 60 s", measured: largeSeconds, required: 60,
                    isMinimum: false, detail: "s, median"
                )
            )
            let smallPeak = r.median(retentionWorkload(small), "cairn", "peak RSS")
            let largePeak = r.median(retentionWorkload(large), "cairn", "peak RSS")
            report.targets.append(
                TargetCheck(
                    target: "retention job: peak RSS flat, \(large / small)× the objects ≤ 1.25 × the memory",
                    measured: largePeak.flatMap { l in smallPeak.map { l / $0 } }, required: 1.25, isMinimum: false,
                    detail: "\(f(largePeak)) MB at \(large) objects / \(f(smallPeak)) MB at \(small)"
                )
            )
        }

        if let batchCold = r.median(Self.batchColdWorkload, "cairn", "wall time") {
            let single = r.median(Self.batchSingleWorkload, "cairn", "wall time")
            report.targets.append(
                TargetCheck(
                    target: "batch: 8 builds at -j 4 ≤ 1.3 × the ideal (2 rounds of one build)",
                    measured: single.map { batchCold / (2 * $0) }, required: 1.3, isMinimum: false,
                    detail: "batch \(f(batchCold)) s / (2 × \(f(single)) s)"
                )
            )
            let batchWarm = r.median(Self.batchWarmWorkload, "cairn", "wall time")
            report.targets.append(
                TargetCheck(
                    target: "batch: warm ≤ 10 % of cold", measured: batchWarm.map { $0 / batchCold }, required: 0.1,
                    isMinimum: false, detail: "warm \(f(batchWarm)) s / cold \(f(batchCold)) s"
                )
            )
            let installs = r.median(Self.batchMatrixWorkload, "cairn", "install phases run")
            report.targets.append(
                TargetCheck(
                    target: "batch: matrix of 6 runs install once per distinct key (3), not 6 times",
                    measured: installs, required: 3, isMinimum: false, detail: "install phases run")
            )
        }

        let cold = r.median(Self.runnerColdWorkload, "cairn", "wall time")
        let warm = r.median(Self.runnerWarmWorkload, "cairn", "wall time")
        if cold != nil {
            report.targets.append(
                TargetCheck(
                    target: "runner: warm no-change rebuild ≤ 5 % of cold",
                    measured: warm.flatMap { w in cold.map { w / $0 } },
                    required: 0.05, isMinimum: false, detail: "warm \(f(warm)) s / cold \(f(cold)) s"
                )
            )
            let baseline = r.median(Self.codeBuildRestoreWorkload, "cairn", "wall time")
            ratio(
                "runner: restore ≥ 3 × faster than tar + gzip + `aws s3 cp`", baseline, warm, 3,
                "CodeBuild-style restore \(f(baseline)) s / Cairn warm rebuild \(f(warm)) s"
            )
            let fixture = runnerFixture
            let resave = r.median(Self.runnerResaveWorkload, "cairn", "bytes the server read")
            let total = Double(fixture.files * fixture.fileBytes) / 1e3
            report.targets.append(
                TargetCheck(
                    target: "runner: re-save after one change sends only the changed blob(s) (≤ 5 % of the outputs)",
                    measured: resave.map { $0 / total }, required: 0.05, isMinimum: false,
                    detail:
                        "server read \(f(resave)) kB of \(f(total)) kB of outputs; new blobs \(f(r.median(Self.runnerResaveWorkload, "cairn", "new blobs stored")))"
                )
            )
        }
    }
}
