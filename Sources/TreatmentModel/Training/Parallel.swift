import Foundation

/// Work spread over the cores, with results in the order of their indices whatever order the
/// threads finish in (so that a sum over them is the same every run).
public enum Parallel {
    /// `[body(0), body(1), …, body(count − 1)]`, computed concurrently.
    public static func map<Value: Sendable>(_ count: Int, _ body: @Sendable (Int) -> Value) -> [Value] {
        let slots = Slots<Value>(count)
        DispatchQueue.concurrentPerform(iterations: count) { slots.set($0, body($0)) }
        return slots.values
    }

    /// Each index written once, by one thread, under a lock.
    private final class Slots<Value>: @unchecked Sendable {
        private var slots: [Value?]
        private let lock = NSLock()
        init(_ count: Int) { slots = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ v: Value) { lock.withLock { slots[i] = v } }
        var values: [Value] { lock.withLock { slots.map { $0! } } }
    }
}
