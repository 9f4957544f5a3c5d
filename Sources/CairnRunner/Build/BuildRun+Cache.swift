import Foundation

extension BuildRun {
    func restoreCache(_ cache: CacheSpec, shell: ShellSession) async {}
    func saveCache(_ cache: CacheSpec, shell: ShellSession) async {}
}
