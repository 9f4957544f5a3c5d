extension BuildResult {
    /// Phases that ran (or tried to): every phase not restored and not skipped.
    var phasesRun: Int { phases.filter { $0.cache != .hit && $0.status != .notRun }.count }
    /// Phases restored from the store.
    var phasesRestored: Int { phases.filter { $0.cache == .hit }.count }
    /// The time restoring saved over running, summed over the restored phases.
    var savedSeconds: Double { phases.reduce(0) { $0 + $1.savedSeconds } }
}
