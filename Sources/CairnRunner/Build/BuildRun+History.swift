import CairnCore
import Foundation

extension BuildRun {
    /// The project's last build, so `--explain` can say what changed and build numbers go on counting.
    func loadHistory() async throws -> BuildHistory? {
        guard let entry = try await store.entry(namespace: BuildHistory.namespace, key: projectID) else { return nil }
        return try JSONDecoder().decode(BuildHistory.self, from: Data(try await store.read(entry.value.digest)))
    }

    /// Records this build's key inputs over the last build's, for the next build's `--explain`.
    func saveHistory(
        _ history: BuildHistory?, adding newHistory: [String: PhaseKeyInputs], buildNumber: Int
    ) async {
        var phases = history?.phases ?? [:]
        phases.merge(newHistory) { $1 }
        let record = BuildHistory(buildNumber: buildNumber, phases: phases)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let segment = try await store.upload(bytes: Array(try encoder.encode(record)))
            try await store.putEntry(
                ActionEntry(namespace: BuildHistory.namespace, key: projectID, value: segment)
            )
        } catch {
            console.line("[cairn] warning: could not record this build for --explain: \(error)")
        }
    }
}
