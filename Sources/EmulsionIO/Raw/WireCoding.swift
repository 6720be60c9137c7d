#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The decode worker's header as bytes: a Codable encoder and decoder of a small tagged format,
/// for `IsolatedDecoding`.
///
/// Why not JSON: Foundation's JSON coder asks every value's type whether it is one of its special
/// cases (dates, URLs, string-keyed dictionaries…) through protocol casts, and the Swift runtime
/// answers each first cast by scanning the static binary's conformance records (~6 000 when
/// this was measured, ~4 200 since the product stopped linking all of Foundation). For the
/// header that was ~15 M instructions to write in the worker and ~10 M to read in the parent
/// (callgrind, the 0.2 MP Pixel crop, about a quarter of both processes together). This coder
/// casts nothing: values go straight to their `encode(to:)`, and `Data` (the gain maps' bytes)
/// is recognised by its type.
///
/// Format (little-endian): one tag byte per value, then nil: nothing; false/true: nothing;
/// integer: 8 bytes; float: 4 bytes (bit pattern); double: 8 bytes; string and bytes: a 4-byte
/// length and the bytes (UTF-8 for strings); array: a 4-byte count and the items; keyed: a
/// 4-byte count and, per entry, its key as a string (without tag) and its value. Floats travel
/// as bit patterns, so every value is exact.
///
/// The parent reads what a worker that parsed an untrusted file wrote, so the reader checks every
/// length against the bytes left, nests at most `maximumDepth` deep, and throws on anything it
/// does not expect; it never traps.
enum WireCoding {
    static let maximumDepth = 64

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let root = WireSlot()
        try WireEncoder(root, codingPath: []).encodeValue(value, into: root)
        var out: [UInt8] = []
        root.value.write(to: &out)
        return out
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        var reader = WireReader(bytes: bytes)
        let value = try reader.value(depth: 0)
        guard reader.position == bytes.count else { throw WireError.malformed }
        return try WireDecoder(value, codingPath: []).decodeValue(T.self)
    }
}

enum WireError: Error { case malformed }

/// A value being written; containers hold references so that nested containers filled after
/// they were made still land in place.
final class WireSlot { var value: WireValue = .null }
final class WireArray { var items: [WireSlot] = [] }
final class WireObject { var entries: [(String, WireSlot)] = [] }

enum WireValue {
    case null, bool(Bool), integer(Int64), unsigned(UInt64), float(Float), double(Double), string(String), bytes([UInt8])
    case array(WireArray), object(WireObject)

    enum Tag: UInt8 { case null, bool0, bool1, integer, unsigned, float, double, string, bytes, array, object }

    func write(to out: inout [UInt8]) {
        func put<I: FixedWidthInteger>(_ v: I) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func putBytes<C: Collection>(_ c: C) where C.Element == UInt8 { put(UInt32(c.count)); out += c }
        switch self {
        case .null: out.append(Tag.null.rawValue)
        case .bool(let b): out.append((b ? Tag.bool1 : Tag.bool0).rawValue)
        case .integer(let v): out.append(Tag.integer.rawValue); put(v)
        case .unsigned(let v): out.append(Tag.unsigned.rawValue); put(v)
        case .float(let v): out.append(Tag.float.rawValue); put(v.bitPattern)
        case .double(let v): out.append(Tag.double.rawValue); put(v.bitPattern)
        case .string(let s): out.append(Tag.string.rawValue); putBytes(Array(s.utf8))
        case .bytes(let b): out.append(Tag.bytes.rawValue); putBytes(b)
        case .array(let a):
            out.append(Tag.array.rawValue); put(UInt32(a.items.count))
            for item in a.items { item.value.write(to: &out) }
        case .object(let o):
            out.append(Tag.object.rawValue); put(UInt32(o.entries.count))
            for (key, slot) in o.entries { putBytes(Array(key.utf8)); slot.value.write(to: &out) }
        }
    }
}

/// A value read back: arrays and objects as plain Swift collections.
indirect enum WireRead {
    case null, bool(Bool), integer(Int64), unsigned(UInt64), float(Float), double(Double), string(String), bytes([UInt8])
    case array([WireRead]), object([String: WireRead])
}

