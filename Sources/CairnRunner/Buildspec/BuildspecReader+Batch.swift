import Yams

extension BuildspecReader {
    /// The most builds one batch may hold (CodeBuild's default limit for a batch).
    static let maximumBatchBuilds = 100

    /// The `batch` section: exactly one of `build-graph`, `build-list`, `build-matrix`, `build-fanout`, plus
    /// `fast-fail`; matrices and fan-outs expanded into tasks, the graph checked.
    func batch(_ node: Node, keyNode: Node) throws -> BatchSpec {
        let forms = BatchSpec.Form.allCases.map(\.rawValue)
        var spec: BatchSpec?
        var fastFail = false
        for (name, keyNode, value) in try mapping(node, "batch", allowed: ["fast-fail"] + forms) {
            let key = "batch.\(name)"
            if name == "fast-fail" {
                fastFail = try yesNo(value, key)
                continue
            }
            if let spec {
                throw fail(key, keyNode, "a batch has one type; this one is \(spec.form.rawValue) already")
            }
            let form = BatchSpec.Form(rawValue: name)!
            switch form {
            case .graph, .list: spec = BatchSpec(form: form, tasks: try taskList(value, key, form: form))
            case .matrix: spec = BatchSpec(form: form, tasks: try matrix(value, key))
            case .fanout: spec = BatchSpec(form: form, tasks: try fanout(value, key))
            }
        }
        guard var spec else {
            throw fail("batch", keyNode, "expected one of \(forms.joined(separator: ", "))")
        }
        spec.fastFail = fastFail
        guard spec.tasks.count <= Self.maximumBatchBuilds else {
            throw fail("batch", node, "\(spec.tasks.count) builds; a batch holds at most \(Self.maximumBatchBuilds)")
        }
        if spec.tasks.isEmpty { throw fail("batch", node, "the batch has no builds") }
        try checkGraph(spec.tasks, node: node)
        let recorded = spec.tasks.contains { $0.computeType != nil || $0.environmentType != nil || $0.fleet != nil }
        if recorded {
            spec.localNotes.append(
                "batch env compute-type, type and fleet: recorded in the report; builds here run on this machine")
        }
        return spec
    }

    /// `build-graph` and `build-list` entries.
    private func taskList(_ node: Node, _ key: String, form: BatchSpec.Form) throws -> [BatchTask] {
        guard case .sequence(let items) = node else {
            throw fail(key, node, "expected a list of builds, found \(kind(node))")
        }
        var allowed = ["identifier", "buildspec", "env", "ignore-failure", "debug-session"]
        if form == .graph { allowed.append("depend-on") }
        var tasks: [BatchTask] = []
        for (position, item) in items.enumerated() {
            let itemKey = "\(key)[\(position)]"
            var task = BatchTask(identifier: "")
            var identified = false
            for (field, _, value) in try mapping(item, itemKey, allowed: allowed) {
                let fieldKey = "\(itemKey).\(field)"
                switch field {
                case "identifier":
                    task.identifier = try identifier(value, fieldKey)
                    identified = true
                case "buildspec": task.buildspec = try string(value, fieldKey)
                case "env": try taskEnvironment(value, fieldKey, into: &task)
                case "ignore-failure": task.ignoreFailure = try yesNo(value, fieldKey)
                case "depend-on": task.dependsOn = try strings(value, fieldKey)
                case "debug-session":
                    if try yesNo(value, fieldKey) {
                        throw fail(
                            fieldKey, value,
                            "session debugging needs AWS Session Manager; run the build with --keep-workspace and "
                                + "look at its workspace instead")
                    }
                default: break
                }
            }
            if !identified {
                // CodeBuild requires identifiers in a graph; a list may leave them out.
                if form == .graph { throw fail(itemKey, item, "'identifier' is required") }
                task.identifier = "build\(position + 1)"
            }
            if tasks.contains(where: { $0.identifier == task.identifier }) {
                throw fail("\(itemKey).identifier", item, "identifier '\(task.identifier)' is used twice")
            }
            tasks.append(task)
        }
        return tasks
    }

