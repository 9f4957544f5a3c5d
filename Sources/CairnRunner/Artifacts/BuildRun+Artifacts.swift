import Foundation

extension BuildRun {
    func uploadArtifacts(shell: ShellSession) async -> [String] { [] }
    func uploadReports() async -> [String] { [] }
}
