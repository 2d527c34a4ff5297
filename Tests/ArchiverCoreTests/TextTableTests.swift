import ArchiverCore
import Testing

/// The one column aligner and the one byte format of every command.
@Suite struct TextTableTests {
    @Test func columnsLineUpTwoSpacesApartWithoutTrailingSpaces() {
        let lines = TextTable(alignments: [.left, .right]).lines([["RULE", "OBJECTS", "BYTES"], ["archive-tiers", "2", "1.5 KiB"], ["x", "", ""]])
        #expect(lines == [
            "RULE           OBJECTS    BYTES",
            "archive-tiers        2  1.5 KiB",
            "x",
        ])
    }

    @Test func rowsStreamedOneAtATimeUseTheMinimumWidths() {
        let table = TextTable(minimumWidths: [0, 6])
        #expect(table.line(["2024-01-15T10:30:00Z", "ttl", "2024/01/15/a.json.gz"]) == "2024-01-15T10:30:00Z  ttl     2024/01/15/a.json.gz")
        #expect(table.line(["2024-01-15T10:30:00Z", "manual", "2024/01/15/b.json.gz"]) == "2024-01-15T10:30:00Z  manual  2024/01/15/b.json.gz")
    }

    @Test func summariesAreNameValueRows() {
        #expect(alignedRows([("read", "3"), ("dead-lettered", "1"), ("", "a problem")]) == """
            read           3
            dead-lettered  1
                           a problem
            """)
    }

    @Test("sizes count in 1,024s with binary units, one decimal, and never print 1024.0 of a unit")
    func byteSizes() {
        #expect(ByteSize.text(0) == "0 B")
        #expect(ByteSize.text(1023) == "1023 B")
        #expect(ByteSize.text(1024) == "1.0 KiB")
        #expect(ByteSize.text(1536) == "1.5 KiB")
        #expect(ByteSize.text(131_072) == "128.0 KiB")
        #expect(ByteSize.text(1_048_575) == "1.0 MiB")
        #expect(ByteSize.text(1_048_576) == "1.0 MiB")
        #expect(ByteSize.text(5 << 30) == "5.0 GiB")
        #expect(ByteSize.text(Int64.max) == "8.0 EiB")
        #expect(ByteSize.rate(3 << 20, seconds: 2) == "1.5 MiB/s")
        #expect(ByteSize.rate(100, seconds: 0) == "0 B/s")
    }

    @Test("the summaries use them: sync's bytes and the tail's rate in binary units")
    func summariesUseByteSize() {
        var sync = SyncSummary()
        sync.copied = 2
        sync.bytes = 1536
        #expect(sync.text.contains("copied         2  (1.5 KiB)"))
        var tail = TailSummary()
        tail.read = 10
        tail.bytes = 3 << 20
        tail.seconds = 2
        #expect(tail.text.contains("(5 records/s, 1.5 MiB/s)"))
    }
}
