import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the machine itself can do, measured with public tools in the same run as the servers: the ceilings
/// Cairn's figures are compared with.
enum MachineLimits {
    /// `openssl speed -evp ALGORITHM` on 1 MiB buffers, in bytes per second.
    static func digestRate(_ algorithm: String, seconds: Int) async throws -> Double {
        let output = try await Shell.check([
            "openssl", "speed", "-evp", algorithm, "-bytes", "1048576", "-seconds", String(seconds), "-mr",
        ])
        // Machine-readable output: `+F:<n>:<algorithm>:<bytes per second>`.
        guard let line = output.stdout.split(separator: "\n").first(where: { $0.hasPrefix("+F:") }),
            let rate = line.split(separator: ":").last.flatMap({ Double($0) })
        else { throw BenchError("could not read openssl speed's output: \(output.combined.prefix(500))") }
        return rate
    }

    /// Sequential write of `bytes` with `dd conv=fdatasync` (the data is on disk when dd returns), in bytes per second.
    static func diskWriteRate(file: URL, bytes: Int) async throws -> Double {
        let count = max(1, bytes >> 20)
        let output = try await Shell.check([
            "dd", "if=/dev/zero", "of=\(file.path)", "bs=1M", "count=\(count)", "conv=fdatasync",
        ])
        return try ddRate(output.stderr)
    }

    /// Sequential read of a file with `dd iflag=direct` (bypassing the page cache), in bytes per second.
    static func diskReadRate(file: URL) async throws -> Double {
        let output = try await Shell.check(["dd", "if=\(file.path)", "of=/dev/null", "bs=1M", "iflag=direct"])
        return try ddRate(output.stderr)
    }

    /// Parses `N bytes (...) copied, S s, ...` from dd's report.
    private static func ddRate(_ report: String) throws -> Double {
        guard let line = report.split(separator: "\n").first(where: { $0.contains(" copied, ") }),
            let bytes = line.split(separator: " ").first.flatMap({ Double($0) }),
            let secondsText = line.components(separatedBy: " copied, ").last?.split(separator: " ").first,
            let seconds = Double(secondsText.replacingOccurrences(of: ",", with: ".")), seconds > 0
        else { throw BenchError("could not read dd's report: \(report.prefix(500))") }
        return bytes / seconds
    }

    /// One TCP stream over 127.0.0.1 between two threads of this process (1 MiB writes, reads discarded),
    /// in bytes per second: what any HTTP server on loopback is bounded by.
    static func loopbackRate(bytes: Int) async throws -> Double {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw BenchError("socket() failed: errno \(errno)") }
        var address = LoopbackSocket.loopbackAddress(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ready = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard ready else {
            close(listener)
            throw BenchError("could not listen on 127.0.0.1: errno \(errno)")
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        return try await withCheckedThrowingContinuation { continuation in
            let receiver = Thread {
                let fd = accept(listener, nil, nil)
                close(listener)
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                while read(fd, &buffer, buffer.count) > 0 {}
                close(fd)
            }
            receiver.start()
            Thread {
                guard let fd = LoopbackSocket.connectLoopback(port: port) else {
                    continuation.resume(throwing: BenchError("could not connect to 127.0.0.1:\(port)"))
                    return
                }
                let chunk = [UInt8](repeating: 0x5a, count: 1 << 20)
                let start = ContinuousClock.now
                var sent = 0
                while sent < bytes {
                    let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, min($0.count, bytes - sent)) }
                    guard written > 0 else { break }
                    sent += written
                }
                shutdown(fd, Int32(SHUT_WR))
                // Wait for the reader to drain everything: it closes its end after the last byte.
                var byte: UInt8 = 0
                _ = read(fd, &byte, 1)
                let seconds = (ContinuousClock.now - start).seconds
                close(fd)
                continuation.resume(returning: Double(sent) / seconds)
            }.start()
        }
    }
}
