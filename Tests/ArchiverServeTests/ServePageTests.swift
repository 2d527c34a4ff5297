import ArchiverCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ArchiverServe

@Suite("Serve: the admin page")
struct ServePageTests {
    static let hostile = #"{"eventName":"REMOVE","note":"<script>alert('x')</script>" "#

    @Test("a dead letter holding <script> renders as text in the list and on its page, never as markup")
    func escaping() async throws {
        let bed = try await ServeTestbed(records: 10, extraLines: [Self.hostile])
        let entry = try #require(try await bed.context.deadLetters.entries().first { String(decoding: $0.raw, as: UTF8.self).contains("<script>") })
        try await bed.test { client in
            let detail = try await client.execute(uri: "/dead-letters/\(entry.id)", method: .get, headers: ServeTestbed.bearer)
            #expect(detail.status == .ok)
            #expect(detail.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(!detail.text.contains("<script"))
            #expect(detail.text.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
            let list = try await client.execute(uri: "/dead-letters", method: .get, headers: ServeTestbed.bearer)
            #expect(!list.text.contains("<script"))
        }
    }

    @Test("the overview shows each source, the dead letters and the search form")
    func overview() async throws {
        let bed = try await ServeTestbed(records: 600)
        try await bed.test { client in
            let page = try await client.execute(uri: "/", method: .get, headers: ServeTestbed.bearer).text
            #expect(page.contains(bed.feed))
            #expect(page.contains("id=\"dead-letter-count\">\(bed.counts.malformed + bed.counts.removesWithoutImage)<"))
            #expect(page.contains("action=\"/search\""))
            #expect(page.contains("href=\"/static/style.css\""))
        }
    }

    @Test("search, then restore: the preview shows the item and a dry run, and the confirmed restore writes it")
    func searchAndRestore() async throws {
        let bed = try await ServeTestbed(records: 60)
        let session = bed.context.sessions.create()
        let cookie: HTTPFields = [.cookie: "\(SessionStore.cookieName)=\(session.id)"]
        try await bed.test { client in
            let results = try await client.execute(uri: "/search?item=USER%237_*&month=2024-01", method: .get, headers: cookie).text
            #expect(results.contains("1 archived versions"))
            let key = try #require(try await client.authorized("/api/v1/records?item=USER%237_*").json["records"]?[0]?["key"]?.stringValue)
            let record = try await client.execute(uri: "/record?key=" + PageLink.encode(key), method: .get, headers: cookie).text
            #expect(record.contains("&quot;USER#7&quot;"))
            let preview = try await client.form("/restore/preview", [("csrf", session.csrf), ("key", key), ("target", "memory")], headers: cookie)
            #expect(preview.status == .ok)
            #expect(preview.text.contains("id=\"confirm-restore\""))
            #expect(bed.target.restored.isEmpty)
            let done = try await client.form("/restore", [("csrf", session.csrf), ("key", key), ("target", "memory")], headers: cookie)
            #expect(done.status == .seeOther)
            #expect(bed.target.restored.count == 1)
            let after = try await client.execute(uri: done.headers[.location] ?? "/", method: .get, headers: cookie).text
            #expect(after.contains("Restored into memory."))
            // The notice is shown once.
            let again = try await client.execute(uri: done.headers[.location] ?? "/", method: .get, headers: cookie).text
            #expect(!again.contains("Restored into memory."))
        }
    }

    @Test("an error on the page is a page (escaped), not JSON")
    func errorPage() async throws {
        let bed = try await ServeTestbed(records: 10)
        try await bed.test { client in
            let response = try await client.execute(uri: "/record?key=%3Cb%3Ex", method: .get, headers: ServeTestbed.bearer)
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(response.text.contains("&lt;b&gt;x"))
            #expect(!response.text.contains("<b>x"))
        }
    }
}
