// swift-tools-version:6.0
// Rounds: an explainable clinical decision-support shell.
//
// Modules, each one responsibility; dependencies point one way (see docs/architecture.md):
//   rounds (executable) -> Shell -> Report -> Review;  Shell -> Review, and what the shell shows directly: Explanations, Guidelines, TreatmentModel, Store, Cohort, Patients
//   Review (the review core, no terminal or HTTP) -> Explanations, Guidelines, TreatmentModel, Store, Cohort, Patients
//   CDSHooks (the CDS Hooks service over HTTP: Hummingbird, jwt-kit) -> Review, Report (the cards' report links);  Shell -> CDSHooks (`rounds serve`)
//   Explanations -> TreatmentModel;  Guidelines -> Patients
//   TreatmentModel -> Patients;  Cohort -> Patients;  Store -> Patients;  Learning -> TreatmentModel, Store
import PackageDescription

let package = Package(
    name: "Rounds",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "rounds", targets: ["rounds"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        // 4.x: jwt-kit 5 needs it (the Store's SHA-256 and HMAC read the same in 3.x and 4.x).
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        // The CDS Hooks service: HTTP server, client JWT verification, and the client its tests drive it with.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/vapor/jwt-kit", exact: "5.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
    ],
    targets: [
        // Patient timelines, the knowledge pack's feature and treatment catalogs, FHIR R4 import,
        // and the mapping from a timeline to the model's feature matrix.
        .target(name: "Patients", dependencies: [.product(name: "Yams", package: "Yams")]),
        // OpenBLAS (Debian libopenblas-dev): the matrix products of the model.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // XGBoost's C API (Debian libxgboost-dev): the gradient-boosted trees baseline of `evaluate`.
        .systemLibrary(name: "CXGBoost", pkgConfig: "xgboost", providers: [.apt(["libxgboost-dev"])]),
        // libedit (Debian libedit-dev): line editing, history and completion for the shell.
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        // The GRU-with-attention treatment model: layers with forward and backward side by side,
        // the safetensors file format of the model contract, training.
        .target(name: "TreatmentModel", dependencies: ["Patients", "COpenBLAS", "CKernels", "CXGBoost"]),
        // The model's elementwise kernels (gates, sigmoid, tanh, exp) in C, built for AVX-512, AVX2
        // and the baseline and chosen at run time: Swift compiles a module for one CPU target only.
        .target(name: "CKernels"),
        // Guideline rules (ADA, KDIGO, drug labels): the rule files' language, the checks, the lint.
        .target(name: "Guidelines", dependencies: ["Patients", .product(name: "Yams", package: "Yams")]),
        // Explanations of the model's output: integrated gradients as Captum computes them.
        .target(name: "Explanations", dependencies: ["TreatmentModel"]),
        // The synthetic demo cohort and its treatment-response simulator.
        .target(name: "Cohort", dependencies: ["Patients"]),
        // The embedded SQLite store: migrations, patients, clinicians' decisions, the hash-chained
        // audit log and its export.
        .target(name: "Store", dependencies: ["Patients", .product(name: "GRDB", package: "GRDB.swift"),
                                              .product(name: "GRDBSQLite", package: "GRDB.swift"),
                                              .product(name: "Crypto", package: "swift-crypto")]),
        // Learning from clinicians' decisions: behaviour policy, off-policy estimators, the
        // trust-region policy-gradient update.
        .target(name: "Learning", dependencies: ["TreatmentModel", "Store", "Patients"]),
        // The review core every front end shares: the audited opening of pack, store and model
        // (`Workspace`), who reviews (`Reviewer`), one patient through the model and the
        // guidelines (`PatientAnalysis`), the recording of decisions (`Decider`). No terminal, no HTTP.
        .target(name: "Review", dependencies: ["Patients", "Cohort", "Store", "TreatmentModel", "Guidelines", "Explanations"]),
        // The CDS Hooks 2.0 service on the review core: discovery, hook calls answered with cards,
        // feedback recorded as decisions, clients' signed JWTs verified; HTTP through Hummingbird.
        .target(name: "CDSHooks", dependencies: [
            "Review", "Report", "Patients", "Store", "Guidelines", "Explanations", "TreatmentModel",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "Yams", package: "Yams"),
        ]),
        // The case report: one self-contained HTML page per patient (inline SVG charts, tables
        // behind them, print styles), drawn from the review core's analysis. No terminal.
        .target(name: "Report", dependencies: ["Review", "Patients", "Store", "TreatmentModel", "Guidelines", "Explanations"]),
        // Commands (system shell and the interactive shell) and terminal rendering.
        .target(name: "Shell", dependencies: [
            "Review", "CDSHooks", "Report", "Patients", "Cohort", "Store", "TreatmentModel", "Guidelines", "Explanations", "Learning", "CEditLine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "rounds", dependencies: ["Shell", "CKernels"]),
        // The CDS Hooks load test on loopback (BENCHMARKS.md): `swift run -c release rounds-cds-load`.
        .executableTarget(name: "rounds-cds-load", dependencies: ["CDSHooks", "CKernels", "Review", "Store", "Patients",
                                                                  .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                                  .product(name: "JWTKit", package: "jwt-kit")],
                          path: "benchmarks/cds-hooks/load"),

        .target(name: "TestSupport", dependencies: ["Patients"], path: "Tests/TestSupport"),
        .testTarget(name: "PatientsTests", dependencies: ["Patients", "TestSupport"]),
        .testTarget(name: "TreatmentModelTests", dependencies: ["TreatmentModel", "CKernels", "Patients", "Cohort", "TestSupport"]),
        .testTarget(name: "GuidelinesTests", dependencies: ["Guidelines", "Patients", "TestSupport"]),
        .testTarget(name: "ExplanationsTests", dependencies: ["Explanations", "TreatmentModel", "Patients", "Cohort", "TestSupport"]),
        .testTarget(name: "CohortTests", dependencies: ["Cohort", "Patients", "TestSupport"]),
        .testTarget(name: "LearningTests", dependencies: ["Learning", "TreatmentModel", "Store", "Patients", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Cohort", "Patients", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        // Runs the real `rounds` executable, so it depends on it to have it built.
        // Starts the real service on a loopback port and drives it with a real HTTP client.
        .testTarget(name: "CDSHooksTests", dependencies: ["CDSHooks", "Review", "Store", "Patients", "TestSupport", "rounds",
                                                     .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                     .product(name: "JWTKit", package: "jwt-kit"),
                                                     .product(name: "Crypto", package: "swift-crypto"),
                                                     .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "ShellTests", dependencies: ["Shell", "Store", "Patients", "TreatmentModel", "TestSupport", "rounds",
                                                   .product(name: "GRDB", package: "GRDB.swift")]),
    ]
)
