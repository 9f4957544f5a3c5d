import CairnCore
import Foundation

extension BuildRun {
    /// The project's last build, so `--explain` can say what changed and build numbers go on counting.
    func loadHistory() async throws -> BuildHistory? {
        guard let entry = try await store.entry(namespace: BuildHistory.namespace, key: projectID) else { return nil }
        return try JSONDecoder().decode(BuildHistory.self, from: Data(try await store.read(entry.value.digest)))
    }

    /// The bucket whose keys `<project id>/<number>` record which build numbers are taken.
    static let buildNumberBucket = "cairn-build-numbers"

    /// Takes the first free build number after `last` (the number the history names): each number is an object
    /// created only when absent, so builds that start at once, in one process or on machines sharing a server, never
    /// get the same number.
    func claimBuildNumber(after last: Int) async throws -> Int {
        var candidate = last + 1
        for _ in 0..<10_000 {
            let created = try await store.createObject(
                bucket: Self.buildNumberBucket, key: "\(projectID)/\(candidate)", bytes: Array(buildID.utf8))
            if created { return candidate }
            candidate += 1
        }
        throw RunnerError(
            "could not take a build number for \(projectID): numbers \(last + 1) to \(candidate - 1) are taken "
                + "in s3://\(Self.buildNumberBucket) but the history names \(last); delete that project's history")
    }

    /// Records this build's key inputs over the last build's, for the next build's `--explain`.
    func saveHistory(
        _ history: BuildHistory?, adding newHistory: [String: PhaseKeyInputs], buildNumber: Int
    ) async {
        var phases = history?.phases ?? [:]
        phases.merge(newHistory) { $1 }
        // Builds of one project that run at once end in any order: the history keeps the highest number.
        let current = try? await loadHistory()
        let record = BuildHistory(buildNumber: max(buildNumber, current?.buildNumber ?? 0), phases: phases)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let segment = try await store.upload(bytes: Array(try encoder.encode(record)))
            try await store.putEntry(
                ActionEntry(namespace: BuildHistory.namespace, key: projectID, value: segment)
            )
        } catch {
            console.notice("[cairn] warning: could not record this build for --explain: \(error)")
        }
    }
}