    /// A task identifier: letters, digits, `_` and `-` (it names a directory of artifacts).
    private func identifier(_ node: Node, _ key: String) throws -> String {
        let text = try string(node, key)
        let allowed = text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
        guard !text.isEmpty, text.count <= 127, allowed else {
            throw fail(key, node, "'\(text)' is not an identifier: use 1-127 letters, digits, '_' or '-'")
        }
        return text
    }

    /// A task's `env`: image, privileged mode, variables, and the keys that only AWS uses.
    private func taskEnvironment(_ node: Node, _ key: String, into task: inout BatchTask) throws {
        let allowed = ["image", "privileged-mode", "variables", "compute-type", "type", "fleet"]
        for (name, _, value) in try mapping(node, key, allowed: allowed) {
            let fieldKey = "\(key).\(name)"
            switch name {
            case "image": task.image = try string(value, fieldKey)
            case "privileged-mode": task.privilegedMode = try yesNo(value, fieldKey)
            case "variables": task.variables = try batchVariables(value, fieldKey)
            case "compute-type": task.computeType = try string(value, fieldKey)
            case "type": task.environmentType = try string(value, fieldKey)
            case "fleet": task.fleet = try string(value, fieldKey)
            default: break
            }
        }
        if task.computeType != nil && task.fleet != nil {
            throw fail(key, node, "compute-type and fleet cannot both be given for one build")
        }
    }

    private func batchVariables(_ node: Node, _ key: String) throws -> [Buildspec.NameValue] {
        let variables = try nameValues(node, key)
        for variable in variables where variable.name.hasPrefix("CODEBUILD_") {
            throw fail("\(key).\(variable.name)", node, "the CODEBUILD_ prefix is reserved")
        }
        return variables
    }

    /// `build-matrix`: `static` settings for every build, `dynamic` lists whose combinations are the builds.
    private func matrix(_ node: Node, _ key: String) throws -> [BatchTask] {
        var base = BatchTask(identifier: "")
        var buildspecs: [String] = []
        var images: [String] = []
        var computeTypes: [String] = []
        var dimensions: [(name: String, values: [String])] = []
        for (name, _, value) in try mapping(node, key, allowed: ["static", "dynamic"]) {
            let sectionKey = "\(key).\(name)"
            if name == "static" {
                for (field, _, fieldValue) in try mapping(value, sectionKey, allowed: ["ignore-failure", "env"]) {
                    let fieldKey = "\(sectionKey).\(field)"
                    if field == "env" {
                        try taskEnvironment(fieldValue, fieldKey, into: &base)
                    } else {
                        base.ignoreFailure = try yesNo(fieldValue, fieldKey)
                    }
                }
                continue
            }
            for (field, _, fieldValue) in try mapping(value, sectionKey, allowed: ["buildspec", "env"]) {
                let fieldKey = "\(sectionKey).\(field)"
                if field == "buildspec" {
                    buildspecs = try strings(fieldValue, fieldKey)
                    continue
                }
                let envKeys = ["image", "variables", "compute-type"]
                for (envName, _, envValue) in try mapping(fieldValue, fieldKey, allowed: envKeys) {
                    let envKey = "\(fieldKey).\(envName)"
                    switch envName {
                    case "image": images = try strings(envValue, envKey)
                    case "compute-type": computeTypes = try strings(envValue, envKey)
                    default:
                        for (variable, _, values) in try mapping(envValue, envKey) {
                            if variable.hasPrefix("CODEBUILD_") {
                                throw fail("\(envKey).\(variable)", envValue, "the CODEBUILD_ prefix is reserved")
                            }
                            dimensions.append((variable, try strings(values, "\(envKey).\(variable)")))
                        }
                    }
                }
            }
        }
        var tasks = [base]
        func expand(_ values: [String], _ apply: (inout BatchTask, String) -> Void) {
            guard !values.isEmpty else { return }
            tasks = tasks.flatMap { task in
                values.map { value in
                    var next = task
                    apply(&next, value)
                    return next
                }
            }
        }
        var names: [[String]] = [[]]
        func name(_ values: [String], _ label: (String) -> String) {
            guard !values.isEmpty else { return }
            names = names.flatMap { parts in values.map { parts + [label($0)] } }
        }
        expand(buildspecs) { $0.buildspec = $1 }
        name(buildspecs) { Self.fileStem($0) }
        expand(images) { $0.image = $1 }
        name(images) { $0 }
        expand(computeTypes) { $0.computeType = $1 }
        name(computeTypes) { $0 }
        for dimension in dimensions {
            expand(dimension.values) { task, value in
                task.variables.removeAll { $0.name == dimension.name }
                task.variables.append(.init(name: dimension.name, value: value))
            }
            name(dimension.values) { "\(dimension.name)_\($0)" }
        }
        if tasks.count == 1 && names == [[]] {
            throw fail("\(key).dynamic", node, "a matrix needs at least one list of buildspecs, images or variables")
        }
        for index in tasks.indices {
            tasks[index].identifier = Self.matrixIdentifier(names[index], taken: tasks[..<index].map(\.identifier))
        }
        return tasks
    }

