import Foundation
import Testing
import TestSupport

/// The bound every test's run of the binary has: a run that does not end is killed, and the test learns why.
@Suite("A run of archiver that never ends")
struct HungRunTests {
    @Test func isKilledAtItsLimitWithANoteAndItsThreadsStacks() async throws {
        let folder = TemporaryFolder("hung")
        defer { folder.remove() }
        try Data().write(to: URL(fileURLWithPath: folder("feed.jsonl")))
        // A tail that follows its feed (no --once) never ends by itself.
        let running = try BuiltBinary.start(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state"], in: folder.path)
        let result = await running.finish(limit: 3)
        #expect(result.hung, "\(result.stderr.suffix(2000))")
        #expect(!running.process.isRunning)
        #expect(running.endedBySignal)
        #expect(result.stderr.contains("still running after 3 s"))
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb") {
            // gdb read its threads before the kill: the main thread and the ones it started.
            #expect(result.stderr.contains("Thread 1 "), "\(result.stderr.suffix(3000))")
        } else {
            #expect(result.stderr.contains("no gdb"))
        }
    }
}
