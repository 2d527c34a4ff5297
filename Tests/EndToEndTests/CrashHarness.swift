import AWSClients
import ArchiverAWS
import ArchiverCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// How long the crash tests run: bounded in CI, longer for soak runs.
enum Soak {
    static let environment = ProcessInfo.processInfo.environment
    /// Kills per crash case: `ARCHIVER_SOAK_KILLS`, or the case's bounded count.
    static func kills(_ bounded: Int) -> Int { Int(environment["ARCHIVER_SOAK_KILLS"] ?? "").map { max(1, $0) } ?? bounded }
    /// Records of the JSON-lines feeds: `ARCHIVER_SOAK_RECORDS`, or the case's bounded count.
    static func records(_ bounded: Int) -> Int { Int(environment["ARCHIVER_SOAK_RECORDS"] ?? "").map { max(100, $0) } ?? bounded }
}

/// An archive as the tests see it: a folder or an S3 bucket (under a prefix), listed raw, below `archiver`.
struct ArchiveUnderTest: Sendable {
    enum Place: Sendable {
        case folder(String)
        case s3(S3Client, bucket: String, prefix: String)
    }

    let place: Place
    /// A batched archive: its whole objects are the batched objects, their indexes and the manifest.
    var batched = false

    static func folder(_ path: String, batched: Bool = false) -> ArchiveUnderTest { ArchiveUnderTest(place: .folder(path), batched: batched) }
    static func s3(_ client: S3Client, bucket: String, prefix: String, batched: Bool = false) -> ArchiveUnderTest {
        ArchiveUnderTest(place: .s3(client, bucket: bucket, prefix: prefix), batched: batched)
    }

    /// What `--archive` takes.
    var spec: String {
        switch place {
        case .folder(let path): path
        case .s3(_, let bucket, let prefix): "s3://\(bucket)/\(prefix)"
        }
    }

    /// Every stored name relative to the archive root, temporary ones included, sorted.
    func allNames() async throws -> [String] {
        switch place {
        case .folder(let path):
            // readdir, not FileManager's enumerator: this runs after every kill over thousands of files.
            var names: [String] = []
            func walk(_ relative: String) {
                let folder = relative.isEmpty ? path : path + "/" + relative
                for name in (try? FileSystem.entries(folder)) ?? [] {
                    let child = relative.isEmpty ? name : relative + "/" + name
                    if FileSystem.isFolder(path + "/" + child) { walk(child) } else { names.append(child) }
                }
            }
            walk("")
            return names.sorted()
        case .s3(let client, let bucket, let prefix):
            var names: [String] = []
            for try await object in client.listAllObjects(bucket: bucket, prefix: prefix + "/") { names.append(String(object.key.dropFirst(prefix.count + 1))) }
            return names.sorted()
        }
    }

    /// Names of whole archive objects (what `ls` and `sync` may show).
    func objects() async throws -> [String] { try await allNames().filter { !isTemporary($0) } }

    /// Names that are not archive objects: writes in progress (`.tmp/…`) and anything else left behind.
    func temporaries() async throws -> [String] { try await allNames().filter(isTemporary) }

    func isTemporary(_ name: String) -> Bool {
        guard batched else { return Self.isTemporary(name) }
        return name.hasPrefix(".") || name.contains("/.") || name.contains(".tmp") || !(BatchedObjectName.isBatched(name) || name == LayoutManifest.key)
    }

    static func isTemporary(_ name: String) -> Bool {
        name.hasPrefix(".") || name.contains("/.") || name.contains(".tmp") || ArchiveKey(path: name) == nil
    }

    /// The keys of the records the archive holds, as `ls` lists them: its objects' names, or what a batched
    /// archive's indexes list.
    func recordKeys() async throws -> [String] {
        guard batched else { return try await objects() }
        let store: any ArchiveStore
        switch place {
        case .folder(let path): store = try LocalArchiveStore(path: path, access: .readOnly)
        case .s3(let client, let bucket, let prefix): store = S3ArchiveStore(client: client, bucket: bucket, prefix: prefix)
        }
        var keys: [String] = []
        for try await page in BatchedArchive(store: store).indexes(prefix: "") { keys += page.flatMap { $0.index.entries.map(\.key) } }
        return keys
    }

    func read(_ name: String) async throws -> [UInt8] {
        switch place {
        case .folder(let path): Array(try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
        case .s3(let client, let bucket, let prefix): try await client.getObject(bucket: bucket, key: prefix + "/" + name)
        }
    }

    /// Multipart uploads begun and neither completed nor aborted (none for a folder).
    func uploadsInProgress() async throws -> Int {
        guard case .s3(let client, let bucket, let prefix) = place else { return 0 }
        return try await client.listMultipartUploads(bucket: bucket, prefix: prefix + "/").count
    }
}

/// The state folder as the tests see it: the saved checkpoints and the dead-letter entries.
struct StateUnderTest {
    let path: String

