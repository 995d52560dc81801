import Foundation

/// `map` over 0..<count on every core (at most eight), results in the order of their indices
/// whatever order the threads finish in (so a sum over them is the same every run). Worker w
/// takes indices w, w + workers, …: a few items of unequal cost (`evaluate`'s recommenders)
/// spread as evenly as many alike ones (cohort generation, the trainer's batch parts).
public enum ParallelMap {
    public static func map<T: Sendable>(count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        let slots = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
        slots.initialize(repeating: nil)
        defer { slots.deallocate() }
        nonisolated(unsafe) let shared = slots
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for i in stride(from: w, to: count, by: workers) { shared[i] = body(i) }
        }
        let out = slots.map { $0! }
        slots.deinitialize()  // releases the elements; deallocate follows in defer
        return out
    }
}
