/// The page's colours. Every colour carries a second cue (text, a mark, a hatch), so nothing is
/// told by colour alone; the palettes themselves are chosen to stay apart under the common
/// colour-vision deficiencies and in greyscale.
enum Palette {
    /// ColorBrewer's RdBu (Brewer, colorbrewer2.org; marked colour-blind safe), 11 classes, blue
    /// for negative, red for positive; white in the middle. Signed attributions are drawn with
    /// it, and cells of either sign above a quarter of the scale carry a + or − mark, because a
    /// diverging palette's two ends are equally dark in greyscale.
    static let diverging: [(Double, Double, Double)] = [
        (0x05, 0x30, 0x61), (0x21, 0x66, 0xac), (0x43, 0x93, 0xc3), (0x92, 0xc5, 0xde), (0xd1, 0xe5, 0xf0), (0xf7, 0xf7, 0xf7),
        (0xfd, 0xdb, 0xc7), (0xf4, 0xa5, 0x82), (0xd6, 0x60, 0x4d), (0xb2, 0x18, 0x2b), (0x67, 0x00, 0x1f),
    ]

    /// The colour of `value` on a scale of ±`scale`. The colour goes with the square root of the
    /// magnitude, so that the cells a tenth as strong as the strongest still show (a linear scale
    /// leaves all but one or two cells white); the legend says so.
    static func signed(_ value: Double, scale: Double) -> String {
        let m = scale > 0 ? min(1, abs(value) / scale).squareRoot() : 0
        let x = value < 0 ? -m : m
        let pos = (x + 1) / 2 * Double(diverging.count - 1)
        let i = min(Int(pos), diverging.count - 2)
        let f = pos - Double(i)
        let a = diverging[i], b = diverging[i + 1]
        return hex(a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f)
    }

    /// A single-hue sequential scale (white to dark blue-grey) for unsigned weights: it reads in
    /// greyscale as light to dark.
    static func sequential(_ fraction: Double) -> String {
        let x = max(0, min(1, fraction))
        return hex(247 - (247 - 8) * x, 251 - (251 - 48) * x, 255 - (255 - 107) * x)
    }

    /// The charted measures' colours (Okabe and Ito's), each series also named in text; diastolic
    /// pressure is black and dashed beside systolic's solid line.
    static let series = ["hba1c": "#0072B2", "egfr": "#D55E00", "weight": "#009E73", "sbp": "#CC79A7", "dbp": "#000000"]

    /// Okabe and Ito's eight colours (2008), distinguishable under every common colour-vision
    /// deficiency: the charted series and the medicine bars, each also labelled in text.
    static let categorical = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    static func hex(_ r: Double, _ g: Double, _ b: Double) -> String {
        func c(_ v: Double) -> String { let n = Int(max(0, min(255, v.rounded()))); return (n < 16 ? "0" : "") + String(n, radix: 16) }
        return "#" + c(r) + c(g) + c(b)
    }
}
