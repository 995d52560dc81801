import CKernels

/// The builds of the model's elementwise kernels (CKernels: GRU gates, sigmoid, tanh, exp). Each CPU
/// runs the best it has; all give the same bits, so choosing one changes only the speed.
public enum Kernels {
    /// From the baseline up.
    public static let variants = ["baseline", "avx2", "avx512"]

    /// The build that runs now.
    public static var variant: String { String(cString: rk_variant()) }

    /// Runs the named build from now on (to measure one against another); false, changing
    /// nothing, for a name it does not know or a build this CPU cannot run.
    @discardableResult
    public static func use(_ name: String) -> Bool {
        guard let level = variants.firstIndex(of: name) else { return false }
        let before = variants.firstIndex(of: variant)!
        guard rk_select(Int32(level)) == level else { _ = rk_select(Int32(before)); return false }
        return true
    }
}
