import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct ModelCommandTests {
    @Test func trainEvaluateAndShowAModel() throws {
        let rounds = RoundsProcess()
        #expect(try rounds.run(["cohort", "generate", "--n", "300", "--seed", "3"]).status == 0)
        let out = TestSupport.temporaryDirectory().appendingPathComponent("m.safetensors").path
        let train = try rounds.run(["train", "--out", out, "--epochs", "2", "--hidden", "16", "--embed", "8", "--attention", "8"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("Wrote \(out)"))
        #expect(train.stderr.contains("epoch   2/2"))
        let eval = try rounds.run(["evaluate", "--model", out, "--resamples", "30", "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        let evaluations = report["evaluations"] as? [[String: Any]] ?? []
        let names = evaluations.compactMap { $0["name"] as? String }
        #expect(names.count == 5 && names[0] == "RETAIN" && names[1].hasPrefix("gradient-boosted trees (XGBoost, depth ")
                && Array(names[2...]) == ["logistic regression (last visit)", "guideline rules (ADA/KDIGO)", "majority class"], "\(names)")
        // Every recommender has its regret and the non-trivial half's ECE; the model is compared
        // with the best baselines on macro F1 and regret; the deletion test ran for k = 1 and 3.
        for e in evaluations {
            let scores = e["scores"] as? [String: Any]
            #expect(scores?["regret"] != nil && scores?["expectedCalibrationErrorUncertain"] != nil, "\(e["name"] ?? "")")
        }
        let comparisons = report["comparisons"] as? [[String: Any]] ?? []
        #expect(comparisons.compactMap { $0["metric"] as? String } == ["macro F1", "regret"])
        let deletion = report["deletionTest"] as? [String: Any]
        #expect((deletion?["results"] as? [[String: Any]])?.compactMap { $0["k"] as? Int } == [1, 3])
        #expect(report["contraindicationPenalty"] as? Double == 1.0)
        #expect(report["testCases"] as? Int == 45)
        #expect(report["trainedOnThisCohort"] as? Bool == true && report["cohortWarning"] == nil)
        // On another cohort of the same seed the split differs: the scores would be flattered, and it says so.
        #expect(try rounds.run(["cohort", "generate", "--n", "200", "--seed", "3"]).status == 0)
        let other = try rounds.run(["evaluate", "--model", out, "--resamples", "30"])
        #expect(other.status == 0 && other.stderr.contains("Warning: the model was trained on cohort"), "\(other.stderr)")
        let shown = try rounds.run(["model", "--file", out, "--json"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        #expect((summary["sha256"] as? String)?.count == 64)
        #expect((summary["data"] as? String)?.contains("synthetic") == true)
    }

    @Test func theShippedModelMatchesItsCard() throws {
        let r = try RoundsProcess().run(["model", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("generating"), "showing the model needs no patients")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let sha = try #require(summary["sha256"] as? String)
        let card = try String(contentsOf: TestSupport.knowledgeDirectory.appendingPathComponent("models/default.md"), encoding: .utf8)
        #expect(card.contains(sha), "the model card does not name the shipped file's SHA-256 \(sha)")
        #expect((summary["card"] as? String)?.contains("synthetic") == true)
    }

    @Test func badModelFilesAreRefusedWithTheReason() throws {
        let rounds = RoundsProcess()
        let junk = TestSupport.write("definitely not safetensors", name: "junk.safetensors")
        let r = try rounds.run(["model", "--file", junk])
        #expect(r.status != 0 && r.stderr.contains("junk.safetensors") && r.stderr.contains("invalid model file"))
        let reference = TestSupport.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/spec/reference/model.safetensors").path
        let mismatch = try rounds.run(["model", "--file", reference])
        #expect(mismatch.status != 0 && mismatch.stderr.contains("do not match Knowledge/features.yaml"))
        let missing = try rounds.run(["evaluate", "--no-demo", "--model", "/no/such/model.safetensors"])
        #expect(missing.status != 0 && missing.stderr.contains("/no/such/model.safetensors"))
    }

    /// `bench --kernels` measures the build it names, and refuses one that does not exist.
    @Test func benchRunsTheChosenKernels() throws {
        let rounds = RoundsProcess()
        let r = try rounds.run(["bench", "--kernels", "baseline", "--repetitions", "1", "--sequences", "32", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(result["kernels"] as? String == "baseline")
        #expect((result["explanationMillisecondsT40"] as? Double ?? 0) > 0)
        let bad = try rounds.run(["bench", "--kernels", "sse9"])
        #expect(bad.status != 0 && bad.stderr.contains("--kernels takes one of baseline, avx2, avx512"))
    }
}
