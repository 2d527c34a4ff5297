import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A small read-only XML element tree, enough for S3 and IAM responses.
///
/// Namespaces are ignored (element names are local names); text is kept exactly as parsed, so keys with
/// leading or trailing spaces survive.
package struct XMLTree: Sendable, Equatable {
    /// The local name of the element.
    package var name: String
    /// The text directly inside the element (whitespace between child elements included).
    package var text: String
    /// The child elements, in document order.
    package var children: [XMLTree]

    /// The first child with this name.
    package func child(_ name: String) -> XMLTree? { children.first { $0.name == name } }

    /// All children with this name.
    package func children(_ name: String) -> [XMLTree] { children.filter { $0.name == name } }

    /// The text of the first child with this name.
    package func string(_ name: String) -> String? { child(name)?.text }

    /// The text of the first child with this name, as an integer.
    package func int(_ name: String) -> Int? { string(name).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }

    /// The text of the first child with this name, as a boolean ("true"/"false").
    package func bool(_ name: String) -> Bool? {
        switch string(name)?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() {
        case "true": true
        case "false": false
        default: nil
        }
    }

    /// Parses a document and returns its root element.
    package static func parse(_ bytes: [UInt8]) throws -> XMLTree {
        let parser = XMLParser(data: Data(bytes))
        let builder = Builder()
        parser.delegate = builder
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        guard parser.parse(), let root = builder.root else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "no root element"
            throw XMLTreeError(reason: reason)
        }
        return root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLTree] = []
        var root: XMLTree?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
            attributes attributeDict: [String: String] = [:]
        ) {
            let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
            stack.append(XMLTree(name: local, text: "", children: []))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            guard let done = stack.popLast() else { return }
            if stack.isEmpty {
                root = done
            } else {
                stack[stack.count - 1].children.append(done)
            }
        }
    }
}

/// An XML document could not be parsed.
struct XMLTreeError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "malformed XML: \(reason)" }
}

/// Writes small XML request bodies.
package struct XMLWriter {
    private(set) var text = #"<?xml version="1.0" encoding="UTF-8"?>"#

    package init() {}

    /// Opens an element, with the S3 namespace when `namespace` is set.
    package mutating func open(_ name: String, namespace: String? = nil) {
        text += namespace.map { #"<\#(name) xmlns="\#($0)">"# } ?? "<\(name)>"
    }

    /// Closes an element.
    package mutating func close(_ name: String) { text += "</\(name)>" }

    /// Writes `<name>escaped value</name>`.
    package mutating func element(_ name: String, _ value: String) {
        text += "<\(name)>\(Self.escape(value))</\(name)>"
    }

    /// The bytes of the document.
    package var bytes: [UInt8] { Array(text.utf8) }

    /// Escapes text for element content or attribute values; characters XML 1.0 cannot hold are written as references.
    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#xD;"
            case "\n": out += "&#xA;"
            case "\t": out += "&#x9;"
            default:
                if scalar.value < 0x20 {
                    out += "&#x\(String(scalar.value, radix: 16, uppercase: true));"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

/// The S3 XML namespace.
package let s3XMLNamespace = "http://s3.amazonaws.com/doc/2006-03-01/"

/// Reads the S3 response documents this package uses.
enum S3ResponseParser {
    /// `<ListBucketResult>` of ListObjectsV2; keys are URL-decoded when the response says `EncodingType` url.
    static func listObjectsPage(_ root: XMLTree) throws -> S3ListObjectsPage {
        try expect(root, "ListBucketResult")
        let encoded = root.string("EncodingType")?.lowercased() == "url"
        func decoded(_ text: String) -> String { encoded ? urlDecoded(text) : text }
        let objects = try root.children("Contents").map { item -> S3ObjectSummary in
            guard let key = item.string("Key") else { throw XMLTreeError(reason: "Contents without Key") }
            return S3ObjectSummary(
                key: decoded(key),
                size: Int64(item.string("Size")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0,
                etag: item.string("ETag"),
                lastModified: item.string("LastModified").flatMap(AWSDates.iso8601),
                storageClass: item.string("StorageClass"))
        }
        let prefixes = root.children("CommonPrefixes").compactMap { $0.string("Prefix").map(decoded) }
        let token = root.string("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        return S3ListObjectsPage(
            objects: objects, commonPrefixes: prefixes, isTruncated: root.bool("IsTruncated") ?? false, nextContinuationToken: token)
    }

    /// The upload ID of `<InitiateMultipartUploadResult>`.
    static func uploadID(_ root: XMLTree) throws -> String {
        try expect(root, "InitiateMultipartUploadResult")
        guard let id = root.string("UploadId"), !id.isEmpty else { throw XMLTreeError(reason: "no UploadId") }
        return id
    }

    /// The ETag of `<CompleteMultipartUploadResult>`.
    static func completedETag(_ root: XMLTree) throws -> String? {
        // S3 names the root CompleteMultipartUploadResult; some emulators say ...Response.
        try expect(root, "CompleteMultipartUploadResult", "CompleteMultipartUploadResponse")
        return root.string("ETag")
    }

    static func expect(_ root: XMLTree, _ names: String...) throws {
        guard names.contains(root.name) else { throw XMLTreeError(reason: "expected <\(names[0])>, got <\(root.name)>") }
    }

    /// Decodes S3's `encoding-type=url` form: `+` is a space, `%XX` a byte.
    static func urlDecoded(_ text: String) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
