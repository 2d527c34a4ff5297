import ArchiverCore
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A growable run of bytes for building JSON by appending: no per-append allocation, no bounds
/// bookkeeping beyond one capacity check. One thread at a time.
final class ByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    func removeAll() { count = 0 }

    @inline(__always) func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    private func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always) func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always) func append(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        reserve(length)
        (base + count).update(from: text.utf8Start, count: length)
        count += length
    }

    @inline(__always) func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    @inline(__always) func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    @inline(__always) func append(_ other: ByteBuffer) {
        append(UnsafeBufferPointer(start: other.base, count: other.count))
    }

    /// Appends `length` bytes starting at `from` of `pool`, wrapping around its end.
    func append(cycling pool: [UInt8], from start: Int, length: Int) {
        reserve(length)
        pool.withUnsafeBufferPointer { source in
            var offset = start % source.count
            var left = length
            while left > 0 {
                let take = min(left, source.count - offset)
                (base + count).update(from: source.baseAddress! + offset, count: take)
                count += take
                left -= take
                offset = 0
            }
        }
    }

    /// A non-negative integer in decimal.
    @inline(__always) func appendDecimal(_ value: UInt64) {
        var length = 1
        var probe = value
        while probe >= 10 {
            probe /= 10
            length += 1
        }
        reserve(length)
        var rest = value
        var i = count + length - 1
        repeat {
            base[i] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
            rest /= 10
            i -= 1
        } while rest > 0
        count += length
    }

    /// An integer in decimal.
    @inline(__always) func appendDecimal(_ value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude)
    }

    /// A non-negative integer in decimal, zero-padded to `width` digits.
    @inline(__always) func appendPadded(_ value: Int, width: Int) {
        reserve(width)
        var rest = value
        var i = width - 1
        while i >= 0 {
            base[count + i] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
            rest /= 10
            i -= 1
        }
        count += width
    }

    /// `count` lower-case hex digits of `value` (the low bits).
    @inline(__always) func appendHex(_ value: UInt64, digits: Int) {
        reserve(digits)
        var rest = value
        var i = digits - 1
        while i >= 0 {
            base[count + i] = hexDigits[Int(rest & 0xF)]
            rest >>= 4
            i -= 1
        }
        count += digits
    }
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
