import TreatmentModel

/// What integrated gradients asks of a model: its output probabilities and the weighted gradient
/// of one of them at points on a straight line through its input. `TreatmentNetwork` (either
/// architecture) is the model Rounds explains; the protocol lets the tests hold the integration itself to a model whose
/// exact answer is known (one linear in its input, where IG is (x − baseline) · weight).
public protocol PathDifferentiable: Sendable {
    /// Values per visit in the input (`[T·F]`, visit-major).
    var featuresPerVisit: Int { get }
    /// How many outputs (treatments) a point has.
    var outputs: Int { get }
    /// Outputs at `from + α_i (to − from)` (`[P, outputs]`) and Σ_i w_i ∂output_target/∂x there (`[T·F]`).
    func pathGradients(from: [Float], to: [Float], alphas: [Float], weights: [Float], target: Int) -> PathGradients
}

extension TreatmentNetwork: PathDifferentiable {
    public var featuresPerVisit: Int { shape.features }
    public var outputs: Int { shape.treatments }
}

extension GRUAttention: PathDifferentiable {
    public var featuresPerVisit: Int { shape.features }
    public var outputs: Int { shape.treatments }
}
