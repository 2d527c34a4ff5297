import ArchiverCore
/// Builds the records of one generated feed, byte by byte, into one reused buffer.
///
/// Two random streams: the feed's (which event, which item, when) and the item's own, seeded from the
/// item's identity, so a MODIFY's NewImage and OldImage describe the same item and a later event on the
/// same item sees the same content.
final class FeedWriter {
    let out: ByteBuffer
    private var counts = FeedSummary()
    private var firstTime: Int64?
    private var lastTime: Int64 = 0

    /// What has been written so far.
    var summary: FeedSummary {
        var summary = counts
        summary.archived = summary.remove
        summary.archivedManual = summary.removeManual
        summary.archivedTTL = summary.removeTTL
        summary.passedOver = summary.insert + summary.modify
        summary.firstEventTime = firstTime.flatMap { DeletionTime(epochSeconds: $0)?.description }
        summary.lastEventTime = firstTime == nil ? nil : DeletionTime(epochSeconds: lastTime)?.description
        return summary
    }

    private var rng: SeededRandom
    private var item = SeededRandom(seed: 0)
    private let seed: UInt64
    private let start: Int64
    private let span: Int64
    private let total: Int
    private var sequence = 17_454_423_011_000
    private let pools: Pools
    /// The key attributes of the current item as they stand in Keys and in the images (`"PK":{"S":"…"},…`).
    private let keyAttributes = ByteBuffer(capacity: 1024)

    init(generator: FeedGenerator, total: Int, chunkSize: Int) {
        out = ByteBuffer(capacity: chunkSize + 64 * 1024)
        seed = generator.seed
        rng = SeededRandom(seed: generator.seed)
        start = generator.start
        span = Int64(generator.days) * 86_400
        self.total = max(total, 1)
        pools = Pools(seed: generator.seed)
        counts.seed = generator.seed
        counts.days = generator.days
        if let day = DeletionTime(epochSeconds: generator.start) {
            counts.start = day.calendarDate
        }
    }

    // MARK: One record

    enum Entity: UInt64 {
        case user = 1, cart, document, session, upload, counter, blob
    }

    /// How big an item is: most are small; about 1% carry 10 to 48 KB; about 0.05% 100 to 300 KB.
    enum SizeClass {
        case normal, large, huge
    }

