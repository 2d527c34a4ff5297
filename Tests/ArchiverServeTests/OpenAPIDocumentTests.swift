import Foundation
import HTTPTypes
import JSONToolkit
import Testing

@testable import ArchiverServe

@Suite("Serve: the OpenAPI document")
struct OpenAPIDocumentTests {
    @Test("every route under /api/v1 is described, and every path described is served")
    func routesMatchTheDocument() async throws {
        let bed = try await ServeTestbed(records: 5)
        let document = OpenAPIDocument.build(features: APIFeatures.all)
        var described: Set<String> = []
        for (path, item) in document["paths"]?.objectMembers ?? [] {
            for (method, _) in item.objectMembers ?? [] where ["get", "post", "put", "delete", "patch"].contains(method) {
                described.insert("\(method.uppercased()) \(path)")
            }
        }
        let served = Set(bed.api.registered.map { "\($0.method.rawValue) \(APIRoutes.prefix)\($0.path)" } + ["GET /healthz", "GET /readyz", "GET /metrics"])
        #expect(described == served)
    }

    @Test("the document is OpenAPI 3.1, and every $ref points at something it holds")
    func references() throws {
        let document = OpenAPIDocument.build(features: APIFeatures.all)
        #expect(document["openapi"]?.stringValue == "3.1.0")
        var references: [String] = []
        func walk(_ value: JSONValue) {
            switch value {
            case .object(let members):
                for (key, member) in members {
                    if key == "$ref", let text = member.stringValue { references.append(text) }
                    walk(member)
                }
            case .array(let items): items.forEach(walk)
            default: break
            }
        }
        walk(document)
        #expect(!references.isEmpty)
        for reference in references {
            let parts = reference.dropFirst(2).split(separator: "/").map(String.init)
            var node: JSONValue? = document
            for part in parts { node = node?[part] }
            #expect(node != nil, "\(reference)")
        }
        // Every operation names its id once.
        var ids: [String] = []
        for (_, item) in document["paths"]?.objectMembers ?? [] {
            for (_, operation) in item.objectMembers ?? [] { if let id = operation["operationId"]?.stringValue { ids.append(id) } }
        }
        #expect(Set(ids).count == ids.count)
    }
}
