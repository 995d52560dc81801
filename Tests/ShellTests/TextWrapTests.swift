import Foundation
import Testing
@testable import Shell

/// Prose wrapped at word boundaries with a hanging indent; the pager chosen only for terminals.
struct TextWrapTests {
    let message = "  ! sglt2_inhibitor  caution: euglycaemic ketoacidosis has been reported with SGLT2 inhibitors; hold them before surgery and during acute illness (FDA label, Warnings and Precautions 5.1; ADA Standards of Care in Diabetes 2025, section 9)"

    /// Every word of the input, in order, whatever the breaks.
    func words(_ lines: [String]) -> [String] { lines.joined(separator: " ").split(separator: " ").map(String.init) }

    @Test(arguments: [40, 80, 120, 200]) func linesFitAndNoWordIsBroken(width: Int) {
        let lines = TextWrap.wrap(message, width: width)
        #expect(lines.allSatisfy { TextWrap.visibleWidth($0) <= width }, "\(lines)")
        #expect(words(lines) == words([message]))
        if TextWrap.visibleWidth(message) > width { #expect(lines.count > 1) } else { #expect(lines == [message]) }
    }

    @Test func continuationHangsUnderTheLastColumn() {
        let lines = TextWrap.wrap(message, width: 80)
        // "  ! sglt2_inhibitor  " is 21 columns: the prose column starts there.
        let column = message.distance(from: message.startIndex, to: message.range(of: "caution")!.lowerBound)
        for line in lines.dropFirst() {
            #expect(line.prefix(column).allSatisfy { $0 == " " } && line.dropFirst(column).first != " ", "\(line)")
        }
    }

    @Test func listMarkerHangs() {
        let text = "    - " + String(repeating: "metformin lowers HbA1c ", count: 8)
        let lines = TextWrap.wrap(text, width: 50)
        #expect(lines.count > 2)
        for line in lines.dropFirst() { #expect(line.hasPrefix("      ") && !line.hasPrefix("       ")) }
        let plain = "Rounds supports the clinician and never replaces them; " + String(repeating: "every word stays whole ", count: 6)
        for line in TextWrap.wrap(plain, width: 50).dropFirst() { #expect(line.hasPrefix("  ") && !line.hasPrefix("   ")) }
    }

    @Test func colourCodesTakeNoColumns() {
        let red = "\u{1B}[31mcontraindicated\u{1B}[0m"
        #expect(TextWrap.visibleWidth(red) == 15)
        let line = "  metformin  " + red + " " + String(repeating: "eGFR below 30 mL/min ", count: 6)
        let lines = TextWrap.wrap(line, width: 60)
        #expect(lines.allSatisfy { TextWrap.visibleWidth($0) <= 60 })
        #expect(lines[0].contains(red))
    }

    @Test func aWordWiderThanTheLineStaysWhole() {
        let url = "https://diabetesjournals.org/care/article/48/Supplement_1/S181/157569/9-Pharmacologic-Approaches-to-Glycemic-Treatment"
        let lines = TextWrap.wrap("  see " + url + " for the algorithm", width: 60)
        #expect(lines.contains { $0.contains(url) })
        #expect(words(lines) == ["see", url, "for", "the", "algorithm"])
    }

    @Test func pagerOnlyOnATerminal() {
        #expect(Pager.choose(disabled: false, environment: [:], terminal: false) == nil)
        #expect(Pager.choose(disabled: false, environment: [:], terminal: true) == "less -FRX")
        #expect(Pager.choose(disabled: false, environment: ["PAGER": "more"], terminal: true) == "more")
        #expect(Pager.choose(disabled: false, environment: ["PAGER": "more", "ROUNDS_PAGER": "most"], terminal: true) == "most")
        #expect(Pager.choose(disabled: false, environment: ["ROUNDS_PAGER": ""], terminal: true) == nil)
        #expect(Pager.choose(disabled: false, environment: ["PAGER": "cat"], terminal: true) == nil)
        #expect(Pager.choose(disabled: true, environment: ["PAGER": "more"], terminal: true) == nil)
        #expect(Pager(environment: ["PAGER": "more"], terminal: false).command == nil)
    }

    @Test func expectationsIgnoreHowLinesWereWrapped() {
        let wrapped = "  ! metformin  contraindicated: eGFR below\n                30 mL/min\u{1B}[0m"
        #expect(SessionScript.normalized(wrapped).contains(SessionScript.normalized("eGFR below 30 mL/min")))
    }
}

extension TextWrapTests {
    @Test func theFirstLineKeepsItsSpacing() {
        let line = "No rule fired for: Metformin, GLP-1 receptor agonist, Thiazolidinedione, Basal insulin, No drug change."
        let lines = TextWrap.wrap(line, width: 80)
        #expect(lines[0].hasPrefix("No rule fired for: "))
        #expect(words(lines) == words([line]))
        let row = "  metformin        contraindicated: eGFR 24 mL/min/1.73 m² is below 30; stop metformin (FDA label 4)"
        #expect(TextWrap.wrap(row, width: 60)[0].hasPrefix("  metformin        contraindicated:"))
    }
}