    /// Partition → saved position, read from `archiver.sqlite` without changing it (empty before the first save).
    func checkpoints() throws -> [String: String] {
        let database = path + "/archiver.sqlite"
        guard FileManager.default.fileExists(atPath: database) else { return [:] }
        var out = try Shell.run(["sqlite3", "-readonly", "-cmd", ".timeout 5000", "-separator", "\t", database, "SELECT partition, position FROM checkpoints"])
        if out.status != 0 && out.stderr.contains("readonly database") {
            // Killed between switching the database to WAL and making its -shm file: a read-only connection cannot
            // make it. Read a copy instead, which SQLite recovers exactly as the next archiver will.
            let copy = NSTemporaryDirectory() + "archiver-checkpoint-copy-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: database + suffix) {
                try FileManager.default.copyItem(atPath: database + suffix, toPath: copy + "/archiver.sqlite" + suffix)
            }
            out = try Shell.run(["sqlite3", "-cmd", ".timeout 5000", "-separator", "\t", copy + "/archiver.sqlite", "SELECT partition, position FROM checkpoints"])
        }
        if out.status != 0 {
            // Killed before the table was made: no checkpoint yet.
            if out.stderr.contains("no such table") { return [:] }
            throw ShellFailure(description: "sqlite3 could not read \(database): \(out.stderr)")
        }
        var result: [String: String] = [:]
        for line in out.stdout.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }

    /// A batched tail's records done past each partition's checkpoint (table `batch_positions`; empty without one).
    func batchSkips() throws -> [String: Int] {
        let database = path + "/archiver.sqlite"
        guard FileManager.default.fileExists(atPath: database) else { return [:] }
        let out = try Shell.run(["sqlite3", "-readonly", "-cmd", ".timeout 5000", "-separator", "\t", database, "SELECT partition, skip FROM batch_positions"])
        guard out.status == 0 else { return [:] }
        var result: [String: Int] = [:]
        for line in out.stdout.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            let skip = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            // A row with no records done past its checkpoint (one that only names objects being written) says nothing
            // the checkpoint does not: left out, so that waiting for progress never ends on it.
            if skip > 0 { result[String(parts[0])] = skip }
        }
        return result
    }

    /// Every dead-letter entry (decoded), and the names of entry files that do not decode.
    func deadLetters() -> (entries: [DeadLetter], damaged: [String]) {
        let folder = path + "/dead-letters"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
        var entries: [DeadLetter] = []
        var damaged: [String] = []
        for name in names.sorted() {
            if let data = FileManager.default.contents(atPath: folder + "/" + name), let entry = try? JSONDecoder().decode(DeadLetter.self, from: data) {
                entries.append(entry)
            } else {
                damaged.append(name)
            }
        }
        return (entries, damaged)
    }

    /// Files left in the dead-letter folder's `.tmp/` (its slot folders are not leftovers).
    func deadLetterTemporaries() -> [String] {
        let temporary = path + "/dead-letters/.tmp"
        return (FileManager.default.subpaths(atPath: temporary) ?? []).filter { !FileSystem.isFolder(temporary + "/" + $0) }
    }
}

/// Kills a following tail at random moments, restarts it, and after each kill notes what the checkpoint
/// says and what the archive holds, so that the checkpoint can be checked against the archive.
struct KillLoop {
    /// After one kill: the saved checkpoints and the whole objects there.
    struct Snapshot {
        var kill: Int
        var checkpoints: [String: String]
        /// A batched tail's records done past each checkpoint.
        var skips: [String: Int] = [:]
        var objects: Set<String>
        var deadLetters: [DeadLetter]
    }

    let folder: TemporaryFolder
    /// The tail's arguments (it follows: no `--once`).
    let tail: [String]
    let archive: ArchiveUnderTest
    let state: StateUnderTest
    var environment: [String: String] = [:]
    /// How long a tail runs after `step` before it is killed, in milliseconds: half the kills come within
    /// 30 ms (while it works on what `step` added), the others after a pause in this range (often once it is idle).
    var pause: ClosedRange<Int> = 20...300

