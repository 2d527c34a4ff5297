import AWSSigV4
import Foundation
import Testing

/// The signer takes its time from the argument, and renders it as AWS wants in UTC.
@Suite("Signing time")
struct DateInjectionTests {
    static let signer = SigV4Signer(
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")
    static let request = SigV4Request(method: "GET", path: "/", headers: [("Host", "example.amazonaws.com")])

    @Test("two dates give two signatures, each carrying its own date")
    func twoDatesTwoSignatures() {
        let first = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
        let second = first.addingTimeInterval(1)
        var a = Self.request
        var b = Self.request
        Self.signer.sign(&a, payload: .bytes([]), date: first)
        Self.signer.sign(&b, payload: .bytes([]), date: second)
        #expect(a.headerValue("X-Amz-Date") == "20150830T123600Z")
        #expect(b.headerValue("X-Amz-Date") == "20150830T123601Z")
        #expect(a.headerValue("Authorization") != b.headerValue("Authorization"))
        // The get-vanilla case of the AWS suite, for the first date.
        #expect(a.headerValue("Authorization")!.hasSuffix("Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"))
    }

    @Test("the same date gives the same signature, and signing again replaces the earlier signing headers")
    func sameDateSameSignature() {
        let date = Date(timeIntervalSince1970: 1_440_938_160)
        var once = Self.request
        Self.signer.sign(&once, payload: .bytes([]), date: date)
        var twice = once
        Self.signer.sign(&twice, payload: .bytes([]), date: date.addingTimeInterval(3600))
        Self.signer.sign(&twice, payload: .bytes([]), date: date)
        #expect(once.headers.map { "\($0.name):\($0.value)" } == twice.headers.map { "\($0.name):\($0.value)" })
        #expect(twice.headers.filter { $0.name == "Authorization" }.count == 1)
    }

    @Test("a new day changes the signing key and the credential scope")
    func dateScope() {
        let lateEvening = Date(timeIntervalSince1970: 1_440_979_199)  // 2015-08-30T23:59:59Z
        let nextMorning = lateEvening.addingTimeInterval(1)
        #expect(Self.signer.credentialScope(date: lateEvening) == "20150830/us-east-1/service/aws4_request")
        #expect(Self.signer.credentialScope(date: nextMorning) == "20150831/us-east-1/service/aws4_request")
        #expect(Self.signer.signingKey(date: lateEvening) == Self.signer.signingKey(date: lateEvening.addingTimeInterval(-86_000)))
        #expect(Self.signer.signingKey(date: lateEvening) != Self.signer.signingKey(date: nextMorning))
    }

    @Test("X-Amz-Date matches a UTC, POSIX-locale formatter over a wide range of times")
    func amzDateFormat() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        var generator = SystemRandomNumberGenerator()
        var times: [TimeInterval] = [0, -1, 951_868_799.9, 951_868_800, 4_107_542_400, 253_402_300_799, -2_208_988_800]
        for _ in 0..<2000 { times.append(TimeInterval(Int64.random(in: -2_208_988_800...4_102_444_800, using: &generator))) }
        for time in times {
            let date = Date(timeIntervalSince1970: time)
            #expect(SigV4Signer.amzDate(date) == formatter.string(from: date), "at \(time)")
        }
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 951_868_799.9)) == "20000229T235959Z")
    }
}