    /// A matrix build's identifier, from the values that make it: `matrix1_MY_VAR_VALUE1`, with every character
    /// other than letters, digits and `_` made `_`, and a number added when two combinations would share one.
    static func matrixIdentifier(_ parts: [String], taken: [String]) -> String {
        let joined = parts.joined(separator: "_")
        var text = String(
            joined.unicodeScalars.map { scalar -> Character in
                let keep =
                    ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                return keep ? Character(scalar) : "_"
            })
        text = String(text.prefix(120))
        var candidate = text
        var number = 2
        while taken.contains(candidate) {
            candidate = "\(text)_\(number)"
            number += 1
        }
        return candidate
    }

    /// `matrix1` for `config/matrix1.yml`.
    static func fileStem(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    /// `build-fanout`: `parallelism` identical builds, each told its shard.
    private func fanout(_ node: Node, _ key: String) throws -> [BatchTask] {
        var count: Int?
        var ignoreFailure = false
        for (name, _, value) in try mapping(node, key, allowed: ["parallelism", "ignore-failure"]) {
            let fieldKey = "\(key).\(name)"
            if name == "ignore-failure" {
                ignoreFailure = try yesNo(value, fieldKey)
                continue
            }
            let text = try string(value, fieldKey)
            guard let number = Int(text), number >= 1, number <= Self.maximumBatchBuilds else {
                throw fail(
                    fieldKey, value, "expected a number of builds from 1 to \(Self.maximumBatchBuilds), found '\(text)'"
                )
            }
            count = number
        }
        guard let count else { throw fail(key, node, "'parallelism' is required") }
        return (0..<count).map { index in
            var task = BatchTask(identifier: "shard\(index + 1)")
            task.ignoreFailure = ignoreFailure
            task.shard = .init(index: index, count: count)
            return task
        }
    }

    /// Every `depend-on` names a task of the batch, and no task depends on itself through others.
    private func checkGraph(_ tasks: [BatchTask], node: Node) throws {
        let identifiers = Set(tasks.map(\.identifier))
        for task in tasks {
            let unknown = task.dependsOn.filter { !identifiers.contains($0) }
            if !unknown.isEmpty {
                throw fail(
                    "batch.build-graph", node,
                    "build '\(task.identifier)' depends on \(unknown.map { "'\($0)'" }.joined(separator: ", ")), "
                        + "which the batch does not have; its builds are "
                        + tasks.map(\.identifier).joined(separator: ", "))
            }
        }
        if let cycle = Self.cycle(in: tasks) {
            throw fail(
                "batch.build-graph", node,
                "the dependencies form a cycle: \(cycle.joined(separator: " -> ")); no build of it could start")
        }
    }

    /// A dependency cycle, as identifiers from a task back to itself, or nil.
    static func cycle(in tasks: [BatchTask]) -> [String]? {
        let dependencies = Dictionary(tasks.map { ($0.identifier, $0.dependsOn) }) { first, _ in first }
        var state: [String: Bool] = [:]  // false: on the current path; true: done
        var path: [String] = []
        func visit(_ identifier: String) -> [String]? {
            if state[identifier] == true { return nil }
            if state[identifier] == false {
                return Array(path[path.lastIndex(of: identifier)!...]) + [identifier]
            }
            state[identifier] = false
            path.append(identifier)
            for dependency in dependencies[identifier] ?? [] {
                if let cycle = visit(dependency) { return cycle }
            }
            path.removeLast()
            state[identifier] = true
            return nil
        }
        for task in tasks {
            if let cycle = visit(task.identifier) { return cycle }
        }
        return nil
    }
}
