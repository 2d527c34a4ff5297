/// Pulls pages of a listing on demand and hands out their items one at a time, for the `…All` streams of the
/// clients (ListObjectsV2, ListObjectVersions, Scan): the next page is fetched only when the last item of the
/// previous one has been read.
actor Pager<Item: Sendable, Marker: Sendable> {
    /// One page: its items, and the marker of the next page (nil after the last).
    typealias Page = (items: [Item], next: Marker?)

    private let fetch: @Sendable (Marker?) async throws -> Page
    private var buffer: [Item] = []
    private var index = 0
    private var marker: Marker?
    private var finished = false

    /// - Parameter fetch: fetches the page that starts at a marker (nil: the first page).
    init(fetch: @escaping @Sendable (Marker?) async throws -> Page) {
        self.fetch = fetch
    }

    func next() async throws -> Item? {
        while index == buffer.count {
            if finished { return nil }
            let page = try await fetch(marker)
            buffer = page.items
            index = 0
            marker = page.next
            finished = page.next == nil
        }
        defer { index += 1 }
        return buffer[index]
    }

    /// The pager as a stream.
    nonisolated var stream: AsyncThrowingStream<Item, any Error> {
        AsyncThrowingStream { try await self.next() }
    }
}
