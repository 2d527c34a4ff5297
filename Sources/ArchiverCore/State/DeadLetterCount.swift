extension DeadLetterFolder {
    /// How many entry files the folder holds (damaged ones included), from one listing: no entry is read.
    public func count() throws -> Int {
        guard FileSystem.isFolder(path) else { return 0 }
        do {
            return try FileSystem.entries(path).count { $0.hasSuffix(".json") && $0.count > 5 }
        } catch let error as FileSystem.Failure {
            throw StateError.unusable("cannot list the dead-letter folder: \(error)")
        }
    }
}
