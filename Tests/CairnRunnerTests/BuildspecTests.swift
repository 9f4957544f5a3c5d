import CairnRunner
import Testing

@Suite("Buildspec parsing and validation")
struct BuildspecTests {
    @Test func parsesEveryPartOfAValidBuildspec() throws {
        let spec = try Buildspec.parse(
            """
            version: 0.2
            env:
              shell: bash
              variables:
                MODE: 0755
                WAIT: 1:30
                PATHISH: $PATH:/x
              exported-variables: [MODE]
            phases:
              install:
                runtime-versions:
                  nodejs: 20
                commands:
                  - echo install
              build:
                on-failure: RETRY-2-timed out
                commands:
                  - make
                  - |
                    echo one
                    echo two
                finally:
                  - echo done
            artifacts:
              files: ['**/*']
              base-directory: dist
              discard-paths: yes
              secondary-artifacts:
                logs:
                  files: [logs/*]
            cache:
              key: deps-$(codebuild-hash-files package-lock.json)
              fallback-keys: [deps-]
              paths: [node_modules/**/*]
            cairn:
              phases:
                install:
                  inputs: [package-lock.json]
            """
        )
        #expect(spec.env.shell == "bash")
        #expect(spec.env.variables.map(\.value) == ["0755", "1:30", "$PATH:/x"])
        #expect(spec.phases.map(\.name) == [.install, .build])
        #expect(spec.phase(.build)?.onFailure == .retry(count: 2, pattern: "timed out"))
        #expect(spec.phase(.build)?.commands.map(\.line) == [18, 19])
        #expect(spec.phase(.build)?.commands[1].text == "echo one\necho two\n")
        #expect(spec.phase(.install)?.runtimeVersions == [.init(name: "nodejs", value: "20")])
        #expect(spec.artifacts?.discardPaths == true)
        #expect(spec.artifacts?.secondary.map(\.identifier) == ["logs"])
        #expect(spec.cache?.fallbackKeys == ["deps-"])
        #expect(spec.cairn.phases[.install]?.inputs == ["package-lock.json"])
    }

    @Test(arguments: [
        ("ABORT", OnFailure.abort), ("CONTINUE", .continue), ("RETRY", .retry(count: 3, pattern: ".*")),
        ("RETRY-5", .retry(count: 5, pattern: ".*")), ("RETRY-^err", .retry(count: 3, pattern: "^err")),
        ("RETRY-2-net.*down", .retry(count: 2, pattern: "net.*down")),
    ])
    func onFailureForms(text: String, expected: OnFailure) {
        #expect(OnFailure(text) == expected)
    }

    @Test func rejectsBadOnFailureValues() {
        #expect(OnFailure("RETRY-101") == nil)
        #expect(OnFailure("retry") == nil)
        #expect(OnFailure("RETRY-[") == nil)
    }

    /// Each malformed buildspec gives one error naming the key and the line.
    @Test(arguments: [
        ("version: 0.2\nphases:\n  build:\n    comands:\n      - make\n", "phases.build.comands", 4),
        ("version: 0.2\nphases:\n  build:\n    finally:\n      - echo\n", "phases.build", 3),
        ("phases:\n  build:\n    commands: [make]\n", "version", 1),
        ("version: 0.1\nphases:\n  build:\n    commands: [make]\n", "version", 1),
        ("version: 0.2\nphases:\n  build:\n    commands: make\n", "phases.build.commands", 4),
        ("version: 0.2\nenv:\n  variables:\n    A: [1, 2]\n", "env.variables.A", 4),
        (
            "version: 0.2\nphases:\n  build:\n    on-failure: SOMETIMES\n    commands: [make]\n",
            "phases.build.on-failure", 4
        ),
        ("version: 0.2\nphases:\n  compile:\n    commands: [make]\n", "phases.compile", 3),
        ("version: 0.2\nbatch:\n  fast-fail: true\n", "batch", 2),
        ("version: 0.2\nphases:\n  build:\n    commands:\n      - echo: hi\n", "phases.build.commands", 5),
        ("version: 0.2\nartifacts:\n  name: x\n", "artifacts", 3),
        ("version: 0.2\nenv:\n  shell: zsh\n", "env.shell", 3),
    ])
    func malformedBuildspecsNameKeyAndLine(text: String, key: String, line: Int) {
        do {
            _ = try Buildspec.parse(text, file: "buildspec.yml")
            Issue.record("expected an error for key \(key)")
        } catch let error as BuildspecError {
            #expect(error.key == key, "\(error)")
            #expect(error.line == line, "\(error)")
            #expect(error.description.hasPrefix("buildspec.yml:\(line): \(key): "))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func invalidYAMLAndDuplicateKeysGiveALine() {
        for text in ["version: 0.2\nphases: [\n", "version: 0.2\nversion: 0.2\n"] {
            do {
                _ = try Buildspec.parse(text)
                Issue.record("expected an error")
            } catch let error as BuildspecError {
                #expect(error.line != nil, "\(error)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    @Test func aDuplicateKeyNamesTheLineThatRepeatsIt() {
        let cases: [(text: String, key: String, line: Int, first: Int)] = [
            ("version: 0.2\nenv:\n  variables:\n    A: \"1\"\nversion: 0.2\n", "version", 5, 1),
            (
                "version: 0.2\nphases:\n  build:\n    commands:\n      - make\n\n    # again\n    commands:\n      - make\n",
                "commands", 8, 4
            ),
            ("version: 0.2\nenv:\n  variables:\n    A: \"1\"\n    'A': \"2\"\n", "A", 5, 4),
        ]
        for (text, key, line, first) in cases {
            do {
                _ = try Buildspec.parse(text)
                Issue.record("expected an error for \(text)")
            } catch let error as BuildspecError {
                #expect(error.line == line, "\(error)")
                #expect(error.description.contains("duplicate key '\(key)' (first at line \(first))"), "\(error)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    @Test func refusesOversizedBuildspecs() {
        let text = "version: 0.2\n# " + String(repeating: "x", count: Buildspec.maximumSize) + "\n"
        #expect(throws: BuildspecError.self) { try Buildspec.parse(text) }
    }
}
