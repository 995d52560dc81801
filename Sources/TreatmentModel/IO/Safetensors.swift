import Foundation

/// The safetensors file format (https://huggingface.co/docs/safetensors): an 8-byte
/// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
/// then the raw little-endian data. Rounds reads and writes float32 tensors only.
///
/// Writing is deterministic: tensors sorted by name, keys sorted, the header padded with spaces
/// to a multiple of 8 bytes, so the same tensors and metadata give the same bytes.
public enum Safetensors {
    public struct File: Sendable, Equatable {
        public var tensors: [String: (shape: [Int], values: [Float])]
        public var metadata: [String: String]

        public init(tensors: [String: (shape: [Int], values: [Float])], metadata: [String: String]) {
            self.tensors = tensors; self.metadata = metadata
        }

        public static func == (a: File, b: File) -> Bool {
            a.metadata == b.metadata && a.tensors.keys.sorted() == b.tensors.keys.sorted()
                && a.tensors.allSatisfy { k, v in b.tensors[k].map { $0.shape == v.shape && $0.values == v.values } ?? false }
        }
    }

    public static func encode(_ file: File) throws -> Data {
        var header: [String: Any] = [:]
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        var offset = 0
        let names = file.tensors.keys.sorted()
        for name in names {
            let t = file.tensors[name]!
            guard t.shape.reduce(1, *) == t.values.count else { throw ModelFileError.invalid("tensor \(name): shape \(t.shape) does not hold \(t.values.count) values") }
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.values.count]] as [String: Any]
            offset += 4 * t.values.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        out.reserveCapacity(8 + json.count + offset)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            file.tensors[name]!.values.withUnsafeBufferPointer { p in
                for v in p { var bits = v.bitPattern.littleEndian; withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) } }
            }
        }
        return out
    }

    public static func decode(_ data: Data) throws -> File {
        guard data.count >= 8 else { throw ModelFileError.invalid("file is \(data.count) bytes: too short for a safetensors header") }
        let n = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian
        guard n <= UInt64(data.count - 8), n < 100_000_000 else { throw ModelFileError.invalid("header length \(n) exceeds the file") }
        let headerData = data.subdata(in: 8..<(8 + Int(n)))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw ModelFileError.invalid("the safetensors header is not a JSON object")
        }
        let body = data.subdata(in: (8 + Int(n))..<data.count)
        var metadata: [String: String] = [:]
        if let m = header["__metadata__"] {
            guard let dict = m as? [String: Any] else { throw ModelFileError.invalid("__metadata__ is not an object") }
            for (k, v) in dict {
                guard let s = v as? String else { throw ModelFileError.invalid("metadata '\(k)' is not a string") }
                metadata[k] = s
            }
        }
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for (name, any) in header where name != "__metadata__" {
            guard let info = any as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw ModelFileError.invalid("tensor \(name): header entry lacks dtype, shape or data_offsets")
            }
            guard dtype == "F32" else { throw ModelFileError.invalid("tensor \(name) is \(dtype); Rounds reads F32 only") }
            let count = shape.reduce(1, *)
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[1] == offsets[0] + 4 * count, offsets[1] <= body.count else {
                throw ModelFileError.invalid("tensor \(name): byte range \(offsets) does not fit shape \(shape) in a body of \(body.count) bytes")
            }
            let values: [Float] = body.subdata(in: offsets[0]..<offsets[1]).withUnsafeBytes { raw in
                (0..<count).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian) }
            }
            tensors[name] = (shape, values)
        }
        return File(tensors: tensors, metadata: metadata)
    }
}

/// A model file that cannot be used, and why.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let m): return "invalid model file: \(m)"
        case .unreadable(let path, let reason): return "cannot read model file \(path): \(reason)"
        }
    }
}
