import AWSClients
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// Coordinated deletion and erasure in `archiver serve`, through the built binary: a consumer's ack over HTTP releasing
/// a held action (and every refusal `archiver ack` gives), the coordinations listed and shown, an erasure asked for over
/// HTTP and carried out by the service, its receipt, the page's sections and the metrics.
@Suite("serve: coordinations and erasures", .serialized)
struct ServeCoordinationErasureTests {
    @Test("an ack over HTTP: idempotent, refused for an unknown id (404) or consumer (409, naming the expected ones), a heartbeat extends, the last awaited ack releases the held action and the file goes; a late ack is recorded; a person cancels one and releases another")
    func ackOverHTTP() async throws {
        let world = try CoordinatedWorld()
        defer { world.folder.remove() }
        let server = try await world.serve()
        defer { server.kill() }

        let waiting = try await server.request("/api/v1/coordinations?state=waiting").json
        let views = waiting["coordinations"] as? [[String: Any]] ?? []
        #expect(views.count == world.count && waiting["more"] as? Bool == false, "\(waiting)")
        #expect(views.allSatisfy { $0["awaited"] as? [String] == ["analytics", "billing"] })
        let two = try await server.request("/api/v1/coordinations?limit=2").json
        #expect((two["coordinations"] as? [Any])?.count == 2 && two["more"] as? Bool == true)

        let id = try #require(views.first?["id"] as? String)
        let shown = try await server.request("/api/v1/coordinations/\(id.prefix(12))").json
        #expect(shown["id"] as? String == id && (shown["seconds_left"] as? NSNumber)?.doubleValue ?? 0 > 500, "\(shown)")
        let action = try #require((shown["actions"] as? [[String: Any]])?.first, "\(shown)")
        #expect(action["state"] as? String == "held")
        let entry = try await server.request("/api/v1/queue/entries/\(try #require(action["id"] as? String))").json
        let file = try #require((entry["place"] as? String).map { URL(fileURLWithPath: $0).lastPathComponent })
        #expect(FileManager.default.fileExists(atPath: world.folder("files/" + file)))

        // Refusals: nothing changes.
        let unknown = try await server.request("/api/v1/coordinations/0123456789abcdef0123/acks", method: "POST", json: #"{"consumer": "analytics"}"#)
        #expect(unknown.status == 404 && unknown.errorField == "id", "\(unknown.text)")
        let stranger = try await server.request("/api/v1/coordinations/\(id)/acks", method: "POST", json: #"{"consumer": "marketing"}"#)
        #expect(stranger.status == 409 && stranger.errorField == "consumer" && stranger.text.contains("'analytics', 'billing'"), "\(stranger.text)")
        for (body, field) in [(#"{"consumer": "analytics", "status": "done"}"#, "status"), (#"{"status": "completed"}"#, "consumer"),
                              (#"{"consumer": "analytics", "heartbeat": "yes"}"#, "heartbeat"), (#"{"consumer": "analytics", "by": "me"}"#, "by")] {
            let reply = try await server.request("/api/v1/coordinations/\(id)/acks", method: "POST", json: body)
            #expect(reply.status == 400 && reply.errorField == field, "\(body): \(reply.text)")
        }
        #expect(try await server.request("/api/v1/coordinations/\(id)/acks", method: "POST", token: nil, json: #"{"consumer": "analytics"}"#).status == 401)
        #expect(try await server.request("/api/v1/coordinations/\(id)/acks", method: "POST", token: "a-wrong-token-0123456789abcdef",
                                         json: #"{"consumer": "analytics"}"#).status == 401)

        // The first ack is recorded; the same again changes nothing; a heartbeat extends billing's wait.
        let first = try await server.request("/api/v1/coordinations/\(id)/acks", method: "POST", json: #"{"consumer": "analytics", "detail": "counted"}"#).json
        #expect(first["outcome"] as? String == "recorded" && first["state"] as? String == "waiting", "\(first)")
        let again = try await server.request("/api/v1/coordinations/\(id)/acks", method: "POST", json: #"{"consumer": "analytics"}"#).json
        #expect(again["outcome"] as? String == "duplicate")
        let beat = try await server.request("/api/v1/coordinations/\(id)/acks", method: "POST", json: #"{"consumer": "billing", "heartbeat": true}"#).json
        #expect(beat["outcome"] as? String == "heartbeat" && beat["deadline"] is String, "\(beat)")
        try await Task.sleep(for: .seconds(1))
        #expect(FileManager.default.fileExists(atPath: world.folder("files/" + file)), "an action ran before its coordination was released")
        let half = try await server.request("/api/v1/coordinations/\(id)").json
        #expect(half["awaited"] as? [String] == ["billing"], "\(half)")

        // The last awaited ack releases the held action: the service's workers delete the file; the others stay.
        let last = try await server.request("/api/v1/coordinations/\(id)/acks", method: "POST", json: #"{"consumer": "billing"}"#).json
        #expect(last["outcome"] as? String == "recorded" && last["state"] as? String == "released", "\(last)")
        let done = try await server.wait(seconds: 30) {
            try await server.request("/api/v1/coordinations/\(id)").json["state"] as? String == "completed"
        }
        #expect(done, "\(server.running.standardErrorSoFar.suffix(2000))")
        #expect(!FileManager.default.fileExists(atPath: world.folder("files/" + file)))
        #expect(try world.filesLeft() == world.count - 1)
        let late = try await server.request("/api/v1/coordinations/\(id)/acks", method: "POST", json: #"{"consumer": "analytics", "status": "failed"}"#).json
        #expect(late["outcome"] as? String == "late" && late["state"] as? String == "completed", "\(late)")
        let after = try await server.request("/api/v1/coordinations/\(id)").json
        let analytics = (after["consumers"] as? [[String: Any]])?.first { $0["name"] as? String == "analytics" }
        #expect(analytics?["status"] as? String == "completed" && analytics?["detail"] as? String == "counted")
        #expect((analytics?["late"] as? [String: Any])?["status"] as? String == "failed", "\(after)")

        // Stats, metrics and the page say the same.
        let stats = try await server.request("/api/v1/stats").json["coordinations"] as? [String: Any] ?? [:]
        #expect((stats["states"] as? [String: Int])?["waiting"] == world.count - 1 && (stats["states"] as? [String: Int])?["completed"] == 1, "\(stats)")
        #expect(stats["late_acks"] as? Int == 1)
        let targets = stats["outbox"] as? [[String: Any]] ?? []
        let outbox = try #require(targets.first { ($0["target"] as? String)?.hasPrefix("jsonl:") == true }, "\(stats)")
        #expect(outbox["delivered"] as? Int ?? 0 >= world.count + 1 && outbox["failed_attempts"] as? Int == 0, "\(outbox)")
        let hook = try #require(targets.first { ($0["target"] as? String)?.hasPrefix("webhook:") == true }, "\(stats)")
        #expect(hook["delivered"] as? Int == 0 && hook["backlog"] as? Int ?? 0 >= world.count + 1, "\(hook)")
        #expect(hook["failed_attempts"] as? Int ?? 0 >= 1 && hook["last_error"] is String, "\(hook)")
        let metrics = try ServeLifecycleTests.parse(server.base + "/metrics")
        #expect(ServeLifecycleTests.sum(metrics, "archiver_coordinations", ["state": "waiting"]) == Double(world.count - 1))
        #expect(ServeLifecycleTests.sum(metrics, "archiver_coordinations", ["state": "completed"]) == 1)
        #expect(ServeLifecycleTests.sum(metrics, "archiver_coordination_consumers", ["status": "completed"]) == 2)
        #expect(ServeLifecycleTests.sum(metrics, "archiver_coordination_consumers", ["status": "late"]) == 1)
        // The acks recorded through the API, one per consumer (not the duplicate, the heartbeat or the late one).
        #expect(ServeLifecycleTests.sum(metrics, "archiver_coordination_acks_total", ["consumer": "analytics"]) == 1)
        #expect(ServeLifecycleTests.sum(metrics, "archiver_coordination_acks_total", ["consumer": "billing"]) == 1)
        let jsonl = ["target": outbox["target"] as? String ?? ""], webhook = ["target": hook["target"] as? String ?? ""]
        #expect(ServeLifecycleTests.sum(metrics, "archiver_outbox_delivered_events", jsonl) == Double(outbox["delivered"] as? Int ?? -1))
        #expect(ServeLifecycleTests.sum(metrics, "archiver_outbox_backlog_events", jsonl) == 0)
        #expect(ServeLifecycleTests.sum(metrics, "archiver_outbox_delivered_events", webhook) == 0)
        #expect(ServeLifecycleTests.sum(metrics, "archiver_outbox_backlog_events", webhook) >= Double(world.count + 1))
        #expect(ServeLifecycleTests.sum(metrics, "archiver_outbox_failed_attempts", webhook) >= 1)
        let overview = try await server.request("/")
        #expect(overview.text.contains(#"id="coordinations-count-waiting">\#(world.count - 1)<"#), "\(overview.text.prefix(4000))")
        #expect(overview.text.contains(#"href="/coordinations""#) && overview.text.contains(#"href="/erasures""#))
        let list = try await server.request("/coordinations?state=waiting")
        #expect(list.status == 200 && list.text.contains(#"<td class="awaited">analytics, billing</td>"#), "\(list.text.prefix(3000))")
        let page = try await server.request("/coordinations/\(id)")
        #expect(page.status == 200 && page.text.contains(#"id="coordination-state">completed"#) && page.text.contains("counted"))
        #expect(try await server.request("/coordinations?state=bogus").status == 400)
        #expect(try await server.request("/coordinations/feedfacefeedface").status == 404)

        // A person's decisions: one cancelled over the API (its file stays), one released from the page (its file goes).
        let cancelID = try #require(views.dropFirst().first?["id"] as? String), releaseID = try #require(views.dropFirst(2).first?["id"] as? String)
        let cancelled = try await server.request("/api/v1/coordinations/\(cancelID)/cancel", method: "POST").json
        #expect(cancelled["reason"] as? String == "cancelled by a person", "\(cancelled)")
        #expect((cancelled["actions"] as? [[String: Any]])?.first?["state"] as? String == "cancelled", "\(cancelled)")
        let twice = try await server.request("/api/v1/coordinations/\(cancelID)/release", method: "POST")
        #expect(twice.status == 409 && twice.errorField == "id", "\(twice.text)")
        #expect(try await server.request("/api/v1/coordinations/\(cancelID)/cancel", method: "POST", token: nil).status == 401)
        let form = try await server.request("/login", token: nil)
        let formToken = try #require(ServeHTTPTests.hidden("csrf", form.text))
        let signedIn = try await server.request("/login", method: "POST", token: nil, headers: ["Cookie": try #require(form.cookie("archiver_signin"))],
                                                form: [("csrf", formToken), ("token", ServeProcess.token)])
        let session = try #require(signedIn.cookie("archiver_session"))
        let shownPage = try await server.request("/coordinations/\(releaseID)", token: nil, headers: ["Cookie": session])
        let csrf = try #require(ServeHTTPTests.hidden("csrf", shownPage.text), "\(shownPage.text.prefix(2000))")
        #expect(shownPage.text.contains(#"id="coordination-release""#))
        let forged = try await server.request("/coordinations/\(releaseID)/release", method: "POST", token: nil, headers: ["Cookie": session], form: [("csrf", "x")])
        #expect(forged.status == 403)
        let released = try await server.request("/coordinations/\(releaseID)/release", method: "POST", token: nil, headers: ["Cookie": session], form: [("csrf", csrf)])
        #expect(released.status == 303, "\(released.text)")
        #expect(try await server.wait(seconds: 30) {
            try await server.request("/api/v1/coordinations/\(releaseID)").json["state"] as? String == "completed"
        })
        #expect(try world.filesLeft() == world.count - 2)
        #expect(await server.stop().status == 0)
    }

    @Test("an erasure over HTTP: a dry run's manifest, a job carried out by the service with its progress and receipt, a later one cancelled (a finished one cannot be); the subject is in no log line; refusals name their field")
    func erasureOverHTTP() async throws {
        let world = try CoordinatedWorld()
        defer { world.folder.remove() }
        let server = try await world.serve()
        defer { server.kill() }
        let subject = world.subject(3)

        let dry = try await server.request("/api/v1/erasures", method: "POST", json: #"{"subject": "\#(subject)", "dry_run": true}"#)
        #expect(dry.status == 200 && dry.json["records"] as? Int == 1 && dry.json["objects_to_delete"] as? Int == 1, "\(dry.text)")
        let hmac = try #require(dry.json["subject_hmac"] as? String)
        // The survey a dry run of `archiver erase` prints: the object to delete (a folder has no classes or versions).
        let survey = try #require(dry.json["objects"] as? [String: Any], "a dry run's manifest has its survey: \(dry.text)")
        let surveyed = (survey["objects"] as? [[String: Any]])?.map { "\($0["operation"] ?? "") \($0["key"] ?? "")" }
        #expect(survey["known"] as? Bool == false && surveyed == (dry.json["archive"] as? [[String: Any]])?.map { "delete \($0["key"] ?? "")" }, "\(dry.text)")
        #expect((try await server.request("/api/v1/erasures").json["jobs"] as? [Any])?.isEmpty == true, "a dry run made a job")

        let asked = try await server.request("/api/v1/erasures", method: "POST", json: #"{"subject": "\#(subject)"}"#)
        #expect(asked.status == 202 && asked.json["subject_hmac"] as? String == hmac, "\(asked.text)")
        let job = try #require(asked.json["job"] as? String)
        let finished = try await server.wait(seconds: 30) {
            try await server.request("/api/v1/erasures/\(job)").json["state"] as? String == "completed"
        }
        #expect(finished, "\(server.running.standardErrorSoFar.suffix(2000))")
        let shown = try await server.request("/api/v1/erasures/\(job)").json
        #expect((shown["progress"] as? [String: Any])?["erased"] as? Int == 1 && (shown["counts"] as? [String: Int])?["archive.deleted"] == 1, "\(shown)")
        let receipt = try await server.request("/api/v1/erasures/\(job)/receipt")
        #expect(receipt.status == 200 && receipt.text.contains(hmac) && !receipt.text.contains(subject), "\(receipt.text)")
        #expect(try await server.wait { (try await server.request("/api/v1/records?item=\(world.itemKey(3))").json["records"] as? [Any])?.isEmpty == true })
        #expect((try await server.request("/api/v1/records?item=\(world.itemKey(4))").json["records"] as? [Any])?.count == 1)

        // A later erasure, cancelled (again: the same); a finished one's cancel refused by its state.
        let later = try await server.request("/api/v1/erasures", method: "POST", json: #"{"subject": "\#(world.subject(5))", "after": "30d"}"#)
        #expect(later.status == 202 && later.json["state"] as? String == "queued", "\(later.text)")
        let laterJob = try #require(later.json["job"] as? String)
        #expect(try await server.request("/api/v1/erasures/\(laterJob)").json["progress"].flatMap { ($0 as? [String: Any])?["left"] as? Int } == 1)
        #expect((try await server.request("/api/v1/erasures?state=queued").json["jobs"] as? [[String: Any]])?.map { $0["job"] as? String } == [laterJob])
        let cancelled = try await server.request("/api/v1/erasures/\(laterJob)/cancel", method: "POST")
        #expect(cancelled.status == 200 && cancelled.json["state"] as? String == "cancelled", "\(cancelled.text)")
        let twice = try await server.request("/api/v1/erasures/\(laterJob)/cancel", method: "POST")
        #expect(twice.status == 200 && twice.json["state"] as? String == "cancelled", "\(twice.text)")
        let finishedCancel = try await server.request("/api/v1/erasures/\(job)/cancel", method: "POST")
        #expect(finishedCancel.status == 409 && finishedCancel.errorField == "job", "\(finishedCancel.text)")
        let noReceipt = try await server.request("/api/v1/erasures/\(laterJob)/receipt")
        #expect(noReceipt.status == 409 && noReceipt.errorField == "job", "\(noReceipt.text)")
        #expect(try world.filesLeft() == world.count, "an erasure touched an application file it was not told to")

        for (body, field) in [(#"{"subject": ""}"#, "subject"), (#"{"subject": " x"}"#, "subject"), (#"{}"#, "subject"),
                              (#"{"subject": "a", "after": "soon"}"#, "after"), (#"{"subject": "a", "dry_run": 1}"#, "dry_run"),
                              (#"{"subject": "a", "at": "2030-01-01"}"#, "at")] {
            let reply = try await server.request("/api/v1/erasures", method: "POST", json: body)
            #expect(reply.status == 400 && reply.errorField == field, "\(body): \(reply.text)")
        }
        #expect(try await server.request("/api/v1/erasures/er-0000000000000000").status == 404)
        #expect(try await server.request("/api/v1/erasures/er-0000000000000000/cancel", method: "POST").status == 404)
        #expect(try await server.request("/api/v1/erasures", method: "POST", token: nil, json: #"{"subject": "a"}"#).status == 401)
        #expect(try await server.request("/api/v1/erasures?state=gone").errorField == "state")

        let stats = try await server.request("/api/v1/stats").json["erasures"] as? [String: Any] ?? [:]
        #expect(stats["objects_erased"] as? Int == 1 && (stats["states"] as? [String: Int])?["cancelled"] == 1, "\(stats)")
        let metrics = try ServeLifecycleTests.parse(server.base + "/metrics")
        #expect(ServeLifecycleTests.sum(metrics, "archiver_erasure_jobs_in_state", ["state": "completed"]) == 1)
        #expect(ServeLifecycleTests.sum(metrics, "archiver_erasure_jobs_in_state", ["state": "cancelled"]) == 1)
        #expect(ServeLifecycleTests.sum(metrics, "archiver_erasure_objects_erased") == 1)
        // Counted by serve's own erasure worker as it carried the job out.
        #expect(ServeLifecycleTests.sum(metrics, "archiver_erasure_jobs_total", ["outcome": "completed"]) == 1)
        #expect(ServeLifecycleTests.sum(metrics, "archiver_erasure_objects_deleted_total") == 1)
        let overview = try await server.request("/")
        #expect(overview.text.contains(#"id="erasures-objects">1<"#), "\(overview.text.prefix(4000))")
        let list = try await server.request("/erasures")
        #expect(list.status == 200 && list.text.contains(#"id="erasure-\#(job)""#) && list.text.contains(#"id="erasure-\#(laterJob)""#))
        let page = try await server.request("/erasures/\(job)")
        #expect(page.status == 200 && page.text.contains(#"id="erasure-receipt""#) && page.text.contains(hmac))

        let result = await server.stop()
        #expect(result.status == 0)
        #expect(!result.stderr.contains(subject) && !result.stderr.contains(world.subject(5)), "the subject was logged")
        #expect(result.stderr.contains("an erasure was asked for over HTTP"))
    }
}

extension ServeCoordinationErasureTests {
    @Test("serve's erase dry run on a versioned S3 archive lists each object's versions, storage class, size and early-deletion charge, as `archiver erase --dry-run` does")
    func serveDryRunSurveysTheArchive() async throws {
        let server = try await MotoServer.shared()
        let environment = server.binaryEnvironment()
        let s3 = S3Client(settings: server.settings())
        let bucket = MotoServer.uniqueName("serve-erase-dry")
        try await s3.createBucket(bucket)
        try await s3.putBucketVersioning(bucket: bucket, status: .enabled)
        let folder = TemporaryFolder("serve-erase-dry")
        defer { folder.remove() }
        try EraseS3EndToEndTests.configuration.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        try (0..<12).map { EraseEndToEndTests.line($0) + "\n" }.joined().write(toFile: folder("feed.jsonl"), atomically: true, encoding: .utf8)
        let archive = "s3://\(bucket)/a"
        let tail = try await BuiltBinary.run(
            ["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--archive", archive, "--once"], in: folder.path, environment: environment)
        #expect(tail.status == 0, "\(tail.stderr)")
        // Two of the subject's objects get a 1 MiB version in an archive class over their STANDARD one.
        var keys: [String] = []
        for try await object in s3.listAllObjects(bucket: bucket, prefix: "a/") where object.key.contains("USER#victim_") { keys.append(object.key) }
        keys.sort()
        try #require(keys.count == 6, "\(keys)")
        let big = [UInt8](repeating: 0x61, count: 1 << 20)
        try await s3.putObject(bucket: bucket, key: keys[0], body: big, storageClass: .glacier)
        try await s3.putObject(bucket: bucket, key: keys[1], body: big, storageClass: .deepArchive)

        let command = try await BuiltBinary.run(
            ["erase", "--subject", "victim", "--dry-run", "--json", "--config", "archiver.yml", "--archive", archive], in: folder.path, environment: environment)
        #expect(command.status == 0, "\(command.stderr)")
        let serve = try await ServeProcess(["--config", "archiver.yml", "--archive", archive], in: folder.path, environment: environment)
        defer { serve.kill() }
        let dry = try await serve.request("/api/v1/erasures", method: "POST", json: #"{"subject": "victim", "dry_run": true}"#)
        #expect(dry.status == 200, "\(dry.text)")

        // The same survey: objects, operations, versions, classes and sizes alike; charges alike but for the seconds between.
        let printed = try JSONValue.parse(command.stdout)["objects"]
        let answered = try JSONValue.parse(dry.text)["objects"]
        func rows(_ survey: JSONValue?) -> [String] {
            guard case .array(let objects)? = survey?["objects"] else { return [] }
            return objects.map { object in
                ["key", "operation", "versions", "storage_class", "bytes"].map { object[$0].map { $0.serialized } ?? "-" }.joined(separator: " ")
            }
        }
        func usd(_ value: JSONValue?) -> Double { Double(value.flatMap { if case .number(let n) = $0 { n } else { nil } } ?? "") ?? -1 }
        #expect(rows(answered).count == 6 && rows(answered) == rows(printed), "\(dry.text)\n\(command.stdout)")
        #expect(answered?["known"] == .bool(true) && answered?["versions"] == .integer(8))
        #expect(answered?["by_storage_class"] == printed?["by_storage_class"] && answered?["by_storage_class"]?["GLACIER"] == .integer(1)
                && answered?["by_storage_class"]?["DEEP_ARCHIVE"] == .integer(1), "\(dry.text)")
        #expect(usd(answered?["early_deletion_usd"]) > 0 && abs(usd(answered?["early_deletion_usd"]) - usd(printed?["early_deletion_usd"])) < 0.0001)
        #expect(usd(try JSONValue.parse(dry.text)["estimate"]?["early_deletion_usd"]) > 0, "the estimate carries the charge: \(dry.text)")
        #expect((try await serve.request("/api/v1/erasures").json["jobs"] as? [Any])?.isEmpty == true, "a dry run made a job")
        #expect(await serve.stop().status == 0)
    }
}

/// A served world with a coordinated rule: `count` deletions of `uploads` items (`USER#person-<n>-x`), each owning
/// `files/<n>.bin` and indexed under its subject; every deletion waits for `analytics` and a critical `billing` for
/// ten minutes, so nothing runs until they ack. Events go to a JSON-lines file and to a webhook nobody listens on
/// (its deliveries keep failing). The queue's workers and the erasure worker run in the service.
struct CoordinatedWorld {
    let folder: TemporaryFolder
    let count = 6

    func subject(_ n: Int) -> String { "person-\(n)-x" }
    func itemKey(_ n: Int) -> String { "USER%23" + subject(n) }

    init() throws {
        folder = TemporaryFolder("serve-coordination")
        try FileManager.default.createDirectory(atPath: folder("files"), withIntermediateDirectories: true)
        for n in 0..<count { try Data("file \(n)".utf8).write(to: URL(fileURLWithPath: folder("files/\(n).bin"))) }
        let subject = self.subject
        let feed = (0..<count).map { n in
            #"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + n),"Keys":{"PK":{"S":"USER#\#(subject(n))"}},"#
                + #""OldImage":{"PK":{"S":"USER#\#(subject(n))"},"file":{"S":"\#(n).bin"}},"SequenceNumber":"\#(1_000_000 + n)"},"#
                + #""eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/uploads/stream/x"}"#
        }.joined(separator: "\n") + "\n"
        try feed.write(toFile: folder("feed.jsonl"), atomically: true, encoding: .utf8)
        try """
            state: state
            archive: archive
            sources: ["jsonl:feed.jsonl"]
            roots: {files: \(folder("files"))}
            rules:
              - name: owned
                match: {table: uploads}
                subject: "{Keys.PK.S|strip-prefix:USER#}"
                actions:
                  - delete-object: {root: files, key: "{OldImage.file.S}"}
                coordinate:
                  consumers:
                    - analytics
                    - {name: billing, critical: true}
                  timeout: 10m
            queue: {poll: 200ms}
            events:
              targets:
                - jsonl: events.jsonl
                - webhook: {url: "http://127.0.0.1:9/hook", secret-file: hook.secret}
              retry: {base: 100ms, max: 500ms}
            """.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        try "whsec_\(Data((0..<24).map { UInt8($0) }).base64EncodedString())\n".write(toFile: folder("hook.secret"), atomically: true, encoding: .utf8)
    }

    func filesLeft() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: folder("files")).filter { $0.hasSuffix(".bin") }.count
    }

    /// Starts `archiver serve --config archiver.yml` and waits until every deletion waits for its consumers.
    func serve() async throws -> ServeProcess {
        let server = try await ServeProcess(["--config", "archiver.yml"], in: folder.path)
        let ready = try await server.wait {
            (try await server.request("/api/v1/coordinations?state=waiting").json["coordinations"] as? [Any])?.count == count
        }
        guard ready else { throw ServeProcess.ServeFailed(message: "the coordinations were not made in time: \(server.running.standardErrorSoFar.suffix(2000))") }
        return server
    }
}
