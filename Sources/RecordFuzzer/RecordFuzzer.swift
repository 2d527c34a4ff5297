import Foundation
import RecordFuzzing

/// The fuzz target for the record path (see `scripts/fuzz`).
///
/// Built by `scripts/fuzz` with `-sanitize=fuzzer` and `-D FUZZING`, `main` hands control to libFuzzer, which
/// calls `fuzzOne` with each input it makes up; a failed check stops it with the input saved as a crasher.
/// Built normally (as `swift build` does), it replays the files and folders given as arguments and
/// exits 1 if any fails: `swift run RecordFuzzer fixtures/fuzz`.
@main
enum RecordFuzzer {
    nonisolated(unsafe) static let check = RecordPathCheck()

    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
        #else
        exit(replay(Array(CommandLine.arguments.dropFirst())))
        #endif
    }

    static func replay(_ paths: [String]) -> Int32 {
        var files: [String] = []
        for path in paths {
            if let names = listFolder(path) { files += names.sorted().map { path + "/" + $0 } } else { files.append(path) }
        }
        var failed = 0
        for file in files {
            guard let bytes = readFile(file) else {
                print("\(file): cannot read")
                failed += 1
                continue
            }
            if let problem = check.check(bytes) {
                print("\(file): FAILED: \(problem)")
                failed += 1
            } else {
                print("\(file): \(check.lastOutcome)")
            }
        }
        print("\(files.count) inputs, \(failed) failed")
        return failed == 0 ? 0 : 1
    }
}

/// One input from libFuzzer.
let fuzzOne: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32 = { data, size in
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    if let problem = RecordFuzzer.check.check(input) {
        FileHandle.standardError.write(Data("record path check failed: \(problem)\n".utf8))
        abort()
    }
    return 0
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
#endif

private func listFolder(_ path: String) -> [String]? {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return nil }
    // A folder of inputs may hold notes about them (README.md, expected.json): not inputs.
    return (try? FileManager.default.contentsOfDirectory(atPath: path))?.filter {
        !$0.hasPrefix(".") && !$0.hasSuffix(".md") && !$0.hasSuffix(".json")
    }
}

private func readFile(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { Array($0) }
}
