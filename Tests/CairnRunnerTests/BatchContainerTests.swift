import CairnRunner
import CairnTestSupport
import Foundation
import Testing

/// A `build-matrix` over two images: each build in a container of its own image, installs restored per image.
@Suite("Batch builds in containers")
struct BatchContainerTests {
    @Test(.requires("git", "podman", root: true, images: [ContainerImages.bookworm]))
    func aMatrixOfTwoImagesBuildsAndRestoresInEach() async throws {
        let busybox = try await ContainerImages.busybox()
        let project = try await FixtureProject("shell-only", git: false)
        try project.write(
            "buildspec.yml",
            """
            version: 0.2
            batch:
              build-matrix:
                dynamic:
                  env:
                    image: [\(busybox), \(ContainerImages.bookworm)]
                    variables:
                      FLAVOUR: [plain, salted]
            phases:
              install:
                commands:
                  - mkdir -p /usr/local/share
                  - if [ -f /etc/debian_version ]; then echo debian; else echo busybox; fi > /usr/local/share/os.txt
                  - echo "$FLAVOUR" >> /usr/local/share/os.txt
              build:
                commands:
                  - cat /usr/local/share/os.txt > made.txt
            artifacts:
              files: [made.txt]
            """)
        try await project.commitAll()
        let store = try TemporaryStore()
        let output = FileManager.default.temporaryDirectory.path + "/cairn-matrix-out-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let (cold, coldLog) = try await project.batch(store: store.store) { $0.outputDirectory = output }
        #expect(cold.succeeded, "\(coldLog)")
        #expect(cold.builds.count == 4)
        // Two images and two values: four distinct install keys (the image's digest is in every key).
        #expect(cold.count(.install) == (4, 0), "\(coldLog)")
        let expected = [
            (busybox, "plain", "busybox"), (busybox, "salted", "busybox"),
            (ContainerImages.bookworm, "plain", "debian"), (ContainerImages.bookworm, "salted", "debian"),
        ]
        for (build, (image, flavour, os)) in zip(cold.builds, expected) {
            #expect(build.task.image == image)
            let made = try String(
                contentsOfFile: "\(output)/\(build.task.identifier)/fixture/made.txt", encoding: .utf8)
            #expect(made == "\(os)\n\(flavour)\n", "\(build.task.identifier)")
            let result = try #require(build.result)
            #expect(try await !ContainerBuildTests.containerExists(of: result), "the build's container is removed")
        }

        try FileManager.default.removeItem(atPath: output)
        let (warm, warmLog) = try await project.batch(store: store.store) { $0.outputDirectory = output }
        #expect(warm.succeeded, "\(warmLog)")
        #expect(warm.count(.install) == (0, 4), "\(warmLog)")
        #expect(warm.count(.build) == (0, 4))
        for (build, (_, flavour, os)) in zip(warm.builds, expected) {
            let made = try String(
                contentsOfFile: "\(output)/\(build.task.identifier)/fixture/made.txt", encoding: .utf8)
            #expect(made == "\(os)\n\(flavour)\n", "restored into a fresh container of \(build.task.identifier)")
        }
    }
}
