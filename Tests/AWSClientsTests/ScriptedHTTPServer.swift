import Foundation
import TestSupport

/// A tiny HTTP server on 127.0.0.1 (Python, run as a subprocess) that misbehaves on purpose:
/// `/short…` answers 200 with a body shorter than its Content-Length, `/redirect…` answers 307 to another port,
/// `/stall…` answers after 5 s, `/trickle…` sends its 20-byte body a byte every 0.2 s, `/gzip…` answers a gzip body with `Content-Encoding: gzip`, `/reset…` resets the connection,
/// anything else answers 200 "ok". It serves a bounded number of connections and stops with the test.
final class ScriptedHTTPServer: @unchecked Sendable {
    private static let script = """
        import gzip, socket, struct, sys, threading, time
        GZ = gzip.compress(b"stored compressed", mtime=0)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        print(s.getsockname()[1], flush=True)
        def handle(c):
            data = b""
            while b"\\r\\n\\r\\n" not in data:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
            path = data.split(b" ")[1] if data.count(b" ") >= 2 else b"/"
            if path.startswith(b"/short"):
                c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 100\\r\\n\\r\\n0123456789")
            elif path.startswith(b"/stall"):
                time.sleep(5)
                c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
            elif path.startswith(b"/trickle"):
                c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 20\\r\\n\\r\\n")
                try:
                    for _ in range(20):
                        time.sleep(0.2)
                        c.sendall(b"x")
                except OSError:
                    pass
            elif path.startswith(b"/gzip"):
                c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Encoding: gzip\\r\\nContent-Length: " + str(len(GZ)).encode() + b"\\r\\n\\r\\n" + GZ)
            elif path.startswith(b"/reset"):
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif path.startswith(b"/redirect"):
                c.sendall(b"HTTP/1.1 307 Temporary Redirect\\r\\nLocation: http://127.0.0.1:9/elsewhere\\r\\nContent-Length: 0\\r\\n\\r\\n")
            else:
                c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
            c.close()
        s.settimeout(600)
        for _ in range(50):
            try:
                c, _ = s.accept()
            except socket.timeout:
                break
            threading.Thread(target=handle, args=(c,), daemon=True).start()
        """

    let port: Int
    private let process: Process

    init() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        guard let port = Int(try ChildProcess.firstLine(of: out)) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile)
        }
        self.port = port
    }

    var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    deinit {
        kill(process.processIdentifier, SIGKILL)
    }
}
