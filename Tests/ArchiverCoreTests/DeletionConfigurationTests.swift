import ArchiverCore
import JSONToolkit
import Testing

@Suite("Configuration: roots, rules and the queue")
struct DeletionConfigurationTests {
    static let example = """
        state: /var/lib/archiver
        archive: s3://archives/uploads
        roots:
          uploads: s3://user-content/uploads/
          files: /srv/app/files/
        rules:
          - name: upload-files
            match:
              table: uploads
              kind: manual
              where:
                - "OldImage.status.S == uploaded"
            actions:
              - delete-object: {root: uploads, key: "{OldImage.key.S}", keep: true}
              - delete-prefix: {root: uploads, prefix: "users/{OldImage.userId.S}/", min-depth: 2}
              - abort-multipart: {root: uploads, key: "{OldImage.key.S}", upload-id: "{OldImage.s3UploadId.S}"}
          - name: avatars
            match: {table: "*"}
            actions:
              - delete-object: {root: files, key: "avatars/{Keys.PK.S|strip-prefix:USER#}.png"}
        queue:
          max-attempts: 5
          backoff: {base: 1s, max: 10m}
          lease: 2m
          run-in-tail: false
        """

    @Test func readsEverySectionAndPrintsWhatItUnderstood() throws {
        let configuration = try ArchiverConfiguration.parse(Self.example, file: "a.yml")
        #expect(configuration.roots.names == ["uploads", "files"])
        #expect(configuration.roots["files"] == .folder("/srv/app/files"))
        #expect(configuration.rules.rules.map(\.name) == ["upload-files", "avatars"])
        let first = configuration.rules.rules[0]
        #expect(first.table == "uploads" && first.kind == .manual && first.conditions.count == 1)
        #expect(first.actions.map(\.kind) == [.deleteObject, .deletePrefix, .abortMultipart])
        #expect(configuration.queue.maxAttempts == 5 && configuration.queue.backoffMax.seconds == 600 && !configuration.queue.runInTail)
        #expect(configuration.queue.batchSize == 100, "a default stays a default")
        let described = configuration.described
        let rule = described["rules"].flatMap { if case .array(let rules) = $0 { rules.first } else { nil } }
        #expect(rule?["match"]?["where"] == .array([.string("OldImage.status.S == uploaded")]))
        let action = rule.flatMap { if case .array(let actions)? = $0["actions"] { actions.first } else { nil } }
        #expect(action?["delete-object"]?["root-location"] == .string("s3://user-content/uploads/"))
        #expect(described["queue"]?["lease"] == .string("2m"))
        // The same document as JSON.
        let json = try ArchiverConfiguration.parse(
            #"{"roots": {"files": "/srv/f"}, "rules": [{"name": "r", "match": {"table": "t"}, "actions": [{"delete-prefix": {"root": "files", "prefix": "u/{Keys.PK.S}/"}}]}]}"#,
            file: "a.json")
        #expect(json.rules.rules.first?.actions.first?.kind == .deletePrefix)
    }

    /// Each broken document, and what the error must say.
    static let broken: [(String, String)] = [
        ("rules:\n  - name: r\n    match: {table: t}\n    actions:\n      - delete-object: {root: nowhere, key: \"{OldImage.k.S}\"}\n",
         "no roots are configured"),
        ("roots: {a: /srv/a}\nrules:\n  - name: r\n    match: {table: t}\n    actions:\n      - delete-object: {root: b, key: \"{OldImage.k.S}\"}\n",
         "'b' is not one of the roots (a)"),
        ("roots: {a: /srv/a}\nrules:\n  - name: r\n    match: {table: t}\n    actions:\n      - delete-objekt: {root: a, key: \"{OldImage.k.S}\"}\n",
         "did you mean 'delete-object'?"),
        ("roots: {a: /srv/a}\nrules:\n  - name: r\n    match: {table: t}\n    actions:\n      - delete-object: {root: a, key: \"users/all\"}\n",
         "has no {…} hole"),
        ("roots: {a: /srv/a}\nrules:\n  - name: r\n    match: {table: t}\n    actions:\n      - delete-object: {root: a, key: \"../{OldImage.k.S}\"}\n",
         "can never be safe"),
        ("roots: {a: /srv/a}\nrules:\n  - name: r\n    match: {table: t}\n    actions:\n      - delete-prefix: {root: a, prefix: \"{OldImage.k.S}\"}\n",
         "does not end with '/'"),
        ("roots: {a: /srv/a}\nrules:\n  - name: r\n    match: {table: t}\n    actions:\n      - abort-multipart: {root: a, key: \"{OldImage.k.S}\", upload-id: \"{OldImage.u.S}\"}\n",
         "abort-multipart needs an S3 root"),
        ("roots: {a: /srv/a}\nrules:\n  - name: r\n    match: {table: t}\n    actions:\n      - delete-object: {root: a, key: \"{OldImage.k.S}\", kep: true}\n",
         "did you mean 'keep'?"),
        ("roots: {a: /srv/a}\nrules:\n  - name: r\n    match: {table: t, knd: ttl}\n    actions:\n      - delete-object: {root: a, key: \"{OldImage.k.S}\"}\n",
         "did you mean 'kind'?"),
        ("roots: {a: /srv/a}\nrules:\n  - name: r\n    match: {table: t}\n    actions: []\n", "at least one action"),
        ("roots: {a: /srv/a}\nrules:\n  - name: r\n    match: {table: t, where: [\"OldImage.s.S like x\"]}\n    actions:\n      - delete-object: {root: a, key: \"{OldImage.k.S}\"}\n",
         "not a condition"),
        ("roots: {a: /srv/a}\nrules:\n  - {name: r, match: {table: t}, actions: [{delete-object: {root: a, key: \"{OldImage.k.S}\"}}]}\n  - {name: r, match: {table: u}, actions: [{delete-object: {root: a, key: \"{OldImage.k.S}\"}}]}\n",
         "given twice"),
        ("roots: {a: /srv/a, b: /srv/a/b}\n", "overlap"),
        ("roots: {a: relative/folder}\n", "absolute folder"),
        ("archive: s3://bucket/archive\nroots: {a: \"s3://bucket/\"}\n", "overlaps the archive"),
        ("queue: {max-attempts: 0}\n", "out of range"),
        ("queue: {backoff: {base: 1h, max: 1m}}\n", "shorter than its base"),
        ("queue: {leese: 5m}\n", "did you mean 'lease'?"),
    ]

    @Test(arguments: broken)
    func mistakesAreRefusedWithWhereAndWhat(text: String, expected: String) {
        let error = #expect(throws: ConfigurationError.self) { try ArchiverConfiguration.parse(text, file: "bad.yml") }
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
        #expect(error?.description.hasPrefix("bad.yml:") == true)
    }
}
