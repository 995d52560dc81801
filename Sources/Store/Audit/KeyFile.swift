import Foundation

/// A secret of 32 random bytes in a 0600 file beside the store, created on first use. The site
/// key and the signing key are both kept this way.
enum KeyFile {
    /// Reads the key at `path`, creating it from `generate()` first if there is none. Two
    /// processes starting together agree on one key: the new key is written to a private
    /// temporary file and linked into place, which fails for the loser, who then reads the winner's.
    static func openOrCreate(path: String, what: String, generate: () -> Data) throws -> Data {
        if let k = try read(path, what: what) { return k }
        let bytes = generate()
        let tmp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_CREAT | O_WRONLY | O_EXCL, 0o600)
        guard fd >= 0 else { throw StoreError.cannotOpen(path: path, reason: "cannot create the \(what): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        defer { unlink(tmp) }
        guard written == bytes.count else { throw StoreError.cannotOpen(path: path, reason: "cannot write the \(what)") }
        if link(tmp, path) != 0 && errno != EEXIST {
            throw StoreError.cannotOpen(path: path, reason: "cannot create the \(what): \(String(cString: strerror(errno)))")
        }
        guard let k = try read(path, what: what) else { throw StoreError.cannotOpen(path: path, reason: "the \(what) vanished while it was created") }
        return k
    }

    static func read(_ path: String, what: String) throws -> Data? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError.cannotOpen(path: path, reason: "the \(what) cannot be read")
        }
        guard data.count == 32 else { throw StoreError.corrupt("the \(what) \(path) holds \(data.count) bytes, not 32") }
        return data
    }
}