    /// Runs `kills` start–kill cycles. `step(i)` runs while tail `i` runs (grow the feed there).
    /// After each kill the dead-letter entries must all be readable, and any temporary objects left
    /// must not show in `archiver ls`.
    func run(kills: Int, step: (Int) async throws -> Void = { _ in }) async throws -> [Snapshot] {
        var generator = SystemRandomNumberGenerator()
        var snapshots: [Snapshot] = []
        var lsChecks = 0
        var stalled = 0
        for kill in 0..<kills {
            let running = try BuiltBinary.start(tail, in: folder.path, environment: environment)
            try await step(kill)
            if stalled >= 2 {
                // Two kills in a row came before any checkpoint (a slow disk): this time let one be saved first,
                // so that the run makes progress however loaded the machine (the wait ends at the first checkpoint).
                let deadline = Date().addingTimeInterval(60)
                while try state.checkpoints() == snapshots.last?.checkpoints ?? [:],
                    try !archive.batched || state.batchSkips() == snapshots.last?.skips ?? [:], Date() < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            let wait = Bool.random(using: &generator) ? Int.random(in: 0...30, using: &generator) : Int.random(in: pause, using: &generator)
            try await Task.sleep(for: .milliseconds(wait))
            running.signal(SIGKILL)
            let result = await running.finish()
            #expect(running.endedBySignal, "tail \(kill) ended by itself (\(result.status)): \(result.stderr)")
            #expect(!result.crashed, "tail \(kill) crashed before it was killed: \(result.stderr)")

            let letters = state.deadLetters()
            let snapshot = Snapshot(
                kill: kill, checkpoints: try state.checkpoints(), skips: archive.batched ? try state.batchSkips() : [:], objects: Set(try await archive.objects()),
                deadLetters: letters.entries)
            stalled = snapshot.checkpoints == snapshots.last?.checkpoints ?? [:] && snapshot.skips == snapshots.last?.skips ?? [:] ? stalled + 1 : 0
            snapshots.append(snapshot)
            #expect(letters.damaged.isEmpty, "after kill \(kill), damaged dead-letter entries: \(letters.damaged)")
            // Leftovers of the killed process are never listed (checked a few times per run: each costs a process).
            if lsChecks < 3, try await !archive.temporaries().isEmpty {
                lsChecks += 1
                let listed = try Self.listed(archive, in: folder, environment: environment)
                let whole = archive.batched ? Set(try await archive.recordKeys()) : snapshot.objects
                #expect(Set(listed) == whole, "after kill \(kill), ls shows other than the whole objects")
            }
        }
        return snapshots
    }

    /// Starts `arguments` `times` times, each killed after a random pause unless it finished first.
    /// Returns how many runs were killed while working.
    static func interrupt(_ arguments: [String], times: Int, pause: ClosedRange<Int>, in folder: TemporaryFolder,
                          environment: [String: String] = [:]) async throws -> Int {
        var generator = SystemRandomNumberGenerator()
        var killed = 0
        for _ in 0..<times {
            let running = try BuiltBinary.start(arguments, in: folder.path, environment: environment)
            try await Task.sleep(for: .milliseconds(Int.random(in: pause, using: &generator)))
            running.signal(SIGKILL)
            let result = await running.finish()
            if running.endedBySignal { killed += 1 }
            #expect(!result.crashed, "\(arguments.first ?? "") crashed before it was killed: \(result.stderr)")
        }
        return killed
    }

    /// The keys `archiver ls --json` prints.
    static func listed(_ archive: ArchiveUnderTest, in folder: TemporaryFolder, environment: [String: String] = [:]) throws -> [String] {
        let ls = try BuiltBinary.run(["ls", "--archive", archive.spec, "--json"], in: folder.path, environment: environment)
        #expect(ls.status == 0, "\(ls.stderr)")
        let entries = try JSONSerialization.jsonObject(with: Data(ls.stdout.utf8)) as? [[String: Any]] ?? []
        return entries.compactMap { $0["key"] as? String }
    }
}

/// The checks every crash case ends with.
enum CrashChecks {
    /// The crash run's archive holds exactly the clean run's objects, byte for byte, and nothing else.
    static func sameAsClean(_ crash: ArchiveUnderTest, _ clean: ArchiveUnderTest, expected: Int, folder: TemporaryFolder,
                            environment: [String: String] = [:]) async throws {
        let cleanNames = try await clean.objects()
        let crashNames = try await crash.objects()
        #expect(cleanNames.count == expected, "the clean run wrote \(cleanNames.count) objects, not \(expected)")
        #expect(crashNames.count == cleanNames.count)
        #expect(Set(crashNames).symmetricDifference(cleanNames).sorted().prefix(10) == [], "names differ from the clean run's")
        var differing: [String] = []
        for name in cleanNames where Set(crashNames).contains(name) {
            if try await crash.read(name) != clean.read(name) { differing.append(name) }
        }
        #expect(differing.isEmpty, "differ from the clean run's: \(differing.prefix(10))")
        // Nothing temporary is left, and what `ls` lists is exactly the objects.
        #expect(try await crash.temporaries() == [], "temporary objects left")
        #expect(try await crash.uploadsInProgress() == 0, "multipart uploads left in progress")
        let listed = try KillLoop.listed(crash, in: folder, environment: environment)
        #expect(listed.sorted() == cleanNames)
    }