struct WireReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - position else { throw WireError.malformed }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    mutating func integer<I: FixedWidthInteger>(_: I.Type) throws -> I {
        var v: I = 0
        let raw = try take(MemoryLayout<I>.size)
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: raw) }
        return I(littleEndian: v)
    }

    /// A count of items each at least `minimum` bytes long, checked against the bytes left (so
    /// no hostile count asks for a huge allocation).
    mutating func count(minimum: Int) throws -> Int {
        let n = Int(try integer(UInt32.self))
        guard n <= (bytes.count - position) / minimum else { throw WireError.malformed }
        return n
    }

    mutating func string() throws -> String {
        String(decoding: try take(try count(minimum: 1)), as: UTF8.self)
    }

    mutating func value(depth: Int) throws -> WireRead {
        guard depth <= WireCoding.maximumDepth, let tag = WireValue.Tag(rawValue: try integer(UInt8.self)) else { throw WireError.malformed }
        switch tag {
        case .null: return .null
        case .bool0: return .bool(false)
        case .bool1: return .bool(true)
        case .integer: return .integer(try integer(Int64.self))
        case .unsigned: return .unsigned(try integer(UInt64.self))
        case .float: return .float(Float(bitPattern: try integer(UInt32.self)))
        case .double: return .double(Double(bitPattern: try integer(UInt64.self)))
        case .string: return .string(try string())
        case .bytes: return .bytes(Array(try take(try count(minimum: 1))))
        case .array:
            let n = try count(minimum: 1)
            var items: [WireRead] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try value(depth: depth + 1)) }
            return .array(items)
        case .object:
            let n = try count(minimum: 5)  // a key's length and a value's tag at least
            var entries: [String: WireRead] = [:]
            for _ in 0..<n {
                let key = try string()
                guard entries.updateValue(try value(depth: depth + 1), forKey: key) == nil else { throw WireError.malformed }
            }
            return .object(entries)
        }
    }
}

// MARK: - Encoding

struct WireEncoder: Encoder {
    let slot: WireSlot
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ slot: WireSlot, codingPath: [CodingKey]) {
        self.slot = slot
        self.codingPath = codingPath
    }

    /// `value` into `slot`: bytes for `Data`, otherwise the value's own encoding.
    func encodeValue<T: Encodable>(_ value: T, into slot: WireSlot, key: CodingKey? = nil) throws {
        if T.self == Data.self, let data = value as? Data {
            slot.value = .bytes(Array(data))
            return
        }
        try value.encode(to: WireEncoder(slot, codingPath: key.map { codingPath + [$0] } ?? codingPath))
    }

    func object() -> WireObject {
        if case .object(let o) = slot.value { return o }
        let o = WireObject()
        slot.value = .object(o)
        return o
    }

    func array() -> WireArray {
        if case .array(let a) = slot.value { return a }
        let a = WireArray()
        slot.value = .array(a)
        return a
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(WireKeyedWriter<Key>(encoder: self, object: object()))
    }
    func unkeyedContainer() -> UnkeyedEncodingContainer { WireUnkeyedWriter(encoder: self, array: array()) }
    func singleValueContainer() -> SingleValueEncodingContainer { WireSingleWriter(encoder: self) }
}

/// The primitive values every container writes the same way.
private func wire(_ v: Bool) -> WireValue { .bool(v) }
private func wire(_ v: String) -> WireValue { .string(v) }
private func wire(_ v: Double) -> WireValue { .double(v) }
private func wire(_ v: Float) -> WireValue { .float(v) }
private func wire<I: FixedWidthInteger & SignedInteger>(_ v: I) -> WireValue { .integer(Int64(v)) }
private func wire<I: FixedWidthInteger & UnsignedInteger>(_ v: I) -> WireValue { .unsigned(UInt64(v)) }

