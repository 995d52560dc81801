/// Elementwise nonlinearities over buffers, vectorised with SIMD8.
///
/// glibc's scalar `expf` dominated a GRU step in the toolchain spike; these use a Cephes-style
/// range reduction and polynomial (relative error about 2e-7 over the range used), eight lanes
/// at a time. `tanh` is computed as `1 − 2/(e^{2x} + 1)`, `sigmoid` as `1/(1 + e^{−x})`.
enum Nonlinear {
    typealias V = SIMD8<Float>

    @inline(__always)
    static func exp(_ x0: V) -> V {
        // Clamped by masks: `clamped(lowerBound:upperBound:)` did not inline.
        var x = x0
        let lo = V(repeating: -87.3), hi = V(repeating: 88.3)
        x.replace(with: lo, where: x .< lo)
        x.replace(with: hi, where: x .> hi)
        // e^x = 2^n · e^r, n = round(x / ln 2), r = x − n ln 2 (ln 2 split in two for accuracy).
        // Adding 1.5 · 2^23 rounds to the nearest integer (ties to even) and leaves it in the low
        // mantissa bits: plain vector adds, where `rounded` and a Float→Int32 vector conversion
        // went through slow generic code.
        let magic = V(repeating: 12_582_912)
        let shifted = x * V(repeating: 1.44269504088896341) + magic
        let n = shifted - magic
        var r = x - n * V(repeating: 0.693359375)
        r = r - n * V(repeating: -2.12194440e-4)
        var p = V(repeating: 1.9875691500e-4)
        p = p * r + V(repeating: 1.3981999507e-3)
        p = p * r + V(repeating: 8.3334519073e-3)
        p = p * r + V(repeating: 4.1665795894e-2)
        p = p * r + V(repeating: 1.6666665459e-1)
        p = p * r + V(repeating: 5.0000001201e-1)
        let r2 = r * r
        let y = p * r2 + r + V(repeating: 1)
        // Scale by 2^n through the exponent bits.
        let ni = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- SIMD8<Int32>(repeating: 0x4B40_0000)
        let bits = (ni &+ 127) &<< 23
        return y * unsafeBitCast(bits, to: V.self)
    }

    @inline(__always) static func sigmoid(_ x: V) -> V { V(repeating: 1) / (V(repeating: 1) + exp(-x)) }
    @inline(__always) static func tanh(_ x: V) -> V {
        V(repeating: 1) - V(repeating: 2) / (exp(x + x) + V(repeating: 1))
    }

    /// Applies `f8` in place over `count` values, eight at a time.
    @inline(__always)
    static func apply(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ f8: (V) -> V) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: f8(v), as: V.self)
            i += 8
        }
        if i < count {
            // The tail goes through the same vector code, so every element is computed alike.
            var v = V(repeating: 0)
            for l in 0..<(count - i) { v[l] = p[i + l] }
            let y = f8(v)
            for l in 0..<(count - i) { p[i + l] = y[l] }
        }
    }

    static func sigmoidInPlace(_ p: UnsafeMutablePointer<Float>, _ count: Int) { apply(p, count, sigmoid) }
    static func tanhInPlace(_ p: UnsafeMutablePointer<Float>, _ count: Int) { apply(p, count, tanh) }
}