    /// After every kill, each object of the clean run whose record the checkpoint covers was already there.
    /// `covered(name, checkpoints)` says whether the checkpoints cover the record of object `name`.
    /// Returns how many (snapshot, object) pairs were checked, so callers can see the check was not empty.
    @discardableResult
    static func checkpointNeverAhead(_ snapshots: [KillLoop.Snapshot], cleanObjects: [String],
                                     covered: (ArchiveKey, [String: String]) -> Bool) -> Int {
        let keys = cleanObjects.compactMap { name in ArchiveKey(path: name).map { (name, $0) } }
        var checked = 0
        for snapshot in snapshots where !snapshot.checkpoints.isEmpty {
            let missing = keys.filter { covered($0.1, snapshot.checkpoints) && !snapshot.objects.contains($0.0) }.map(\.0)
            checked += keys.count { covered($0.1, snapshot.checkpoints) }
            #expect(missing.isEmpty, "after kill \(snapshot.kill) the checkpoint \(snapshot.checkpoints) is ahead of the archive: \(missing.count) objects missing, e.g. \(missing.prefix(3))")
        }
        return checked
    }

    /// After every kill, each dead letter of the clean run whose record the checkpoint covers was already written.
    static func deadLettersNeverBehind(_ snapshots: [KillLoop.Snapshot], clean: StateUnderTest, covered: (DeadLetter, [String: String]) -> Bool) {
        let expected = clean.deadLetters().entries
        for snapshot in snapshots where !snapshot.checkpoints.isEmpty {
            let there = Set(snapshot.deadLetters.map { "\($0.position) \($0.raw)" })
            let missing = expected.filter { covered($0, snapshot.checkpoints) && !there.contains("\($0.position) \($0.raw)") }
            #expect(missing.isEmpty, "after kill \(snapshot.kill) the checkpoint \(snapshot.checkpoints) is ahead of the dead letters: \(missing.map(\.position))")
        }
    }

    /// Whether decimal sequence number `a` is at most `b` (no leading signs; leading zeros allowed).
    static func sequence(_ a: String, isAtMost b: String) -> Bool {
        let x = a.drop { $0 == "0" }
        let y = b.drop { $0 == "0" }
        return x.count != y.count ? x.count < y.count : x <= y
    }

    /// Dead letters of two runs are the same records at the same places, for the same reasons, every entry whole.
    static func sameDeadLetters(_ crash: StateUnderTest, _ clean: StateUnderTest, expected: Int) {
        let a = crash.deadLetters()
        let b = clean.deadLetters()
        #expect(a.damaged.isEmpty && b.damaged.isEmpty, "damaged dead-letter entries: \(a.damaged) \(b.damaged)")
        #expect(b.entries.count == expected)
        // Entry ids name the source, which may differ between the runs: compare place, reason and bytes.
        func summary(_ entries: [DeadLetter]) -> [String] { entries.map { "\($0.position) \($0.code) \($0.raw)" }.sorted() }
        #expect(summary(a.entries) == summary(b.entries))
        #expect(crash.deadLetterTemporaries().isEmpty, "temporary files left in the dead-letter folder")
    }
}

/// One line per crash case on standard error, for reading soak runs.
enum CrashReport {
    static func line(_ name: String, _ text: String) {
        FileHandle.standardError.write(Data("crash test: \(name): \(text)\n".utf8))
    }
}

/// Runs a program to completion.
enum Shell {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], environment: [String: String]? = nil, in directory: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.readToEnd()
            group.leave()
        }
        let outData = out.readToEnd()
        group.wait()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs and requires success.
    @discardableResult
    static func check(_ arguments: [String], environment: [String: String]? = nil, in directory: String? = nil) throws -> String {
        let out = try run(arguments, environment: environment, in: directory)
        guard out.status == 0 else { throw ShellFailure(description: "\(arguments.prefix(2).joined(separator: " ")) failed (\(out.status)): \(out.stderr)") }
        return out.stdout
    }
}

struct ShellFailure: Error, CustomStringConvertible { let description: String }
