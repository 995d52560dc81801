/// A store that cannot be opened or read, said in words a person can act on.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case corrupt(String)
    case notFound(String)
    /// Input from outside the store (a file, a key, a proof) that is not what it claims to be.
    case invalid(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "cannot open the store at \(path): \(reason)"
        case .corrupt(let m): return "the store holds damaged data: \(m)"
        case .notFound(let m): return m
        case .invalid(let m): return m
        }
    }
}
