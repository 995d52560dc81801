import Foundation
import Patients
import Store
import Testing
import TestSupport

/// Headless Chromium (Debian `chromium`, installed by `.ci/run`). The browser tests are skipped,
/// saying why, where it is absent.
struct Chromium {
    static let path: String? = {
        let candidates = [ProcessInfo.processInfo.environment["ROUNDS_CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser"].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
    static var available: Bool { path != nil }

    /// Runs the browser headless on `url` with `flags`; returns standard output. Background
    /// networking is turned off so that the net log holds what the page asked for.
    static func run(_ flags: [String], url: URL, netLog: String? = nil) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path!)
        let profile = TestSupport.temporaryDirectory("chromium-profile")
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                       "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                       "--user-data-dir=\(profile.path)"] + (netLog.map { ["--log-net-log=\($0)"] } ?? []) + flags + [url.absoluteString]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        nonisolated(unsafe) var data = Data()
        let reader = Thread { data = out.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        p.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        try? FileManager.default.removeItem(at: profile)
        return String(decoding: data, as: UTF8.self)
    }

    /// The hosts of Chromium's own services, which it may call whatever the page holds.
    static let ownHosts = ["google.com", "googleapis.com", "gvt1.com", "gstatic.com"]

    /// Every http(s) URL in a net log that is not one of the browser's own services.
    static func pageRequests(netLog path: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let re = try NSRegularExpression(pattern: #""url":"(https?://[^"/]+)[^"]*""#)
        return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { m in
            let origin = String(text[Range(m.range(at: 1), in: text)!])
            let host = origin.split(separator: "/").last.map(String.init) ?? origin
            return ownHosts.contains { host == $0 || host.hasSuffix("." + $0) } ? nil : origin
        }
    }
}

/// The values a report tags with `data-check` (see `HTML.num`), by key.
func checkedValues(_ html: String) -> [String: String] {
    let re = try! NSRegularExpression(pattern: #"data-check="([^"]+)"[^>]*>([^<]*)<"#)
    var out: [String: String] = [:]
    for m in re.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
        let key = String(html[Range(m.range(at: 1), in: html)!])
        let value = String(html[Range(m.range(at: 2), in: html)!])
        out[key] = value.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
    }
    return out
}

func jsonObject(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

/// One patient's report and the shell's `--json` of the same views, side by side.
struct ReportCase {
    let rounds: RoundsProcess
    let patient: String
    let html: URL
    let recommend: [String: Any], attention: [String: Any], explain: [String: Any], summary: [String: Any], history: [[String: Any]]
    let whatIf: [String: Any]?

    init(rounds: RoundsProcess, patient: String, whatIf changes: [String] = [], extra: [String] = []) throws {
        self.rounds = rounds
        self.patient = patient
        html = TestSupport.temporaryDirectory("report").appendingPathComponent("case.html")
        let r = try rounds.run(["report", "--patient", patient, "--out", html.path] + (changes.isEmpty ? [] : ["--whatif"] + changes) + extra)
        precondition(r.status == 0, "report: \(r.stdout)\(r.stderr)")
        func view(_ args: [String]) throws -> Any {
            let v = try rounds.run(args + ["--patient", patient, "--json"])
            precondition(v.status == 0, "\(args): \(v.stderr)")
            return try jsonObject(v.stdout)
        }
        recommend = try view(["recommend"]) as! [String: Any]
        attention = try view(["attention"]) as! [String: Any]
        explain = try view(["explain"]) as! [String: Any]
        summary = try view(["summary"]) as! [String: Any]
        history = try view(["history"]) as! [[String: Any]]
        whatIf = changes.isEmpty ? nil : try view(["whatif"] + changes) as? [String: Any]
    }

    var text: String { try! String(contentsOf: html, encoding: .utf8) }

    /// Every tagged number of `dom` against the shell's JSON; returns the keys checked. A key the
    /// test does not know is a failure: a number shown that nobody checks.
    @discardableResult
    func checkNumbers(in dom: String, record: PatientRecord) -> Set<String> {
        let values = checkedValues(dom)
        var checked = Set<String>()
        func expectEq(_ key: String, _ expected: String) {
            checked.insert(key)
            #expect(values[key] == expected, "\(patient) \(key): page \(values[key] ?? "nil"), shell \(expected)")
        }
        // Recommendation.
        for o in recommend["options"] as! [[String: Any]] {
            let id = o["treatment"] as! String
            expectEq("p:\(id)", String(format: "%.1f%%", 100 * (o["probability"] as! Double)))
            expectEq("standing:\(id)", o["standingLabel"] as! String)
        }
        expectEq("model_sha256", recommend["modelSha256"] as! String)
        expectEq("patient", recommend["patient"] as! String)
        expectEq("index_date", recommend["indexVisit"] as! String)
        expectEq("origin", (recommend["synthetic"] as! Bool) ? "synthetic" : "imported")
        // Summary.
        expectEq("visits", String(summary["visitCount"] as! Int))
        let notice = explain["notice"] as! [String: Any]
        let modelVisit = notice["modelVisit"] as! Int
        expectEq("visit", String(modelVisit))
        expectEq("age", String(summary["age"] as! Int))
        var labs: [String: [String]] = [:]
        for t in summary["trends"] as! [[String: Any]] {
            let f = t["feature"] as! String
            for (v, d) in zip(t["values"] as! [Double], t["dates"] as! [String]) { labs["\(f):\(d)", default: []].append(String(format: "%.1f", v)) }
        }
        var shownLabs = 0
        for (key, value) in values where key.hasPrefix("lab:") {
            let parts = key.split(separator: ":").map(String.init)
            let fd = parts[1] + ":" + parts[2]
            if ["hba1c", "egfr", "weight", "sbp"].contains(parts[1]) {
                checked.insert(key); shownLabs += 1
                #expect(labs[fd]?.contains(value) == true, "\(patient) \(key) = \(value) is not in summary --json")
            } else if parts[1] == "dbp" {
                // Diastolic pressure is not one of summary's trends: its visit rows hold it.
                checked.insert(key)
                let visitValues = (summary["visits"] as! [[String: Any]]).filter { $0["date"] as? String == parts[2] }.compactMap { ($0["values"] as? [String: Double])?["dbp"] }
                #expect(visitValues.map { String(format: "%.1f", $0) }.contains(value), "\(patient) \(key) = \(value)")
            }
        }
        #expect(shownLabs == labs.values.map(\.count).reduce(0, +), "\(patient): the page shows \(shownLabs) trend values, summary has \(labs.values.map(\.count).reduce(0, +))")
        // Attention.
        for row in attention["visits"] as! [[String: Any]] {
            expectEq("att:\(row["visit"] as! Int)", String(format: "%.3f", row["weight"] as! Double))
            if let c = row["contribution"] as? Double { expectEq("contrib:\(row["visit"] as! Int)", String(format: "%+.3f", c)) }
        }
        // Explanation.
        let ig = explain["ig"] as! [String: Any]
        let attributions = ig["attributions"] as! [[Double]]
        let features = explain["features"] as! [String]
        let T = attributions.count
        for (key, value) in values where key.hasPrefix("ig:") || key.hasPrefix("igm:") || key.hasPrefix("raw:") {
            let parts = key.split(separator: ":").map(String.init)
            let visit = Int(parts[1])!, t = visit - modelVisit + T - 1, f = features.firstIndex(of: parts[2])!
            checked.insert(key)
            if parts[0] == "raw" {
                let rows = FeatureExtractor(pack: TestSupport.pack).matrix(for: record, through: modelVisit - 1).rows
                let raw = rows[rows.count - T + t][TestSupport.pack.features.columns.firstIndex(of: parts[2])!]
                let def = TestSupport.pack.features.definition(id: parts[2])
                let expected: String
                if raw.isNaN { expected = "unknown (filled with the mean)" }
                else if let def, def.kind == .lab || def.kind == .vital { expected = String(format: "%.1f %@", raw, def.unit ?? "") }
                else if let def, def.kind == .condition || def.kind == .medication { expected = raw == 1 ? "yes" : "no" }
                else { expected = value }  // demographic and missing indicators: checked by their kind below
                #expect(value == expected, "\(patient) \(key): page \(value), features \(expected)")
            } else {
                #expect(value == String(format: "%+.5f", attributions[t][f]), "\(patient) \(key): page \(value), explain \(attributions[t][f])")
            }
        }
        let strongest = values.keys.filter { $0.hasPrefix("ig:") }.count
        #expect(strongest == min(10, T * features.count), "\(patient): \(strongest) strongest cells")
        // The strongest listed are the largest in magnitude.
        let largest = attributions.flatMap { $0 }.map(abs).max() ?? 0
        #expect(values.keys.contains { k in k.hasPrefix("ig:") && values[k].flatMap(Double.init).map { abs(abs($0) - largest) < 1e-5 } == true })
        for (f, name) in features.enumerated() where values["igf:\(name)"] != nil {
            expectEq("igf:\(name)", String(format: "%+.5f", attributions.map { $0[f] }.reduce(0, +)))
        }
        let sum = attributions.flatMap { $0 }.reduce(0, +), delta = ig["delta"] as! Double
        let target = ig["target"] as! Int
        let p = (explain["probabilities"] as! [Double])[target]
        expectEq("ig_sum", String(format: "%+.5f", sum))
        expectEq("delta", String(format: "%+.2e", delta))
        expectEq("steps", String(ig["steps"] as! Int))
        expectEq("p_input", String(format: "%.3f", p))
        expectEq("p_baseline", String(format: "%.3f", p - (sum - delta)))
        expectEq("delta_pct", String(format: "%.2f%%", 100 * abs(delta) / max(abs(sum - delta), 1e-12)))
        // Decisions.
        for d in history {
            let id = d["id"] as! String
            expectEq("dec:\(id):p", String(format: "%.1f%%", 100 * (d["probabilityOfChosen"] as! Double)))
            expectEq("dec:\(id):reward", String(format: "%+.1f", d["reward"] as! Double))
            expectEq("knowledge_sha256", d["knowledgeSha256"] as! String)
        }
        if history.isEmpty { checked.insert("knowledge_sha256") }
        // What-if.
        if let w = whatIf {
            for (side, key) in [("original", "before"), ("edited", "after")] {
                for (id, p) in (w[side] as! [String: Any])["probabilities"] as! [String: Double] { expectEq("wi:\(key):\(id)", String(format: "%.1f%%", 100 * p)) }
            }
        }
        let unchecked = Set(values.keys).subtracting(checked)
        #expect(unchecked.isEmpty, "\(patient): numbers on the page that no test checks: \(unchecked.sorted().prefix(10))")
        return checked
    }
}

/// Pixels of a chart as the browser draws it: each chart's SVG alone, drawn into a canvas by a
/// test page, each pixel classed 0 (white), 1 (grey or black) or 2 (coloured).
struct ChartPixels {
    let width: Int, height: Int
    let classes: [UInt8]
    func at(_ x: Int, _ y: Int) -> UInt8 { classes[y * width + x] }
    func count(x: Range<Int>, y: Range<Int>, _ c: UInt8) -> Int {
        var n = 0
        for yy in y where yy < height { for xx in x where xx < width && at(xx, yy) == c { n += 1 } }
        return n
    }

    /// The `<svg id="ID">` element of `html`, sized by its viewBox so that it draws alone.
    static func svg(_ id: String, in html: String) -> String? {
        guard let start = html.range(of: "<svg class=\"chart\" id=\"\(id)\""), let end = html.range(of: "</svg>", range: start.upperBound..<html.endIndex) else { return nil }
        var s = String(html[start.lowerBound..<end.upperBound])
        let re = try! NSRegularExpression(pattern: #"viewBox="0 0 ([0-9.]+) ([0-9.]+)" width="100%""#)
        guard let m = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { return nil }
        let w = Double(s[Range(m.range(at: 1), in: s)!])!, h = Double(s[Range(m.range(at: 2), in: s)!])!
        s = s.replacingOccurrences(of: "width=\"100%\"", with: "width=\"\(Int(w))\" height=\"\(Int(h))\" xmlns=\"http://www.w3.org/2000/svg\"")
        return s
    }

    /// Draws the charts in Chromium; also asks for one image from the network, so the test's net
    /// log shows that a page's request is seen.
    static func render(_ charts: [String: String], netLog: String) throws -> [String: ChartPixels] {
        let sources = charts.map { name, svg in "\"\(name)\": \"data:image/svg+xml;base64,\(Data(svg.utf8).base64EncodedString())\"" }.joined(separator: ",")
        let page = """
        <!DOCTYPE html><html><body><img src="http://127.0.0.1:9/control.png" alt=""><pre id="out">pending</pre><script>
        const charts = {\(sources)}; const result = {}; let left = Object.keys(charts).length;
        for (const [name, src] of Object.entries(charts)) {
          const img = new Image();
          img.onload = () => {
            const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
            const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height); g.drawImage(img, 0, 0);
            const d = g.getImageData(0, 0, c.width, c.height).data; let s = '';
            for (let i = 0; i < d.length; i += 4) {
              const mx = Math.max(d[i], d[i+1], d[i+2]), mn = Math.min(d[i], d[i+1], d[i+2]);
              s += mn > 235 ? '0' : (mx - mn > 40 ? '2' : '1');
            }
            result[name] = {w: c.width, h: c.height, px: s};
            if (--left === 0) document.getElementById('out').textContent = JSON.stringify(result);
          };
          img.onerror = () => { result[name] = {error: true}; if (--left === 0) document.getElementById('out').textContent = JSON.stringify(result); };
          img.src = src;
        }
        </script></body></html>
        """
        let url = TestSupport.temporaryDirectory("pixels").appendingPathComponent("pixels.html")
        try Data(page.utf8).write(to: url)
        let dom = try Chromium.run(["--virtual-time-budget=15000", "--dump-dom"], url: url, netLog: netLog)
        guard let a = dom.range(of: "<pre id=\"out\">"), let b = dom.range(of: "</pre>", range: a.upperBound..<dom.endIndex) else { return [:] }
        let json = String(dom[a.upperBound..<b.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"")
        guard let obj = try? jsonObject(json) as? [String: [String: Any]] else { return [:] }
        return obj.compactMapValues { v in
            guard let w = v["w"] as? Int, let h = v["h"] as? Int, let px = v["px"] as? String else { return nil }
            return ChartPixels(width: w, height: h, classes: px.utf8.map { $0 - 48 })
        }
    }
}

@Suite(.serialized) struct ReportTests {
    static let sections = ["report-header", "distribution", "timeline", "attention", "explanation", "guidelines", "decisions", "about"]

    /// The HTML asks for nothing from anywhere: no script, no stylesheet or frame, no src or href
    /// but the page's own fragments and data.
    static func expectSelfContained(_ html: String, _ who: String) {
        for tag in ["<script", "<link", "<iframe", "<object", "<embed", "@import", "url(http"] { #expect(!html.lowercased().contains(tag), "\(who) has \(tag)") }
        let re = try! NSRegularExpression(pattern: #"(?:src|href|xlink:href|action|srcset|poster)\s*=\s*"([^"]*)""#, options: .caseInsensitive)
        for m in re.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
            let v = String(html[Range(m.range(at: 1), in: html)!])
            #expect(v.hasPrefix("#") || v.hasPrefix("data:"), "\(who) refers to \(v)")
        }
    }

    @Test func aDemoPatientsReportInTheBrowserShowsTheShellsNumbers() throws {
        let rounds = RoundsProcess(demo: true)
        let accepted = try rounds.run(["accept", "--patient", "demo-00042", "--clinician", "dr-report", "--note", "report test"])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        let c = try ReportCase(rounds: rounds, patient: "demo-00042", whatIf: ["egfr=24"])
        let html = c.text
        Self.expectSelfContained(html, "demo-00042")
        #expect(html.contains("Synthetic patient") && html.contains("Decision support only"))
        #expect(html.contains("synthetic demo cohort (not real patients)"), "the model's training population")
        #expect(html.contains("<text") && html.contains("<details"), "real text in the charts and tables behind them")
        let record = try #require(try RoundsStore(path: rounds.db).patient(id: "demo-00042"))
        // The static page already holds every number as the shell has it.
        let checked = c.checkNumbers(in: html, record: record)
        #expect(checked.contains("wi:after:metformin") && checked.contains { $0.hasPrefix("dec:") })
        guard Chromium.available else {
            print("ReportTests: skipping the browser checks: no chromium at /usr/bin/chromium (Debian package `chromium`; .ci/run installs it)")
            return
        }
        // The DOM as the browser built it: every section, the same numbers; and no request.
        let netLog = TestSupport.temporaryDirectory("netlog").appendingPathComponent("report.json").path
        let dom = try Chromium.run(["--dump-dom"], url: c.html, netLog: netLog)
        for id in Self.sections + ["whatif"] { #expect(dom.contains("id=\"\(id)\""), "section \(id) missing from the DOM") }
        c.checkNumbers(in: dom, record: record)
        let requests = try Chromium.pageRequests(netLog: netLog)
        #expect(requests.isEmpty, "the report made network requests: \(requests)")
        // A 1280 px screenshot and a printed PDF.
        let dir = c.html.deletingLastPathComponent()
        let png = dir.appendingPathComponent("case.png"), pdf = dir.appendingPathComponent("case.pdf")
        _ = try Chromium.run(["--screenshot=\(png.path)", "--window-size=1280,4000"], url: c.html)
        let shot = try Data(contentsOf: png)
        #expect(shot.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        let width = shot.count > 24 ? shot[16..<20].reduce(0) { $0 << 8 | Int($1) } : 0
        #expect(width == 1280, "screenshot width \(width)")
        #expect(shot.count > 60_000, "a 1280 × 4000 screenshot of a filled page is not \(shot.count) bytes")
        _ = try Chromium.run(["--print-to-pdf=\(pdf.path)", "--no-pdf-header-footer"], url: c.html)
        let pdfText = String(decoding: try Data(contentsOf: pdf), as: UTF8.self)
        #expect(pdfText.hasPrefix("%PDF-"))
        let pages = pdfText.components(separatedBy: "/Type /Page").count - pdfText.components(separatedBy: "/Type /Pages").count
        #expect(pages >= 2 && pages <= 12, "\(pages) printed pages")
        #expect(pdfText.contains("/Font"), "the PDF holds text in fonts, not paths")
        // The charts as drawn: bars as long as the probabilities, a filled heat map, the series plotted.
        let controlLog = dir.appendingPathComponent("control.json").path
        var charts: [String: String] = [:]
        for id in ["distribution-chart", "heatmap-chart", "timeline-chart"] {
            let svg = ChartPixels.svg(id, in: html)
            #expect(svg != nil, "no \(id) in the page")
            charts[id] = svg
        }
        let pixels = try ChartPixels.render(charts, netLog: controlLog)
        #expect(try Chromium.pageRequests(netLog: controlLog).contains("http://127.0.0.1:9"), "the net log shows a page's request (control)")
        try Self.checkDistribution(try #require(pixels["distribution-chart"]), c)
        try Self.checkHeatMap(try #require(pixels["heatmap-chart"]), c)
        try Self.checkTimeline(try #require(pixels["timeline-chart"]), c)
    }

    /// Each option's bar, measured along its middle row, is as long as its probability × 360 px.
    static func checkDistribution(_ px: ChartPixels, _ c: ReportCase) throws {
        for o in c.recommend["options"] as! [[String: Any]] {
            let rank = o["rank"] as! Int, p = o["probability"] as! Double
            let y = 20 + (rank - 1) * 26 + 10
            let length = px.count(x: 211..<570, y: y..<(y + 1), 2) + 1
            #expect(abs(Double(length) - max(1, p * 360)) <= 3, "\(o["treatment"]!): bar \(length) px for p = \(p)")
        }
    }

    /// The heat map is coloured where the attributions are not small.
    static func checkHeatMap(_ px: ChartPixels, _ c: ReportCase) throws {
        let a = (c.explain["ig"] as! [String: Any])["attributions"] as! [[Double]]
        let scale = a.flatMap { $0 }.map(abs).max() ?? 0
        let strong = a.flatMap { $0 }.filter { abs($0) >= 0.15 * scale }.count
        let cell = min(20, 740 / Double(a.count))
        let coloured = px.count(x: 190..<px.width, y: 22..<(px.height - 66), 2)
        #expect(strong > 0)
        #expect(Double(coloured) >= 0.5 * Double(strong) * (cell - 0.5) * 12.5, "heat map: \(coloured) coloured pixels for \(strong) strong cells")
    }

    /// Each measure's panel has its points drawn.
    static func checkTimeline(_ px: ChartPixels, _ c: ReportCase) throws {
        let trends = Dictionary(uniqueKeysWithValues: (c.summary["trends"] as! [[String: Any]]).map { ($0["feature"] as! String, ($0["values"] as! [Double]).count) })
        for (i, f) in ["hba1c", "egfr", "weight", "sbp"].enumerated() {
            guard let n = trends[f], n > 0 else { continue }
            let top = 28 + i * (58 + 16)
            let coloured = px.count(x: 170..<937, y: top..<(top + 58), 2)
            #expect(coloured >= 8 * min(n, 40), "timeline panel \(f): \(coloured) coloured pixels for \(n) values")
        }
    }

    @Test func anImportedPatientsReportInTheBrowser() throws {
        let rounds = RoundsProcess()
        let fixture = try #require(TestSupport.fixtureFiles.first { $0.lastPathComponent.hasPrefix("Dirk_Kuhlman") } ?? TestSupport.fixtureFiles.first)
        #expect(try rounds.run(["import", fixture.path]).status == 0)
        let list = try jsonObject(try rounds.run(["patients", "--no-demo", "--json"]).stdout) as! [[String: Any]]
        let id = try #require(list.first?["id"] as? String)
        let c = try ReportCase(rounds: rounds, patient: id, extra: ["--no-demo"])
        let html = c.text
        Self.expectSelfContained(html, id)
        #expect(html.contains("imported") && html.contains("trained on synthetic patients"))
        let record = try #require(try RoundsStore(path: rounds.db).patient(id: id))
        c.checkNumbers(in: html, record: record)
        guard Chromium.available else { print("ReportTests: skipping the browser checks: no chromium"); return }
        let dom = try Chromium.run(["--dump-dom"], url: c.html)
        for s in Self.sections { #expect(dom.contains("id=\"\(s)\""), "section \(s) missing") }
        #expect(!dom.contains("id=\"whatif\""))
        c.checkNumbers(in: dom, record: record)
    }

    @Test func aPseudonymizedReportNamesThePatientAsTheAuditExportDoes() throws {
        let rounds = RoundsProcess(demo: true)
        let out = TestSupport.temporaryDirectory("report").appendingPathComponent("p.html")
        let r = try rounds.run(["report", "--patient", "demo-00007", "--pseudonymize", "--clinician", "dr-secret", "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOf: out, encoding: .utf8)
        #expect(!html.contains("demo-00007") && !html.contains("dr-secret"))
        let export = TestSupport.temporaryDirectory("export").appendingPathComponent("a.jsonl")
        #expect(try rounds.run(["audit", "export", "--format", "jsonl", "--pseudonymize", "--patient", "demo-00007", "--out", export.path]).status == 0)
        // JSONL keeps each entry's canonical content as a string, to keep the chain checkable.
        let lines = try String(contentsOf: export, encoding: .utf8).split(separator: "\n").compactMap { line -> [String: Any]? in
            guard let o = try? jsonObject(String(line)) as? [String: Any], let content = o["content"] as? String else { return nil }
            return try? jsonObject(content) as? [String: Any]
        }
        let made = try #require(lines.first { $0["event"] as? String == "report.made" })
        let pseudonym = try #require(made["patient"] as? String)
        #expect(pseudonym.hasPrefix("patient-") && html.contains(pseudonym))
        #expect((made["detail"] as? [String: String])?["pseudonymized"] == "true")
    }

    @Test func aSessionsHandoutsAreOneReportPerPatientItLoads() throws {
        let rounds = RoundsProcess(demo: true)
        let session = TestSupport.write("""
        # two patients
        load demo-00042
        recommend
        explain --patient demo-00007
        > narration
        load demo-00042
        """, name: "two.rounds")
        let dir = TestSupport.temporaryDirectory("handouts").appendingPathComponent("out")
        let r = try rounds.run(["report", "--session", session, "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Wrote 2 case reports"))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(files == ["demo-00007.html", "demo-00042.html"])
        // Each is a disclosure on record.
        let export = dir.deletingLastPathComponent().appendingPathComponent("a.jsonl")
        #expect(try rounds.run(["audit", "export", "--format", "jsonl", "--out", export.path]).status == 0)
        let events = try String(contentsOf: export, encoding: .utf8).split(separator: "\n").filter { $0.contains("report.made") }
        #expect(events.count == 2)
        let none = TestSupport.write("patients --limit 1\n", name: "none.rounds")
        let bad = try rounds.run(["report", "--session", none, "--out", dir.path])
        #expect(bad.status != 0 && bad.stderr.contains("loads no patient"))
    }

    @Test func theShellWritesTheLoadedPatientsReport() throws {
        let rounds = RoundsProcess(demo: true)
        let out = TestSupport.temporaryDirectory("report").appendingPathComponent("shell.html")
        let r = try rounds.run([], input: "load demo-00042\nreport --whatif egfr=24 hba1c=9 --out \(out.path)\nreport --whatif egfr=nope --out \(out.path).2\n")
        #expect(r.stdout.contains("Wrote the case report of demo-00042"), "\(r.stdout)\(r.stderr)")
        let html = try String(contentsOf: out, encoding: .utf8)
        #expect(html.contains("id=\"whatif\"") && html.contains("What if egfr=24, hba1c=9"))
        #expect(r.stderr.contains("line 3") && r.stderr.contains("egfr needs a number"))
        #expect(!FileManager.default.fileExists(atPath: out.path + ".2"))
    }
}