    func writeRecord(_ index: Int) {
        let lineStart = out.count

        // What happens, to which item, when.
        let roll = rng.below(100)
        let event: EventName = roll < 35 ? .insert : roll < 60 ? .modify : .remove
        let ttl = event == .remove && rng.below(3) == 0
        let entity = ttl ? (rng.below(10) < 7 ? Entity.session : .upload) : pickEntity()
        let identity = pickIdentity(entity)
        let itemSeed = SplitMix64.mix(seed ^ (entity.rawValue << 56) ^ identity)
        let step = span / Int64(total)
        // index × span / total, without overflow however many records.
        var time = start + Int64(total).dividingFullWidth(Int64(index).multipliedFullWidth(by: span)).quotient
        if step > 1 { time += Int64(rng.below(Int(step))) }
        time = min(time, start + span - 1)
        sequence += 1 + rng.below(9_999)
        let version = rng.below(40) + 1

        // Envelope.
        out.append(#"{"eventID":""#)
        out.appendHex(rng.next(), digits: 16)
        out.appendHex(rng.next(), digits: 16)
        switch event {
        case .insert: out.append(#"","eventName":"INSERT""#)
        case .modify: out.append(#"","eventName":"MODIFY""#)
        case .remove: out.append(#"","eventName":"REMOVE""#)
        }
        out.append(#","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":"#)
        writeTime(time)

        // Keys and images.
        item = SeededRandom(seed: itemSeed)
        prepareKeys(entity, identity: identity)
        out.append(#","Keys":{"#)
        let sizeStart = out.count
        out.append(keyAttributes)
        out.append(UInt8(ascii: "}"))
        if event != .remove {
            out.append(#","NewImage":"#)
            writeItem(entity, itemSeed: itemSeed, version: event == .modify ? version + 1 : version, time: time, expired: false)
        }
        if event != .insert {
            out.append(#","OldImage":"#)
            writeItem(entity, itemSeed: itemSeed, version: version, time: time, expired: ttl)
        }
        let sizeBytes = out.count - sizeStart
        out.append(#","SequenceNumber":"11"#)
        out.appendPadded(sequence, width: 20)
        out.append(#"","SizeBytes":"#)
        out.appendDecimal(UInt64(sizeBytes))
        out.append(#","StreamViewType":"NEW_AND_OLD_IMAGES"}"#)
        if ttl { out.append(#","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}"#) }
        out.append(#","eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/"#)
        switch entity {
        case .counter: out.append("counters")
        case .blob: out.append("blobs")
        default: out.append("app-main")
        }
        out.append(#"/stream/2024-01-01T00:00:00.000"}"#)
        let size = out.count - lineStart
        out.append(UInt8(ascii: "\n"))

        // What was written.
        counts.records += 1
        switch event {
        case .insert: counts.insert += 1
        case .modify: counts.modify += 1
        case .remove:
            counts.remove += 1
            if ttl { counts.removeTTL += 1 } else { counts.removeManual += 1 }
        }
        counts.bytes += Int64(size + 1)
        counts.largestRecord = max(counts.largestRecord, size)
        counts.sizes.count(size)
        if firstTime == nil { firstTime = time }
        lastTime = time
    }

    private func pickEntity() -> Entity {
        switch rng.below(100) {
        case ..<35: .user
        case ..<55: .cart
        case ..<63: .document
        case ..<80: .session
        case ..<88: .upload
        case ..<94: .counter
        default: .blob
        }
    }

    /// Which item: drawn from a space small enough that items come back (deleted twice, modified often).
    private func pickIdentity(_ entity: Entity) -> UInt64 {
        switch entity {
        case .user, .cart, .document: UInt64(rng.below(200_000))
        case .counter: UInt64(rng.below(5_000))
        default: rng.next()
        }
    }

    /// `ApproximateCreationDateTime`: epoch seconds, now and then fractional or an ISO-8601 string.
    private func writeTime(_ time: Int64) {
        let form = rng.below(100)
        if form < 90 {
            out.appendDecimal(time)
        } else if form < 97 {
            out.appendDecimal(time)
            out.append(UInt8(ascii: "."))
            out.appendPadded(rng.below(1000), width: 3)
        } else {
            out.append(UInt8(ascii: "\""))
            writeISO(time, milliseconds: rng.below(1000))
            out.append(UInt8(ascii: "\""))
        }
    }

    /// `2024-01-15T10:30:00.123Z` (milliseconds when given).
    private func writeISO(_ time: Int64, milliseconds: Int? = nil, into buffer: ByteBuffer? = nil) {
        let b = buffer ?? out
        guard let t = DeletionTime(epochSeconds: time) else { return }
        b.appendPadded(t.year, width: 4)
        b.append(UInt8(ascii: "-"))
        b.appendPadded(t.month, width: 2)
        b.append(UInt8(ascii: "-"))
        b.appendPadded(t.day, width: 2)
        b.append(UInt8(ascii: "T"))
        b.appendPadded(t.hour, width: 2)
        b.append(UInt8(ascii: ":"))
        b.appendPadded(t.minute, width: 2)
        b.append(UInt8(ascii: ":"))
        b.appendPadded(t.second, width: 2)
        if let milliseconds {
            b.append(UInt8(ascii: "."))
            b.appendPadded(milliseconds, width: 3)
        }
        b.append(UInt8(ascii: "Z"))
    }

    // MARK: Keys

    /// Writes the item's key attributes into `keyAttributes` (they appear in Keys and in each image).
    private func prepareKeys(_ entity: Entity, identity: UInt64) {
        let k = keyAttributes
        k.removeAll()
        switch entity {
        case .user:
            k.append(#""PK":{"S":"USER#"#)
            writeIdentity(identity, odd: true, into: k)
            k.append(#""},"SK":{"S":""#)
            k.append(pools.userSortKeys[item.below(pools.userSortKeys.count)])
            k.append(#""}"#)
        case .cart:
            k.append(#""PK":{"S":"CART#USER#"#)
            k.appendDecimal(identity)
            k.append(#""},"SK":{"S":"ITEM#SKU-"#)
            k.appendPadded(item.below(1_000_000), width: 6)
            k.append(#""}"#)
        case .document:
            k.append(#""PK":{"S":"DOC#"#)
            writeIdentity(identity, odd: true, into: k)
            k.append(#""},"SK":{"S":"v"#)
            k.appendDecimal(UInt64(item.int(in: 1...20)))
            k.append(#""}"#)
        case .session:
            k.append(#""PK":{"S":"SESSION#"#)
            k.appendHex(identity, digits: 16)
            k.append(#""},"SK":{"S":""#)
            let created = start - 86_400 + Int64(identity % UInt64(max(span, 1)))
            writeISO(created, into: k)
            k.append(#""}"#)
        case .upload:
            k.append(#""PK":{"S":"UPLOAD#"#)
            k.appendHex(identity >> 32, digits: 8)
            k.append(UInt8(ascii: "-"))
            k.appendHex(identity >> 16, digits: 4)
            k.append(UInt8(ascii: "-"))
            k.appendHex(identity, digits: 4)
            let more = SplitMix64.mix(identity)
            k.append(UInt8(ascii: "-"))
            k.appendHex(more >> 48, digits: 4)
            k.append(UInt8(ascii: "-"))
            k.appendHex(more, digits: 12)
            k.append(#""},"SK":{"S":"TICKET"}"#)
        case .counter:
            k.append(#""id":{"N":""#)
            writeNumberKey(identity, into: k)
            k.append(#""}"#)
        case .blob:
            k.append(#""digest":{"B":""#)
            appendBase64(byteCount: 32, into: k)
            k.append(#""}"#)
        }
    }

    /// An identity number, or (about 2% of items) an awkward value: `/`, `..`, `%`, spaces, unicode, control characters.
    private func writeIdentity(_ identity: UInt64, odd: Bool, into k: ByteBuffer) {
        if odd && item.below(1000) < 20 {
            k.append(pools.oddKeys[item.below(pools.oddKeys.count)])
        } else {
            k.appendDecimal(identity)
        }
    }

    /// A DynamoDB number key: mostly small integers, some negative, decimal, or 38 digits long.
    private func writeNumberKey(_ identity: UInt64, into k: ByteBuffer) {
        switch identity % 20 {
        case 0:
            k.append("12345678901234567890123456789")
            k.appendPadded(Int(identity % 1_000_000_000), width: 9)
        case 1:
            k.append(UInt8(ascii: "-"))
            k.appendDecimal(identity)
        case 2:
            k.appendDecimal(identity)
            k.append(".")
            k.appendPadded(Int(identity % 100), width: 2)
        default:
            k.appendDecimal(identity)
        }
    }

    // MARK: Items

    private func writeItem(_ entity: Entity, itemSeed: UInt64, version: Int, time: Int64, expired: Bool) {
        item = SeededRandom(seed: itemSeed ^ 0xA5A5)
        let sizeClass: SizeClass = item.chance(perMillion: 500) ? .huge : item.chance(perMillion: 10_000) ? .large : .normal
        out.append(UInt8(ascii: "{"))
        out.append(keyAttributes)
        switch entity {
        case .user: writeUser(version)
        case .cart: writeCart(version)
        case .document: writeDocument(version)
        case .session: writeSession(version, time: time, expired: expired)
        case .upload: writeUpload(version, time: time, expired: expired)
        case .counter: writeCounter(version)
        case .blob: writeBlob(version)
        }
        switch sizeClass {
        case .normal: break
        case .large: writePayload(entity, length: item.int(in: 10_000...48_000))
        case .huge: writePayload(entity, length: item.int(in: 100_000...300_000))
        }
        out.append(UInt8(ascii: "}"))
    }

    private func writePayload(_ entity: Entity, length: Int) {
        if entity == .blob || entity == .document {
            out.append(#","payload":{"B":""#)
            out.append(cycling: pools.base64, from: item.below(pools.base64.count) & ~3, length: length & ~3)
        } else {
            out.append(#","payload":{"S":""#)
            out.append(cycling: pools.text, from: item.below(pools.text.count), length: length)
        }
        out.append(#""}"#)
    }

    private func writeUser(_ version: Int) {
        let p = pools
        out.append(#","email":{"S":""#)
        out.append(p.emailNames[item.below(p.emailNames.count)])
        out.append(UInt8(ascii: "."))
        out.appendDecimal(UInt64(item.below(10_000)))
        out.append(#"@example.com"},"name":{"S":""#)
        out.append(p.firstNames[item.below(p.firstNames.count)])
        out.append(UInt8(ascii: " "))
        out.append(p.lastNames[item.below(p.lastNames.count)])
        out.append(#""},"createdAt":{"S":""#)
        writeISO(1_546_300_800 + Int64(item.below(157_680_000)))
        out.append(#""},"loginCount":{"N":""#)
        out.appendDecimal(UInt64(item.below(5_000) + version))
        out.append(#""},"verified":{"BOOL":"#)
        out.append(item.below(10) < 7 ? "true" : "false")
        out.append(#"},"preferences":{"M":{"theme":{"S":""#)
        out.append(item.below(2) == 0 ? "dark" : "light")
        out.append(#""},"locale":{"S":""#)
        out.append(p.locales[item.below(p.locales.count)])
        out.append(#""},"notifications":{"M":{"email":{"BOOL":true},"sms":{"BOOL":"#)
        out.append(item.below(10) < 3 ? "true" : "false")
        out.append(#"}}}}},"roles":{"SS":["#)
        writeStringSet(p.roles)
        out.append(#"]},"version":{"N":""#)
        out.appendDecimal(UInt64(version))
        out.append(#""}"#)
        if item.below(2) == 0 {
            out.append(#","balance":{"N":""#)
            if item.below(4) == 0 { out.append(UInt8(ascii: "-")) }
            out.appendDecimal(UInt64(item.below(100_000)))
            out.append(UInt8(ascii: "."))
            out.appendPadded(item.below(100), width: 2)
            out.append(#""}"#)
        }
        if item.below(100) < 15 { out.append(#","deletedReason":{"NULL":true}"#) }
        if item.below(100) < 25 {
            out.append(#","scores":{"NS":["#)
            let count = item.int(in: 1...4)
            for i in 0..<count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\""))
                out.append(p.numbers[(item.below(p.numbers.count) + i) % p.numbers.count])
                out.append(UInt8(ascii: "\""))
            }
            out.append(#"]}"#)
        }
        if item.below(100) < 25 {
            out.append(#","avatar":{"B":""#)
            appendBase64(byteCount: item.int(in: 24...96), into: out)
            out.append(#""}"#)
        }
        if item.below(100) < 30 {
            out.append(#","addresses":{"L":["#)
            let count = item.int(in: 1...3)
            for i in 0..<count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(#"{"M":{"street":{"S":""#)
                out.appendDecimal(UInt64(item.int(in: 1...999)))
                out.append(UInt8(ascii: " "))
                out.append(p.streets[item.below(p.streets.count)])
                out.append(#""},"city":{"S":""#)
                out.append(p.cities[item.below(p.cities.count)])
                out.append(#""},"zip":{"S":""#)
                out.appendPadded(item.below(100_000), width: 5)
                out.append(#""},"primary":{"BOOL":"#)
                out.append(i == 0 ? "true" : "false")
                out.append(#"}}}"#)
            }
            out.append(#"]}"#)
        }
        if item.below(100) < 15 {
            out.append(#","bio":{"S":""#)
            out.append(p.texts[item.below(p.texts.count)])
            out.append(#""}"#)
        }
        writeNotes(percent: 40, maximum: 900)
    }

    private func writeCart(_ version: Int) {
        let p = pools
        out.append(#","quantity":{"N":""#)
        out.appendDecimal(UInt64(item.int(in: 1...12)))
        out.append(#""},"price":{"N":""#)
        out.appendDecimal(UInt64(item.below(500)))
        out.append(UInt8(ascii: "."))
        out.appendPadded(item.below(100), width: 2)
        out.append(#""},"currency":{"S":""#)
        out.append(p.currencies[item.below(p.currencies.count)])
        out.append(#""},"tags":{"SS":["#)
        writeStringSet(p.tags)
        out.append(#"]},"dimensions":{"NS":[""#)
        out.appendDecimal(UInt64(item.int(in: 1...200)))
        out.append(#"",""#)
        out.appendDecimal(UInt64(item.int(in: 1...200)))
        out.append(#"",""#)
        out.appendDecimal(UInt64(item.int(in: 1...90)))
        out.append(UInt8(ascii: "."))
        out.appendDecimal(UInt64(item.below(10)))
        out.append(#""]},"addedAt":{"S":""#)
        writeISO(start - Int64(item.below(2_592_000)))
        out.append(#""},"giftWrap":{"BOOL":"#)
        out.append(item.below(10) == 0 ? "true" : "false")
        out.append(#"},"version":{"N":""#)
        out.appendDecimal(UInt64(version))
        out.append(#""}"#)
        if item.below(5) == 0 { out.append(#","coupon":{"NULL":true}"#) }
        writeNotes(percent: 20, maximum: 600)
    }

    private func writeDocument(_ version: Int) {
        let p = pools
        out.append(#","title":{"S":""#)
        out.append(p.texts[item.below(p.texts.count)])
        out.append(#""},"body":{"S":""#)
        out.append(cycling: p.text, from: item.below(p.text.count), length: item.int(in: 100...1_100))
        out.append(#""},"metadata":{"M":{"author":{"S":""#)
        out.append(p.firstNames[item.below(p.firstNames.count)])
        out.append(#""},"pages":{"N":""#)
        out.appendDecimal(UInt64(item.int(in: 1...400)))
        out.append(#""},"public":{"BOOL":"#)
        out.append(item.below(2) == 0 ? "true" : "false")
        out.append(#"},"reviewers":{"L":["#)
        let reviewers = item.below(3)
        for i in 0..<reviewers {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(#"{"M":{"name":{"S":""#)
            out.append(p.firstNames[item.below(p.firstNames.count)])
            out.append(#""},"approved":{"BOOL":"#)
            out.append(item.below(2) == 0 ? "true" : "false")
            out.append(#"},"at":{"NULL":true}}}"#)
        }
        out.append(#"]}}},"tags":{"L":["#)
        let tags = item.int(in: 1...4)
        for i in 0..<tags {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(#"{"S":""#)
            out.append(p.tags[item.below(p.tags.count)])
            out.append(#""}"#)
        }
        out.append(#"]},"version":{"N":""#)
        out.appendDecimal(UInt64(version))
        out.append(#""}"#)
        if item.below(4) == 0 {
            out.append(#","thumbnail":{"B":""#)
            appendBase64(byteCount: item.int(in: 64...400), into: out)
            out.append(#""}"#)
        }
    }

    private func writeSession(_ version: Int, time: Int64, expired: Bool) {
        let p = pools
        out.append(#","userId":{"S":"USER#"#)
        out.appendDecimal(UInt64(item.below(200_000)))
        out.append(#""},"expiresAt":{"N":""#)
        let lifetime = Int64(item.int(in: 600...86_400))
        out.appendDecimal(expired ? time - Int64(item.int(in: 1...172_800)) : time + lifetime)
        out.append(#""},"sessionData":{"M":{"ip":{"S":"203.0.113."#)
        out.appendDecimal(UInt64(item.int(in: 1...254)))
        out.append(#""},"userAgent":{"S":""#)
        out.append(p.userAgents[item.below(p.userAgents.count)])
        out.append(#""},"scopes":{"L":[{"S":"read"}"#)
        if item.below(2) == 0 { out.append(#",{"S":"write"}"#) }
        if item.below(5) == 0 { out.append(#",{"S":"upload"}"#) }
        out.append(#"]},"mfa":{"BOOL":"#)
        out.append(item.below(3) == 0 ? "true" : "false")
        out.append(#"}}},"deviceKeys":{"BS":["#)
        let keys = item.int(in: 1...3)
        for i in 0..<keys {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            // Distinct by construction: the index is the first byte.
            appendBase64(byteCount: 16, into: out, firstByte: UInt8(i))
            out.append(UInt8(ascii: "\""))
        }
        out.append(#"]},"version":{"N":""#)
        out.appendDecimal(UInt64(version))
        out.append(#""}"#)
        writeNotes(percent: 10, maximum: 400)
    }

    private func writeUpload(_ version: Int, time: Int64, expired: Bool) {
        let p = pools
        out.append(#","status":{"S":""#)
        out.append(p.uploadStatuses[item.below(p.uploadStatuses.count)])
        out.append(#""},"ttl":{"N":""#)
        out.appendDecimal(expired ? time - Int64(item.int(in: 1...86_400)) : time + Int64(item.int(in: 600...14_400)))
        out.append(#""},"contentType":{"S":""#)
        out.append(p.contentTypes[item.below(p.contentTypes.count)])
        out.append(#""},"parts":{"L":["#)
        let parts = item.int(in: 1...5)
        for i in 0..<parts {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(#"{"M":{"partNumber":{"N":""#)
            out.appendDecimal(UInt64(i + 1))
            out.append(#""},"etag":{"S":"\""#)
            out.appendHex(item.next(), digits: 16)
            out.appendHex(item.next(), digits: 16)
            out.append(#"\""},"size":{"N":""#)
            out.appendDecimal(UInt64(item.int(in: 5 << 20...100 << 20)))
            out.append(#""}}}"#)
        }
        out.append(#"]},"checksum":{"B":""#)
        appendBase64(byteCount: 32, into: out)
        out.append(#""},"version":{"N":""#)
        out.appendDecimal(UInt64(version))
        out.append(#""}"#)
    }

    private func writeCounter(_ version: Int) {
        out.append(#","value":{"N":""#)
        if item.below(10) == 0 {
            out.append("99999999999999999999999999")
            out.appendPadded(item.below(1_000_000_000), width: 12)
        } else {
            out.appendDecimal(UInt64(item.below(1_000_000_000)))
        }
        out.append(#""},"label":{"S":""#)
        out.append(pools.tags[item.below(pools.tags.count)])
        out.append(#""},"ratio":{"N":"-"#)
        out.appendDecimal(UInt64(item.int(in: 1...9)))
        out.append(UInt8(ascii: "."))
        out.appendPadded(item.below(1000), width: 3)
        out.append(#"E-"#)
        out.appendDecimal(UInt64(item.int(in: 1...130)))
        out.append(#""},"version":{"N":""#)
        out.appendDecimal(UInt64(version))
        out.append(#""}"#)
    }

    private func writeBlob(_ version: Int) {
        out.append(#","size":{"N":""#)
        out.appendDecimal(UInt64(item.below(1 << 30)))
        out.append(#""},"contentType":{"S":""#)
        out.append(pools.contentTypes[item.below(pools.contentTypes.count)])
        out.append(#""},"preview":{"B":""#)
        appendBase64(byteCount: item.int(in: 32...600), into: out)
        out.append(#""},"version":{"N":""#)
        out.appendDecimal(UInt64(version))
        out.append(#""}"#)
    }

    /// A free-text attribute of a few hundred bytes on some items: the body of the size distribution.
    private func writeNotes(percent: Int, maximum: Int) {
        guard item.below(100) < percent else { return }
        out.append(#","notes":{"S":""#)
        out.append(cycling: pools.text, from: item.below(pools.text.count), length: item.int(in: 20...maximum))
        out.append(#""}"#)
    }

    /// A non-empty subset of `pool`, in pool order (so the set has no duplicates).
    private func writeStringSet(_ pool: [[UInt8]]) {
        var mask = item.int(in: 1...(1 << min(pool.count, 16)) - 1)
        var first = true
        var index = 0
        while mask != 0 {
            if mask & 1 == 1 {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                out.append(UInt8(ascii: "\""))
                out.append(pool[index])
                out.append(UInt8(ascii: "\""))
            }
            mask >>= 1
            index += 1
        }
    }

    /// Standard base64 (with padding) of `byteCount` random bytes from the item's stream.
    private func appendBase64(byteCount: Int, into buffer: ByteBuffer, firstByte: UInt8? = nil) {
        let alphabet = pools.base64Alphabet
        var bits: UInt64 = 0
        var available = 0
        func nextByte(_ i: Int) -> UInt32 {
            if i == 0, let firstByte { return UInt32(firstByte) }
            if available == 0 {
                bits = item.next()
                available = 8
            }
            let byte = UInt32(truncatingIfNeeded: bits & 0xFF)
            bits >>= 8
            available -= 1
            return byte
        }
        var i = 0
        buffer.reserve((byteCount + 2) / 3 * 4)
        while i + 3 <= byteCount {
            let group = nextByte(i) << 16 | nextByte(i + 1) << 8 | nextByte(i + 2)
            buffer.append(alphabet[Int(group >> 18 & 63)])
            buffer.append(alphabet[Int(group >> 12 & 63)])
            buffer.append(alphabet[Int(group >> 6 & 63)])
            buffer.append(alphabet[Int(group & 63)])
            i += 3
        }
        let rest = byteCount - i
        if rest == 1 {
            let group = nextByte(i) << 16
            buffer.append(alphabet[Int(group >> 18 & 63)])
            buffer.append(alphabet[Int(group >> 12 & 63)])
            buffer.append("==")
        } else if rest == 2 {
            let group = nextByte(i) << 16 | nextByte(i + 1) << 8
            buffer.append(alphabet[Int(group >> 18 & 63)])
            buffer.append(alphabet[Int(group >> 12 & 63)])
            buffer.append(alphabet[Int(group >> 6 & 63)])
            buffer.append("=")
        }
    }
}

/// The text the generator draws from, as JSON string contents (escaped where needed), built once per feed.
private final class Pools {
    let text: [UInt8]
    let base64: [UInt8]
    let base64Alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    let firstNames = bytes(["Ana", "Björn", "Chloé", "Dmitri", "Eun-ji", "François", "Günther", "Hiroshi", "Ingrid", "José",
                            "Kateřina", "Łukasz", "María", "Nguyễn", "Oğuz", "Priya", "Søren", "Zoë", "Александр", "陳", "Amélie", "Tomás"])
    let lastNames = bytes(["Smith", "Müller", "García", "Łęcki", "Ødegaard", "中村", "Иванова", "O'Brien", "van der Berg", "Żółć",
                           "Nakamura", "Kowalski", "Nuñez", "Öztürk"])
    let emailNames = bytes(["ana", "bjorn", "chloe", "dmitri", "eunji", "francois", "gunther", "hiroshi", "ingrid", "jose", "priya", "zoe"])
    let texts = bytes(["Café owner ☕", "東京在住のエンジニア", "Ich liebe Äpfel", "מתכנת ותיק", "مهندس برمجيات", "Λάμδα και Ωμέγα",
                       "🚀 builder 🎉", "Привет, мир", "नमस्ते दुनिया", "👩🏽‍💻 dev", "Quarterly report", "Rapport annuel — été",
                       "Ελληνικά κείμενα", "한국어 문서", "Ünïcödé everywhere"])
    let locales = bytes(["en-US", "en-GB", "fr-FR", "de-DE", "ja-JP", "ar-EG", "he-IL", "pt-BR", "ko-KR"])
    let roles = bytes(["admin", "editor", "viewer", "billing", "support"])
    let tags = bytes(["new", "sale", "gift", "fragile", "eco", "bulk", "b/w", "résumé", "日本"])
    let numbers = bytes(["0", "1", "-2.5", "3.14159", "1E+10", "-7E-3", "12345678901234567890123456789012345678", "42"])
    let currencies = bytes(["USD", "EUR", "JPY", "GBP", "BRL"])
    let streets = bytes(["Main St", "Rue de la Paix", "Königstraße", "Calle Mayor", "Baker Street"])
    let cities = bytes(["Springfield", "Paris", "München", "Madrid", "東京", "São Paulo", "Zürich"])
    let userAgents = bytes(["Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X)", "curl/8.5.0", "okhttp/4.12.0",
                            "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"])
    let uploadStatuses = bytes(["CREATED", "UPLOADING", "PARTIAL", "FAILED"])
    let contentTypes = bytes(["image/png", "image/jpeg", "application/pdf", "video/mp4", "text/csv; charset=utf-8"])
    let userSortKeys = bytes(["PROFILE", "SETTINGS", "ADDRESS#home", "ADDRESS#work", "PREFS#notifications"])
    /// Awkward key values, already escaped for a JSON string.
    let oddKeys: [[UInt8]] = bytes([
        "../../etc/passwd", "a/b/c", #"C:\\Windows\\System32"#, "with space", "100%", "#hash#", "..", ".hidden",
        "Zoë Saldaña", "東京都", "🔑", "مرحبا", #"tab\there"#, #"quote\"d"#, #"ctl\u0001\u007f"#, #"nul\u0000byte"#,
        "snake_case_id", "%2F", "~tilde", "\u{202E}txt.exe", String(repeating: "x", count: 300), String(repeating: "長", count: 120),
    ])

    init(seed: UInt64) {
        var random = SeededRandom(seed: seed ^ 0x7E57_7E57)
        let words = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod",
                     "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua", "archive", "deleted", "record",
                     "stream", "session", "upload", "ticket", "retention", "compliance", "support", "analytics"].map { Array($0.utf8) }
        var text: [UInt8] = []
        text.reserveCapacity(70_000)
        while text.count < 65_536 {
            text += words[random.below(words.count)]
            let punctuation = random.below(20)
            text.append(punctuation == 0 ? UInt8(ascii: ".") : punctuation == 1 ? UInt8(ascii: ",") : UInt8(ascii: " "))
            if punctuation < 2 { text.append(UInt8(ascii: " ")) }
        }
        self.text = text
        var base64: [UInt8] = []
        base64.reserveCapacity(65_536)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        while base64.count < 65_536 {
            var bits = random.next()
            for _ in 0..<10 {
                base64.append(alphabet[Int(bits & 63)])
                bits >>= 6
            }
        }
        self.base64 = Array(base64.prefix(65_536))
    }
}

private func bytes(_ strings: [String]) -> [[UInt8]] { strings.map { Array($0.utf8) } }
