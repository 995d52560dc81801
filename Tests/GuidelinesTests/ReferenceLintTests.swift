import Foundation
import Testing
@testable import Guidelines
import Patients
import TestSupport

/// `guidelines lint` on references: document and section always, a number only where checked.
@Suite struct ReferenceLintTests {
    /// One rule with `reference` as its only reference, loaded from a file of its own.
    func problems(_ reference: String) -> String? {
        let dir = TestSupport.temporaryDirectory("rounds-ref-lint")
        let text = """
        rules:
          - id: r
            title: T
            kind: caution
            severity: warning
            applies_to: [metformin]
            when: egfr < 30
            message: m
            references:
              - \(reference)
        """
        try! text.write(to: dir.appendingPathComponent("r.yaml"), atomically: true, encoding: .utf8)
        do { _ = try RuleBook(pack: TestSupport.pack, directory: dir); return nil } catch let e as RuleBook.Problems { return e.description } catch { return "\(error)" }
    }

    @Test func aCheckedReferencePasses() {
        #expect(problems(#"{organization: KDIGO, document: "Guideline", edition: "2022", section: "Chapter 4", recommendation: "4.1.1", grade: "1B", checked_in: "the guideline PDF"}"#) == nil)
        #expect(problems(#"{organization: ADA, document: "Standards of Care in Diabetes—2025", section: "9. Pharmacologic Approaches to Glycemic Treatment"}"#) == nil)
    }

    @Test(arguments: [
        (#"{organization: ADA, document: "Standards"}"#, "missing 'section'"),
        (#"{organization: ADA, section: "9"}"#, "missing 'document'"),
        (#"{organization: ADA, document: "S", section: "9", recommendation: "9.10"}"#, "recommendation 9.10 without 'checked_in'"),
        (#"{organization: ADA, document: "S", section: "9", grade: "A"}"#, "a grade belongs to a recommendation number"),
        (#"{organization: ADA, document: "S", section: "6", recommendation: "6.x", checked_in: "memory"}"#, "placeholder ('6.x')"),
        (#"{organization: ADA, document: "S", section: "9", note: "number unverified"}"#, "placeholder ('unverified')"),
        (#"{organization: ADA, document: "S", section: "9", verified: false}"#, "unknown field 'verified'"),
        (#"{organization: ADA, document: "S", section: "9", checked_in: "PDF"}"#, "'checked_in' without a recommendation number"),
        (#"{organization: ADA, document: "S", section: ""}"#, "'section' must be non-empty"),
        (#""ADA 2025 section 9""#, "a reference must be a mapping"),
    ])
    func anUncheckedOrIncompleteReferenceFails(reference: String, expected: String) {
        let p = problems(reference)
        #expect(p?.contains(expected) == true, "\(p ?? "passed")")
        #expect(p?.contains("r.yaml:") == true && p?.contains(": r: ") == true)   // names the file, its line and the rule
    }

    @Test func theShippedRulesCiteOnlyWhatWasChecked() throws {
        let dir = TestSupport.knowledgeDirectory.appendingPathComponent("guidelines")
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasSuffix(".yaml") {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8).lowercased()
            #expect(!text.contains("unverified") && !text.contains("verified:"), "\(name)")
            #expect(text.range(of: #"\b\d+\.x\b"#, options: .regularExpression) == nil, "\(name)")
        }
        let refs = GuidelineTests.book.rules.flatMap(\.references)
        #expect(refs.allSatisfy { !$0.section.isEmpty && ($0.recommendation == nil || $0.checkedIn != nil) })
        #expect(refs.contains { $0.recommendation == "1.3.1" } && refs.contains { $0.recommendation == "11.1a" })
        #expect(!refs.contains { $0.organization == "ADA" && $0.section.hasPrefix("9.") && $0.recommendation != nil })   // section 9's type 2 numbers were not readable
        #expect(!refs.map(\.citation).contains { $0.contains("unverified") })
    }

    @Test(arguments: ["rec. 6.x", "9.1x", "TBD", "[number unverified]"])
    func placeholdersAreFound(text: String) { #expect(Lint.placeholder(in: text) != nil) }

    @Test(arguments: ["2.3 Temporary Interruption for Surgery", "Chapter 4 (Figure 27)", "doi 10.7326/M22-2904", "11.1a"])
    func realCitationsAreNotPlaceholders(text: String) { #expect(Lint.placeholder(in: text) == nil) }
}
