#if canImport(Glibc)
    import Glibc
#endif

// Plain file writes for the runner's workspace files, downloads and shell scratch files.

/// Creates (or truncates) a file and opens it for writing. No `fsync` on close: the runner's files are workspace
/// outputs and scratch, not the store's data.
func createForWriting(_ path: String, mode: mode_t = 0o644) throws -> Int32 {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard descriptor >= 0 else { throw RunnerError("cannot write \(path): \(String(cString: strerror(errno)))") }
    return descriptor
}

/// Writes all of `bytes` to a file descriptor, retrying short writes and EINTR.
func writeFully(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    var offset = 0
    while offset < bytes.count {
        let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            throw RunnerError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        offset += written
    }
}

/// Copies a file's bytes in the kernel (`sendfile`), giving the copy `mode` whatever the umask.
func copyFile(_ from: String, to: String, mode: mode_t, size: Int) throws {
    let input = open(from, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw RunnerError("cannot read \(from): \(String(cString: strerror(errno)))") }
    defer { close(input) }
    let output = try createForWriting(to, mode: mode)
    defer { close(output) }
    var remaining = size
    while remaining > 0 {
        let sent = sendfile(output, input, nil, min(remaining, 1 << 30))
        if sent < 0 {
            if errno == EINTR { continue }
            throw RunnerError("cannot copy \(from) to \(to): \(String(cString: strerror(errno)))")
        }
        if sent == 0 { break }  // the file shrank while it was copied
        remaining -= sent
    }
    fchmod(output, mode)
}