struct WireKeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: WireEncoder
    let object: WireObject
    var codingPath: [CodingKey] { encoder.codingPath }

    func slot(_ key: Key) -> WireSlot {
        let slot = WireSlot()
        object.entries.append((key.stringValue, slot))
        return slot
    }
    mutating func encodeNil(forKey key: Key) throws { slot(key).value = .null }
    mutating func encode(_ v: Bool, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode(_ v: String, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode(_ v: Double, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode(_ v: Float, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode(_ v: Int, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode(_ v: Int8, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode(_ v: Int16, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode(_ v: Int32, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode(_ v: Int64, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode(_ v: UInt, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode(_ v: UInt8, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode(_ v: UInt16, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode(_ v: UInt32, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode(_ v: UInt64, forKey key: Key) throws { slot(key).value = wire(v) }
    mutating func encode<T: Encodable>(_ v: T, forKey key: Key) throws { try encoder.encodeValue(v, into: slot(key), key: key) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        WireEncoder(slot(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        WireEncoder(slot(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> Encoder {
        let slot = WireSlot()
        object.entries.append(("super", slot))
        return WireEncoder(slot, codingPath: codingPath)
    }
    mutating func superEncoder(forKey key: Key) -> Encoder { WireEncoder(slot(key), codingPath: codingPath + [key]) }
}

struct WireUnkeyedWriter: UnkeyedEncodingContainer {
    let encoder: WireEncoder
    let array: WireArray
    var codingPath: [CodingKey] { encoder.codingPath }
    var count: Int { array.items.count }

    func slot() -> WireSlot {
        let slot = WireSlot()
        array.items.append(slot)
        return slot
    }
    mutating func encodeNil() throws { slot().value = .null }
    mutating func encode(_ v: Bool) throws { slot().value = wire(v) }
    mutating func encode(_ v: String) throws { slot().value = wire(v) }
    mutating func encode(_ v: Double) throws { slot().value = wire(v) }
    mutating func encode(_ v: Float) throws { slot().value = wire(v) }
    mutating func encode(_ v: Int) throws { slot().value = wire(v) }
    mutating func encode(_ v: Int8) throws { slot().value = wire(v) }
    mutating func encode(_ v: Int16) throws { slot().value = wire(v) }
    mutating func encode(_ v: Int32) throws { slot().value = wire(v) }
    mutating func encode(_ v: Int64) throws { slot().value = wire(v) }
    mutating func encode(_ v: UInt) throws { slot().value = wire(v) }
    mutating func encode(_ v: UInt8) throws { slot().value = wire(v) }
    mutating func encode(_ v: UInt16) throws { slot().value = wire(v) }
    mutating func encode(_ v: UInt32) throws { slot().value = wire(v) }
    mutating func encode(_ v: UInt64) throws { slot().value = wire(v) }
    mutating func encode<T: Encodable>(_ v: T) throws { try encoder.encodeValue(v, into: slot()) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        WireEncoder(slot(), codingPath: codingPath).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer { WireEncoder(slot(), codingPath: codingPath).unkeyedContainer() }
    mutating func superEncoder() -> Encoder { WireEncoder(slot(), codingPath: codingPath) }
}

struct WireSingleWriter: SingleValueEncodingContainer {
    let encoder: WireEncoder
    var codingPath: [CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.slot.value = .null }
    mutating func encode(_ v: Bool) throws { encoder.slot.value = wire(v) }
    mutating func encode(_ v: String) throws { encoder.slot.value = wire(v) }
    mutating func encode(_ v: Double) throws { encoder.slot.value = wire(v) }
    mutating func encode(_ v: Float) throws { encoder.slot.value = wire(v) }
    mutating func encode(_ v: Int) throws { encoder.slot.value = wire(v) }
    mutating func encode(_ v: Int8) throws { encoder.slot.value = wire(v) }
    mutating func encode(_ v: Int16) throws { encoder.slot.value = wire(v) }
    mutating func encode(_ v: Int32) throws { encoder.slot.value = wire(v) }
    mutating func encode(_ v: Int64) throws { encoder.slot.value = wire(v) }
    mutating func encode(_ v: UInt) throws { encoder.slot.value = wire(v) }
    mutating func encode(_ v: UInt8) throws { encoder.slot.value = wire(v) }
    mutating func encode(_ v: UInt16) throws { encoder.slot.value = wire(v) }
    mutating func encode(_ v: UInt32) throws { encoder.slot.value = wire(v) }
    mutating func encode(_ v: UInt64) throws { encoder.slot.value = wire(v) }
    mutating func encode<T: Encodable>(_ v: T) throws { try encoder.encodeValue(v, into: encoder.slot) }
}

// MARK: - Decoding

struct WireDecoder: Decoder {
    let value: WireRead
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: WireRead, codingPath: [CodingKey]) {
        self.value = value
        self.codingPath = codingPath
    }

    func mismatch<T>(_: T.Type) -> DecodingError {
        .typeMismatch(T.self, .init(codingPath: codingPath, debugDescription: "decoder process returned malformed output"))
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == Data.self {
            guard case .bytes(let bytes) = value, let data = Data(bytes) as? T else { throw mismatch(T.self) }
            return data
        }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let entries) = value else { throw mismatch([String: Any].self) }
        return KeyedDecodingContainer(WireKeyedReader<Key>(decoder: self, entries: entries))
    }
    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch([Any].self) }
        return WireUnkeyedReader(decoder: self, items: items)
    }
    func singleValueContainer() throws -> SingleValueDecodingContainer { WireSingleReader(decoder: self) }

    // The primitives, from this decoder's value; integers range-checked.
    func bool() throws -> Bool { guard case .bool(let v) = value else { throw mismatch(Bool.self) }; return v }
    func string() throws -> String { guard case .string(let v) = value else { throw mismatch(String.self) }; return v }
    func double() throws -> Double { guard case .double(let v) = value else { throw mismatch(Double.self) }; return v }
    func float() throws -> Float { guard case .float(let v) = value else { throw mismatch(Float.self) }; return v }
    func integer<I: FixedWidthInteger>(_: I.Type) throws -> I {
        switch value {
        case .integer(let v): if let i = I(exactly: v) { return i }
        case .unsigned(let v): if let i = I(exactly: v) { return i }
        default: break
        }
        throw mismatch(I.self)
    }
    var isNil: Bool { if case .null = value { return true } else { return false } }
}

struct WireKeyedReader<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: WireDecoder
    let entries: [String: WireRead]
    var codingPath: [CodingKey] { decoder.codingPath }
    var allKeys: [Key] { entries.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { entries[key.stringValue] != nil }
    func child(_ key: Key) throws -> WireDecoder {
        guard let value = entries[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "decoder process returned malformed output"))
        }
        return WireDecoder(value, codingPath: codingPath + [key])
    }
    func decodeNil(forKey key: Key) throws -> Bool { try child(key).isNil }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).bool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).string() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).double() }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try child(key).float() }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).integer(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).integer(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).integer(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).integer(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).integer(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).integer(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).integer(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).integer(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).integer(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).integer(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decodeValue(type) }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
    func superDecoder() throws -> Decoder {
        guard let value = entries["super"] else { throw WireDecoder(.null, codingPath: codingPath).mismatch(Any.self) }
        return WireDecoder(value, codingPath: codingPath)
    }
    func superDecoder(forKey key: Key) throws -> Decoder { try child(key) }
}

struct WireUnkeyedReader: UnkeyedDecodingContainer {
    let decoder: WireDecoder
    let items: [WireRead]
    var currentIndex = 0
    var codingPath: [CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func next() throws -> WireDecoder {
        guard currentIndex < items.count else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "decoder process returned malformed output"))
        }
        defer { currentIndex += 1 }
        return WireDecoder(items[currentIndex], codingPath: codingPath)
    }
    mutating func decodeNil() throws -> Bool {
        guard currentIndex < items.count, case .null = items[currentIndex] else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().bool() }
    mutating func decode(_ type: String.Type) throws -> String { try next().string() }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().double() }
    mutating func decode(_ type: Float.Type) throws -> Float { try next().float() }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().integer(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().integer(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().integer(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().integer(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().integer(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().integer(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().integer(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().integer(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().integer(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().integer(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(type) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> Decoder { try next() }
}

struct WireSingleReader: SingleValueDecodingContainer {
    let decoder: WireDecoder
    var codingPath: [CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.isNil }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.bool() }
    func decode(_ type: String.Type) throws -> String { try decoder.string() }
    func decode(_ type: Double.Type) throws -> Double { try decoder.double() }
    func decode(_ type: Float.Type) throws -> Float { try decoder.float() }
    func decode(_ type: Int.Type) throws -> Int { try decoder.integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}
