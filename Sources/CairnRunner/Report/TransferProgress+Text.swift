import Foundation

extension TransferProgress.Counts {
    /// `120/500 files, 40.1/200.0 MB` for a restore or an upload, `3/10 blobs, 1.2/5.0 MB` for a store: the unit of
    /// both byte counts is the one that suits the total.
    func text(_ direction: TransferProgress.Direction) -> String {
        let noun = direction == .store ? "blobs" : "files"
        let (divisor, unit): (Double, String) =
            switch totalBytes {
            case ..<1_000_000: (1e3, "KB")
            case ..<1_000_000_000: (1e6, "MB")
            default: (1e9, "GB")
            }
        return "\(files)/\(totalFiles) \(noun), "
            + String(format: "%.1f/%.1f %@", Double(bytes) / divisor, Double(totalBytes) / divisor, unit)
    }

    /// How much is done, 0 to 1: by bytes, or by files when there are no bytes to send.
    var fraction: Double {
        if totalBytes > 0 { return Double(bytes) / Double(totalBytes) }
        return totalFiles > 0 ? Double(files) / Double(totalFiles) : 1
    }

    /// `[=========>          ]  47%`, `width` characters between the brackets.
    func bar(width: Int) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        let head = filled < width ? ">" : ""
        let body = String(repeating: "=", count: filled)
        let rest = String(repeating: " ", count: max(0, width - filled - head.count))
        return "[" + body + head + rest + "] " + String(format: "%3d%%", Int((fraction * 100).rounded(.down)))
    }
}
