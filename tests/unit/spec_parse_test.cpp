// parse_repository_spec: valid files of each kind, every class of mistake with its position
// and wording, and hostile input that must neither crash nor throw.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "spec/repository_spec.h"

namespace slipway {
namespace {

ParsedSpec parse(std::string_view text) { return parse_repository_spec(text, ".slipway.yml"); }

std::string all_messages(const ParsedSpec& parsed) {
  std::string out;
  for (const auto& d : parsed.diagnostics) out += d.to_string() + "\n";
  return out;
}

// True when some diagnostic contains `fragment`, at `line`:`column` when those are given.
::testing::AssertionResult has_diagnostic(const ParsedSpec& parsed, std::string_view fragment, int line = -1,
                                          int column = -1) {
  for (const auto& d : parsed.diagnostics) {
    if (d.message.find(fragment) == std::string::npos) continue;
    if ((line < 0 || d.line == line) && (column < 0 || d.column == column)) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no diagnostic '" << fragment << "' at " << line << ":" << column
                                       << "; got:\n" << all_messages(parsed);
}

// The smallest valid application, for tests that change one thing.
const char* kMinimalApplication = R"(kind: application
test:
  suites:
    unit: make test
publish:
  image: { repository: hello-app }
)";

TEST(SpecParse, FullApplication) {
  auto parsed = parse(R"(kind: application
test:
  setup: make init
  env: { DATABASE_URL: "postgresql://localhost/test" }
  services:
    db: { run: "scripts/start-test-db", ready: "pg_isready -h 127.0.0.1", ready_timeout: 30s }
  suites:
    unit:        { run: make test-unit,        junit: reports/unit.xml, timeout: 5m }
    integration: { run: make test-integration, junit: reports/integration.xml }
    acceptance:  { run: make test-acceptance,  junit: "reports/acceptance/*.xml" }
  timeout: 45m
  network: none
publish:
  image: { dockerfile: Dockerfile, target: production, repository: hello-app, context: . }
  secrets: [NPM_TOKEN]
deploy:
  health: { path: /healthz, interval: 2s, timeout: 3s, healthy: 4, unhealthy: 5 }
  bake: 40s
  drain: 0s
  retain: 2
  verify: "curl -fsS http://$SLIPWAY_TEST_URL/health"
  secrets: [DATABASE_URL]
)");
  ASSERT_TRUE(parsed.ok()) << all_messages(parsed);
  const RepositorySpec& spec = *parsed.spec;
  EXPECT_EQ(spec.kind, Kind::application);
  EXPECT_EQ(spec.test.setup, "make init");
  EXPECT_EQ(spec.test.env.at("DATABASE_URL"), "postgresql://localhost/test");
  ASSERT_EQ(spec.test.services.size(), 1u);
  EXPECT_EQ(spec.test.services[0].name, "db");
  EXPECT_EQ(spec.test.services[0].run, "scripts/start-test-db");
  EXPECT_EQ(spec.test.services[0].ready, "pg_isready -h 127.0.0.1");
  EXPECT_EQ(spec.test.services[0].ready_timeout, Milliseconds(30'000));
  ASSERT_EQ(spec.test.suites.size(), 3u);
  EXPECT_EQ(spec.test.suites[0].name, "unit");  // file order, not alphabetical
  EXPECT_EQ(spec.test.suites[0].run, "make test-unit");
  EXPECT_EQ(spec.test.suites[0].junit, "reports/unit.xml");
  EXPECT_EQ(spec.test.suites[0].timeout, Milliseconds(300'000));
  EXPECT_EQ(spec.test.suites[1].name, "integration");
  EXPECT_FALSE(spec.test.suites[1].timeout.has_value());
  EXPECT_EQ(spec.test.suites[2].name, "acceptance");
  EXPECT_EQ(spec.test.suites[2].junit, "reports/acceptance/*.xml");
  EXPECT_EQ(spec.test.timeout, Milliseconds(45 * 60'000));
  EXPECT_TRUE(spec.test.network_none);
  ASSERT_TRUE(spec.publish && spec.publish->image);
  EXPECT_EQ(spec.publish->image->dockerfile, "Dockerfile");
  EXPECT_EQ(spec.publish->image->target, "production");
  EXPECT_EQ(spec.publish->image->repository, "hello-app");
  EXPECT_EQ(spec.publish->image->context, ".");
  EXPECT_EQ(spec.publish->secrets, std::vector<std::string>{"NPM_TOKEN"});
  ASSERT_TRUE(spec.deploy.has_value());
  EXPECT_EQ(spec.deploy->health.path, "/healthz");
  EXPECT_EQ(spec.deploy->health.interval, Milliseconds(2000));
  EXPECT_EQ(spec.deploy->health.timeout, Milliseconds(3000));
  EXPECT_EQ(spec.deploy->health.healthy, 4);
  EXPECT_EQ(spec.deploy->health.unhealthy, 5);
  EXPECT_EQ(spec.deploy->bake, Milliseconds(40'000));
  EXPECT_EQ(spec.deploy->drain, Milliseconds(0));
  EXPECT_EQ(spec.deploy->retain, 2);
  EXPECT_EQ(spec.deploy->verify, "curl -fsS http://$SLIPWAY_TEST_URL/health");
  EXPECT_EQ(spec.deploy->secrets, std::vector<std::string>{"DATABASE_URL"});
  EXPECT_TRUE(spec.tasks.empty());
}

TEST(SpecParse, MinimalApplicationGetsDefaults) {
  auto parsed = parse(kMinimalApplication);
  ASSERT_TRUE(parsed.ok()) << all_messages(parsed);
  const RepositorySpec& spec = *parsed.spec;
  EXPECT_EQ(spec.test.suites[0].run, "make test");
  EXPECT_EQ(spec.test.timeout, Milliseconds(30 * 60'000));
  EXPECT_FALSE(spec.test.network_none);
  EXPECT_EQ(spec.publish->image->dockerfile, "Dockerfile");
  EXPECT_EQ(spec.publish->image->context, ".");
  ASSERT_TRUE(spec.deploy.has_value());  // an application always deploys, with defaults
  EXPECT_EQ(spec.deploy->health.path, "/health");
  EXPECT_EQ(spec.deploy->bake, Milliseconds(30'000));
  EXPECT_EQ(spec.deploy->retain, 1);
}

TEST(SpecParse, FullDataTask) {
  auto parsed = parse(R"(kind: data-task
test:
  services:
    minio: scripts/start-minio
  suites:
    unit: pytest tests/unit
publish:
  image: { repository: team/ingest }
  dags: { from: dags/, prefix: dags/ }
  functions:
    - { name: ingest, from: functions/ingest }
    - name: export
      from: functions/export
tasks:
  nightly:
    command: [python, -m, job]
    env: { MODE: full }
    secrets: [WAREHOUSE_URL]
    cpus: 0.5
    memory: 512m
    timeout: 10m
  backfill:
    command: [python, -m, backfill]
    image: team/backfill
    memory: 1G
)");
  ASSERT_TRUE(parsed.ok()) << all_messages(parsed);
  const RepositorySpec& spec = *parsed.spec;
  EXPECT_EQ(spec.kind, Kind::data_task);
  EXPECT_EQ(spec.test.services[0].run, "scripts/start-minio");
  EXPECT_EQ(spec.test.services[0].ready_timeout, Milliseconds(60'000));
  EXPECT_EQ(spec.publish->image->repository, "team/ingest");
  ASSERT_TRUE(spec.publish->dags.has_value());
  EXPECT_EQ(spec.publish->dags->from, "dags/");
  EXPECT_EQ(spec.publish->dags->prefix, "dags/");
  ASSERT_EQ(spec.publish->functions.size(), 2u);
  EXPECT_EQ(spec.publish->functions[0].name, "ingest");
  EXPECT_EQ(spec.publish->functions[0].from, "functions/ingest");
  EXPECT_EQ(spec.publish->functions[1].name, "export");
  EXPECT_FALSE(spec.deploy.has_value());
  ASSERT_EQ(spec.tasks.size(), 2u);
  const TaskSpec& nightly = spec.tasks[0];
  EXPECT_EQ(nightly.name, "nightly");
  EXPECT_EQ(nightly.command, (std::vector<std::string>{"python", "-m", "job"}));
  EXPECT_EQ(nightly.env.at("MODE"), "full");
  EXPECT_EQ(nightly.secrets, std::vector<std::string>{"WAREHOUSE_URL"});
  EXPECT_EQ(nightly.image, "team/ingest");  // publish.image.repository by default
  EXPECT_DOUBLE_EQ(nightly.cpus, 0.5);
  EXPECT_EQ(nightly.memory_bytes, 512 * 1024 * 1024);
  EXPECT_EQ(nightly.timeout, Milliseconds(600'000));
  EXPECT_EQ(spec.tasks[1].image, "team/backfill");
  EXPECT_EQ(spec.tasks[1].memory_bytes, int64_t{1} << 30);
  EXPECT_EQ(spec.tasks[1].cpus, 0);
  EXPECT_FALSE(spec.tasks[1].timeout.has_value());
}

TEST(SpecParse, FullLibraryWithBump) {
  auto parsed = parse(R"(kind: library
test:
  suites: { unit: cargo test }
publish:
  tag: { bump: minor }
)");
  ASSERT_TRUE(parsed.ok()) << all_messages(parsed);
  EXPECT_EQ(parsed.spec->kind, Kind::library);
  ASSERT_TRUE(parsed.spec->publish->tag.has_value());
  EXPECT_EQ(parsed.spec->publish->tag->bump, "minor");
  EXPECT_EQ(parsed.spec->publish->tag->version_file, "");
  EXPECT_FALSE(parsed.spec->deploy.has_value());
  EXPECT_FALSE(parsed.spec->publish->image.has_value());
}

TEST(SpecParse, LibraryWithVersionFile) {
  auto parsed = parse("kind: library\ntest: { suites: { unit: make } }\npublish: { tag: { version_file: VERSION } }\n");
  ASSERT_TRUE(parsed.ok()) << all_messages(parsed);
  EXPECT_EQ(parsed.spec->publish->tag->version_file, "VERSION");
  EXPECT_EQ(parsed.spec->publish->tag->bump, "");
}

TEST(SpecParse, KindNames) {
  EXPECT_EQ(kind_name(Kind::application), "application");
  EXPECT_EQ(kind_name(Kind::data_task), "data-task");
  EXPECT_EQ(kind_name(Kind::library), "library");
}

TEST(SpecParse, DiagnosticToString) {
  EXPECT_EQ((Diagnostic{".slipway.yml", 7, 5, "oops"}).to_string(), ".slipway.yml:7:5: oops");
  EXPECT_EQ((Diagnostic{".slipway.yml", 0, 0, "oops"}).to_string(), ".slipway.yml: oops");
}

// --- unknown keys and "did you mean" ---

TEST(SpecParse, UnknownKeySuggestsClosest) {
  auto parsed = parse("kind: application\npublish: { image: { repository: app } }\ntest:\n  suits:\n    unit: make\n");
  ASSERT_FALSE(parsed.ok());
  bool found = false;
  for (const auto& d : parsed.diagnostics) {
    if (d.to_string() == ".slipway.yml:4:3: unknown key 'suits' in 'test'; did you mean 'suites'?") found = true;
  }
  EXPECT_TRUE(found) << all_messages(parsed);
  EXPECT_TRUE(has_diagnostic(parsed, "'test' is missing 'suites'", 3, 1));
}

TEST(SpecParse, UnknownKeyWithoutCloseMatchHasNoHint) {
  auto parsed = parse(std::string(kMinimalApplication) + "frobnicate: 1\n");
  ASSERT_TRUE(has_diagnostic(parsed, "unknown key 'frobnicate' at the top level", 7, 1));
  EXPECT_EQ(parsed.diagnostics.size(), 1u);
  EXPECT_EQ(parsed.diagnostics[0].message.find("did you mean"), std::string::npos);
}

TEST(SpecParse, UnknownKeyDeepInside) {
  auto parsed = parse(R"(kind: application
test: { suites: { unit: { run: make, junti: out.xml } } }
publish: { image: { repository: app, dockerfil: Dockerfile } }
deploy: { health: { helthy: 3 } }
)");
  EXPECT_TRUE(has_diagnostic(parsed, "unknown key 'junti' in 'test.suites.unit'; did you mean 'junit'?", 2, 38));
  EXPECT_TRUE(has_diagnostic(parsed, "unknown key 'dockerfil' in 'publish.image'; did you mean 'dockerfile'?", 3, 38));
  EXPECT_TRUE(has_diagnostic(parsed, "unknown key 'helthy' in 'deploy.health'; did you mean 'healthy'?", 4, 21));
}

// --- kind ---

TEST(SpecParse, UnknownKindSuggestsAndListsKinds) {
  auto parsed = parse("kind: aplication\ntest: { suites: { unit: make } }\n");
  ASSERT_EQ(parsed.diagnostics.size(), 1u) << all_messages(parsed);
  EXPECT_EQ(parsed.diagnostics[0].to_string(),
            ".slipway.yml:1:7: unknown kind 'aplication' (expected application, data-task or library); "
            "did you mean 'application'?");
}

TEST(SpecParse, MissingKind) {
  auto parsed = parse("test: { suites: { unit: make } }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "the file is missing 'kind'", 1, 1));
  EXPECT_TRUE(has_diagnostic(parsed, "data-task"));
}

TEST(SpecParse, KindMustBeAString) {
  auto parsed = parse("kind: [application]\ntest: { suites: { unit: make } }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "'kind' must be a string, found a list", 1, 7));
}

// --- malformed YAML, empty files, wrong roots ---

TEST(SpecParse, UnclosedQuote) {
  auto parsed = parse("kind: \"application\ntest:\n  suites: { unit: make }\n");
  ASSERT_EQ(parsed.diagnostics.size(), 1u) << all_messages(parsed);
  EXPECT_EQ(parsed.diagnostics[0].to_string(),
            ".slipway.yml:1:7: unclosed quote: the string that starts here runs to the end of the file");
}

TEST(SpecParse, UnclosedQuoteInNestedValue) {
  auto parsed = parse("kind: application\ntest:\n  suites:\n    unit: 'make test\n");
  EXPECT_TRUE(has_diagnostic(parsed, "unclosed quote", 4, 11));
  // Closed quotes with escapes inside are fine.
  EXPECT_TRUE(parse(std::string(kMinimalApplication) + "deploy: { verify: \"echo \\\"hi\\\"\" }\n").ok());
  EXPECT_TRUE(parse(std::string(kMinimalApplication) + "deploy: { verify: 'it''s fine' }\n").ok());
}

TEST(SpecParse, TabIndentation) {
  auto parsed = parse("kind: application\ntest:\n\tsuites:\n\t\tunit: make\n");
  ASSERT_EQ(parsed.diagnostics.size(), 1u) << all_messages(parsed);
  EXPECT_TRUE(has_diagnostic(parsed, "a tab is used for indentation; indent with spaces", 3, 1));
}

TEST(SpecParse, StrayColons) {
  auto parsed = parse("kind: application\ntest: : :\n");
  ASSERT_EQ(parsed.diagnostics.size(), 1u) << all_messages(parsed);
  EXPECT_TRUE(has_diagnostic(parsed, "invalid YAML: unexpected ':'; a value containing ': ' must be quoted", 2, 7));
}

TEST(SpecParse, UnclosedFlowMapping) {
  auto parsed = parse("kind: application\ntest: { suites: { unit: make }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "invalid YAML: a '{' mapping is not closed with '}'"));
}

TEST(SpecParse, BadIndentation) {
  auto parsed = parse("kind: application\ntest:\n  suites:\n    unit: x\n   bad: y\n");
  EXPECT_TRUE(has_diagnostic(parsed, "not indented like the keys around it", 5, 4));
}

TEST(SpecParse, EmptyFile) {
  for (const char* text : {"", "\n\n", "# only a comment\n", "~\n"}) {
    auto parsed = parse(text);
    ASSERT_EQ(parsed.diagnostics.size(), 1u) << text;
    EXPECT_TRUE(has_diagnostic(parsed, "the file is empty")) << text;
  }
}

TEST(SpecParse, RootMustBeAMapping) {
  EXPECT_TRUE(has_diagnostic(parse("- kind: application\n"), "the file must be a mapping of keys", 1, 1));
  EXPECT_TRUE(has_diagnostic(parse("just some text\n"), "found 'just some text'", 1, 1));
}

TEST(SpecParse, SeveralDocuments) {
  auto parsed = parse(std::string(kMinimalApplication) + "---\nkind: library\n");
  EXPECT_TRUE(has_diagnostic(parsed, "more than one YAML document"));
}

// --- wrong types and bad values ---

TEST(SpecParse, MappingWhereStringExpected) {
  auto parsed = parse("kind: application\npublish: { image: { repository: a } }\ntest:\n  suites:\n    unit: { run: { make: test } }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "'test.suites.unit.run' must be a string, found a mapping", 5, 18));
}

TEST(SpecParse, ListWhereMappingExpected) {
  auto parsed = parse("kind: application\npublish: { image: { repository: a } }\ntest: [unit, integration]\n");
  EXPECT_TRUE(has_diagnostic(parsed, "'test' must be a mapping, found a list", 3, 7));
}

TEST(SpecParse, SuitesListIsNotAMapping) {
  auto parsed = parse("kind: application\npublish: { image: { repository: a } }\ntest:\n  suites: [make test]\n");
  EXPECT_TRUE(has_diagnostic(parsed, "'test.suites' must be a mapping of suite names to their settings, found a list", 4, 11));
}

TEST(SpecParse, HealthCountsMustBeWholePositiveNumbers) {
  auto parsed = parse(std::string(kMinimalApplication) + "deploy:\n  health: { healthy: three, unhealthy: 0 }\n  retain: -1\n");
  EXPECT_TRUE(has_diagnostic(parsed, "'deploy.health.healthy' must be a whole number of at least 1, found 'three'", 8, 22));
  EXPECT_TRUE(has_diagnostic(parsed, "'deploy.health.unhealthy' must be a whole number of at least 1, found '0'", 8, 40));
  EXPECT_TRUE(has_diagnostic(parsed, "'deploy.retain' must be a whole number of at least 0, found '-1'", 9, 11));
  EXPECT_TRUE(has_diagnostic(parse(std::string(kMinimalApplication) + "deploy: { health: { healthy: 2.5 } }\n"),
                             "found '2.5'"));
}

TEST(SpecParse, BadDurationsUseParseDurationMessage) {
  auto parsed = parse("kind: application\npublish: { image: { repository: a } }\ntest:\n  timeout: 30\n  suites: { unit: make }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "'test.timeout': invalid duration '30': use a number with a unit", 4, 12));
}

TEST(SpecParse, ZeroTimeoutsAreRefused) {
  auto parsed = parse(std::string(kMinimalApplication) + "deploy: { health: { interval: 0s } }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "'deploy.health.interval' must be longer than 0s", 7, 31));
}

TEST(SpecParse, NetworkMustBeOutboundOrNone) {
  auto parsed = parse("kind: application\npublish: { image: { repository: a } }\ntest: { suites: { unit: make }, network: hosts }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "unknown network 'hosts' (expected outbound or none)", 3, 42));
  auto earlier = parse("kind: application\npublish: { image: { repository: a } }\ntest: { suites: { unit: make }, network: host }\n");
  EXPECT_TRUE(earlier.ok()) << all_messages(earlier);
  EXPECT_FALSE(earlier.spec->test.network_none);
  auto swapped = parse("kind: application\npublish: { image: { repository: a } }\ntest: { suites: { unit: make }, network: nnoe }\n");
  EXPECT_TRUE(has_diagnostic(swapped, "unknown network 'nnoe' (expected outbound or none); did you mean 'none'?", 3, 42));
  auto far = parse("kind: application\npublish: { image: { repository: a } }\ntest: { suites: { unit: make }, network: bridge }\n");
  EXPECT_TRUE(has_diagnostic(far, "unknown network 'bridge' (expected outbound or none)", 3, 42));
  EXPECT_EQ(far.diagnostics[0].message.find("did you mean"), std::string::npos);
}

TEST(SpecParse, BumpMustBeMajorMinorOrPatch) {
  auto parsed = parse("kind: library\ntest: { suites: { unit: make } }\npublish: { tag: { bump: pach } }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "unknown bump 'pach' (expected major, minor or patch); did you mean 'patch'?", 3, 25));
}

TEST(SpecParse, TaskResourceValues) {
  auto parsed = parse(R"(kind: data-task
test: { suites: { unit: make } }
publish: { image: { repository: jobs } }
tasks:
  a: { command: [run], memory: 512x, cpus: -1 }
  b: { command: [run], memory: 0, cpus: lots }
  c: { command: "python -m job" }
  d: { command: [] }
)");
  EXPECT_TRUE(has_diagnostic(parsed, "'tasks.a.memory': invalid memory size '512x'", 5, 32));
  EXPECT_TRUE(has_diagnostic(parsed, "'tasks.a.cpus' must be a number greater than 0, found '-1'", 5, 44));
  EXPECT_TRUE(has_diagnostic(parsed, "memory size '0' must be greater than 0", 6, 32));
  EXPECT_TRUE(has_diagnostic(parsed, "found 'lots'", 6, 41));
  EXPECT_TRUE(has_diagnostic(parsed, "'tasks.c.command' must be a list of arguments", 7, 17));
  EXPECT_TRUE(has_diagnostic(parsed, "'tasks.d.command' is empty", 8, 17));
}

TEST(SpecParse, EnvValuesMustBeStrings) {
  auto parsed = parse("kind: application\npublish: { image: { repository: a } }\ntest:\n  env: { A: [1, 2], 9B: x }\n  suites: { unit: make }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "'test.env.A' must be a string, found a list", 4, 13));
  EXPECT_TRUE(has_diagnostic(parsed, "invalid environment variable name '9B'", 4, 21));
}

TEST(SpecParse, HealthPathStartsWithSlash) {
  auto parsed = parse(std::string(kMinimalApplication) + "deploy: { health: { path: health } }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "'deploy.health.path' must start with '/'", 7, 27));
}

TEST(SpecParse, ImageRepositoryName) {
  auto parsed = parse("kind: application\ntest: { suites: { unit: make } }\npublish: { image: { repository: Hello App } }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "invalid image repository 'Hello App'", 3, 33));
}

// --- required things ---

TEST(SpecParse, SuitesRequiredAndNotEmpty) {
  auto missing = parse("kind: application\npublish: { image: { repository: a } }\ntest: { setup: make init }\n");
  EXPECT_TRUE(has_diagnostic(missing, "'test' is missing 'suites'", 3, 1));
  auto empty = parse("kind: application\npublish: { image: { repository: a } }\ntest: { suites: {} }\n");
  EXPECT_TRUE(has_diagnostic(empty, "'test.suites' is empty", 3, 9));
  auto no_test = parse("kind: application\npublish: { image: { repository: a } }\n");
  EXPECT_TRUE(has_diagnostic(no_test, "the file is missing 'test'", 1, 1));
}

TEST(SpecParse, SuiteAndServiceNeedRun) {
  auto parsed = parse(R"(kind: application
publish: { image: { repository: a } }
test:
  services:
    db: { ready: pg_isready }
    cache: ""
  suites:
    unit: { junit: out.xml }
    lint: "  "
)");
  EXPECT_TRUE(has_diagnostic(parsed, "'test.services.db' is missing 'run' or 'image'", 5, 5));
  EXPECT_TRUE(has_diagnostic(parsed, "'test.services.cache' is empty", 6, 12));
  EXPECT_TRUE(has_diagnostic(parsed, "'test.suites.unit' is missing 'run'", 8, 5));
  EXPECT_TRUE(has_diagnostic(parsed, "'test.suites.lint' is empty", 9, 11));
}

TEST(SpecParse, ImageServicesNameAnImageAndTheirEnv) {
  auto parsed = parse(R"(kind: library
test:
  services:
    db:
      image: postgis/postgis:13
      env: { POSTGRES_PASSWORD: test }
      ready: pg_isready -h 127.0.0.1
    cache: { image: "127.0.0.1:5000/cache@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" }
    local: { image: slipway-test/service }
  suites:
    unit: make test
)");
  ASSERT_TRUE(parsed.ok()) << all_messages(parsed);
  const auto& services = parsed.spec->test.services;
  ASSERT_EQ(services.size(), 3u);
  EXPECT_EQ(services[0].image, "postgis/postgis:13");
  EXPECT_EQ(services[0].run, "");
  EXPECT_EQ(services[0].env.at("POSTGRES_PASSWORD"), "test");
  EXPECT_EQ(services[0].ready, "pg_isready -h 127.0.0.1");
  EXPECT_EQ(services[1].image.substr(0, 21), "127.0.0.1:5000/cache@");
  EXPECT_EQ(services[2].image, "slipway-test/service");
}

TEST(SpecParse, AServiceIsEitherACommandOrAnImage) {
  auto parsed = parse(R"(kind: library
test:
  services:
    both: { run: start-db, image: postgres:13 }
    neither: { env: { A: b } }
    command: { run: start-db, env: { A: b } }
    badname: { image: "Postgres:13" }
    badtag: { image: "postgres:-13" }
    baddigest: { image: "postgres@sha256:abc" }
    empty: { image: "" }
    badenv: { image: postgres, env: { 1A: b } }
  suites:
    unit: make test
)");
  EXPECT_FALSE(parsed.ok());
  EXPECT_TRUE(has_diagnostic(parsed, "'test.services.both' has both 'run' and 'image'", 4, 28));
  EXPECT_TRUE(has_diagnostic(parsed, "'test.services.neither' is missing 'run' or 'image'", 5, 5));
  EXPECT_TRUE(has_diagnostic(parsed, "'test.services.neither.env' is for image services", 5, 16));
  EXPECT_TRUE(has_diagnostic(parsed, "'test.services.command.env' is for image services", 6, 31));
  EXPECT_TRUE(has_diagnostic(parsed, "'test.services.badname.image': image reference 'Postgres:13' is invalid", 7, 23));
  EXPECT_TRUE(has_diagnostic(parsed, "invalid tag", 8, 22));
  EXPECT_TRUE(has_diagnostic(parsed, "64 lowercase hex", 9, 25));
  EXPECT_TRUE(has_diagnostic(parsed, "'test.services.empty.image' is empty", 10, 21));
  EXPECT_TRUE(has_diagnostic(parsed, "invalid environment variable name '1A'", 11, 39));
}

TEST(SpecParse, ImageNeedsRepository) {
  auto parsed = parse("kind: application\ntest: { suites: { unit: make } }\npublish:\n  image: { dockerfile: Dockerfile }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "'publish.image' is missing 'repository'", 4, 3));
}

TEST(SpecParse, FunctionsNeedNameAndFrom) {
  auto parsed = parse("kind: data-task\ntest: { suites: { unit: make } }\npublish:\n  functions:\n    - { from: f }\n    - name: g\n");
  EXPECT_TRUE(has_diagnostic(parsed, "'publish.functions[0]' is missing 'name'", 5, 7));
  EXPECT_TRUE(has_diagnostic(parsed, "'publish.functions[1]' is missing 'from'", 6, 7));
}

// --- kind rules ---

TEST(SpecParse, DeployOnlyForApplications) {
  auto parsed = parse("kind: library\ntest: { suites: { unit: make } }\npublish: { tag: { bump: patch } }\ndeploy: { bake: 1s }\n");
  ASSERT_EQ(parsed.diagnostics.size(), 1u) << all_messages(parsed);
  EXPECT_EQ(parsed.diagnostics[0].to_string(),
            ".slipway.yml:4:1: 'deploy' is only for kind application (this file is kind 'library')");
}

TEST(SpecParse, DataTaskSectionsOnlyForDataTasks) {
  auto parsed = parse(R"(kind: application
test: { suites: { unit: make } }
publish:
  image: { repository: app }
  dags: { from: dags }
  functions: []
  tag: { bump: patch }
tasks: { t: { command: [x] } }
)");
  EXPECT_TRUE(has_diagnostic(parsed, "'publish.dags' is only for kind data-task (this file is kind 'application')", 5, 3));
  EXPECT_TRUE(has_diagnostic(parsed, "'publish.functions' is only for kind data-task", 6, 3));
  EXPECT_TRUE(has_diagnostic(parsed, "'publish.tag' is only for kind library", 7, 3));
  EXPECT_TRUE(has_diagnostic(parsed, "'tasks' is only for kind data-task", 8, 1));
}

TEST(SpecParse, NoImageForLibraries) {
  auto parsed = parse("kind: library\ntest: { suites: { unit: make } }\npublish:\n  tag: { bump: patch }\n  image: { repository: lib }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "'publish.image' is only for kind application or data-task (this file is kind 'library')", 5, 3));
}

TEST(SpecParse, TagNeedsExactlyOneOfBumpAndVersionFile) {
  auto both = parse("kind: library\ntest: { suites: { unit: make } }\npublish:\n  tag: { bump: patch, version_file: VERSION }\n");
  EXPECT_TRUE(has_diagnostic(both, "takes either 'bump' or 'version_file', not both", 4, 23));
  auto neither = parse("kind: library\ntest: { suites: { unit: make } }\npublish:\n  tag: {}\n");
  EXPECT_TRUE(has_diagnostic(neither, "'publish.tag' needs 'bump' (major, minor or patch) or 'version_file'", 4, 3));
}

TEST(SpecParse, WithoutPublishARepositoryIsTestOnly) {
  for (const char* kind : {"application", "data-task", "library"}) {
    auto parsed = parse(std::string("kind: ") + kind + "\ntest: { suites: { unit: make } }\n");
    EXPECT_TRUE(parsed.ok()) << kind;
  }
}

TEST(SpecParse, APublishSectionMustPublishSomethingOfItsKind) {
  auto application = parse("kind: application\ntest: { suites: { unit: make } }\npublish: { secrets: [A] }\n");
  EXPECT_TRUE(has_diagnostic(application, "nothing to publish: an application publishes a container image", 3, 1));
  auto library = parse("kind: library\ntest: { suites: { unit: make } }\npublish: { secrets: [A] }\n");
  EXPECT_TRUE(has_diagnostic(library, "a library publishes a version tag", 3, 1));
  auto data_task = parse("kind: data-task\ntest: { suites: { unit: make } }\npublish: { secrets: [A] }\n");
  EXPECT_TRUE(has_diagnostic(data_task, "a data task publishes at least one of"));
}

TEST(SpecParse, TaskWithoutAnyImage) {
  auto parsed = parse("kind: data-task\ntest: { suites: { unit: make } }\npublish: { dags: { from: dags } }\ntasks:\n  t: { command: [x] }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "task 't' has no image", 5, 3));
}

// --- names, paths, secrets ---

TEST(SpecParse, InvalidAndDuplicateNames) {
  auto parsed = parse(R"(kind: data-task
test:
  suites:
    unit: make
    "my suite": make
    unit: make again
publish:
  image: { repository: j }
  functions:
    - { name: f, from: a }
    - { name: f, from: b }
    - { name: "f/x", from: c }
    - { name: "..", from: d }
tasks: { "t t": { command: [x] }, ".": { command: [y] } }
)");
  EXPECT_TRUE(has_diagnostic(parsed, "invalid suite name 'my suite' in 'test.suites'", 5, 5));
  EXPECT_TRUE(has_diagnostic(parsed, "duplicate key 'unit' in 'test.suites' (first written on line 4)", 6, 5));
  EXPECT_TRUE(has_diagnostic(parsed, "function 'f' is declared twice in 'publish.functions'", 11, 15));
  EXPECT_TRUE(has_diagnostic(parsed, "invalid function name 'f/x'", 12, 15));
  EXPECT_TRUE(has_diagnostic(parsed, "invalid function name '..': use letters, digits, '_', '.' and '-' (not '.' or "
                                     "'..' alone)", 13, 15));
  EXPECT_TRUE(has_diagnostic(parsed, "invalid task name 't t'", 14, 10));
  // A name that is a folder above or this one would be one in the paths names become.
  EXPECT_TRUE(has_diagnostic(parsed, "invalid task name '.'", 14, 35));
}

TEST(SpecParse, PathsMustStayInTheWorkspace) {
  auto parsed = parse(R"(kind: data-task
test:
  suites:
    unit: { run: make, junit: /tmp/out.xml }
    e2e: { run: make, junit: "reports/../../etc/*.xml" }
publish:
  dags: { from: ../shared-dags }
  functions: [{ name: f, from: /srv/functions }]
)");
  EXPECT_TRUE(has_diagnostic(parsed, "'test.suites.unit.junit': '/tmp/out.xml' is absolute", 4, 31));
  EXPECT_TRUE(has_diagnostic(parsed, "'test.suites.e2e.junit': 'reports/../../etc/*.xml' leaves the repository", 5, 30));
  EXPECT_TRUE(has_diagnostic(parsed, "'publish.dags.from': '../shared-dags' leaves the repository", 7, 17));
  EXPECT_TRUE(has_diagnostic(parsed, "'publish.functions[0].from': '/srv/functions' is absolute", 8, 32));
  auto library = parse("kind: library\ntest: { suites: { unit: make } }\npublish: { tag: { version_file: /VERSION } }\n");
  EXPECT_TRUE(has_diagnostic(library, "'publish.tag.version_file': '/VERSION' is absolute", 3, 33));
}

TEST(SpecParse, SecretNames) {
  auto parsed = parse(std::string(kMinimalApplication) + "deploy: { secrets: [GOOD_1, bad-name, 1BAD, GOOD_1] }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "invalid secret name 'bad-name' in 'deploy.secrets'", 7, 29));
  EXPECT_TRUE(has_diagnostic(parsed, "invalid secret name '1BAD'", 7, 39));
  EXPECT_TRUE(has_diagnostic(parsed, "secret 'GOOD_1' is listed twice", 7, 45));
}

// --- all problems at once, in file order ---

// Dropping an unknown key once shifted the other entries by YAML::Node assignment, which
// rewrote the document: 'timeout' then read the value of the key after it.
TEST(SpecParse, DroppingAKeyLeavesTheOthersIntact) {
  auto parsed = parse("kind: application\npublish: { image: { repository: a } }\ntest:\n  suits: x\n  timeout: 30\n  network: hots\n  suites: { unit: make }\n");
  EXPECT_TRUE(has_diagnostic(parsed, "'test.timeout': invalid duration '30'", 5, 12));
  EXPECT_TRUE(has_diagnostic(parsed, "unknown network 'hots'", 6, 12));
  EXPECT_EQ(parsed.diagnostics.size(), 3u) << all_messages(parsed);
}

TEST(SpecParse, CollectsEveryProblemInFileOrder) {
  auto parsed = parse(R"(kind: application
test:
  suits: {}
  timeout: soon
publish:
  image: { repository: a }
deploy:
  bake: forever
  colour: blue
)");
  ASSERT_EQ(parsed.diagnostics.size(), 5u) << all_messages(parsed);
  for (size_t i = 1; i < parsed.diagnostics.size(); ++i) {
    EXPECT_LE(parsed.diagnostics[i - 1].line, parsed.diagnostics[i].line);
  }
  EXPECT_FALSE(parsed.spec.has_value());
}

// --- hostile input ---

TEST(SpecParse, RandomMegabyteDoesNotCrash) {
  std::mt19937 random(20240601);
  const std::string yaml_alphabet = ":-[]{}\"'\n #&*!|>,?%@`abc\t\\";
  for (int round = 0; round < 6; ++round) {
    std::string text(1 << 20, ' ');
    for (auto& c : text) {
      c = round % 2 ? static_cast<char>(random()) : yaml_alphabet[random() % yaml_alphabet.size()];
    }
    auto parsed = parse(text);
    EXPECT_FALSE(parsed.ok());
    EXPECT_LE(parsed.diagnostics.size(), 60u);
  }
}

TEST(SpecParse, ManyProblemsAreCappedAndShortened) {
  std::string text = "kind: application\n";
  for (int i = 0; i < 20000; ++i) text += "key" + std::to_string(i) + ": x\n";
  auto parsed = parse(text);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.diagnostics.size(), 51u);
  EXPECT_TRUE(has_diagnostic(parsed, "unknown key 'key0' at the top level", 2, 1));
  EXPECT_EQ(parsed.diagnostics.back().to_string(), ".slipway.yml: 19951 more problems not shown");
  auto huge = parse("kind: " + std::string(100'000, 'k') + "\ntest: { suites: { unit: make } }\n");
  ASSERT_EQ(huge.diagnostics.size(), 1u);
  EXPECT_LT(huge.diagnostics[0].message.size(), 400u);
}

TEST(SpecParse, DeepNestingDoesNotCrash) {
  auto flow = parse("kind: application\ntest: " + std::string(100'000, '[') + "\n");
  EXPECT_FALSE(flow.ok());
  std::string block = "kind: application\ntest:\n";
  for (int depth = 1; depth < 3000; ++depth) block += std::string(depth, ' ') + "a:\n";
  EXPECT_FALSE(parse(block).ok());
  std::string closed = "kind: application\ntest: " + std::string(5000, '{') + std::string(5000, '}') + "\n";
  EXPECT_FALSE(parse(closed).ok());
}

TEST(SpecParse, SelfReferencingAliasDoesNotLoop) {
  auto parsed = parse("kind: application\ntest: &t\n  suites: *t\n  env: &e [*e]\n");
  EXPECT_FALSE(parsed.ok());
  auto aliases = parse("kind: application\ntest: &t { suites: { unit: *t } }\n");
  EXPECT_FALSE(aliases.ok());
}

TEST(SpecParse, ComplexKeysAndBinary) {
  EXPECT_TRUE(has_diagnostic(parse("kind: application\n? [a, b]\n: c\n"), "keys at the top level must be plain names"));
  auto binary = parse("kind: application\ntest: \"\xff\xfe\\\xff\"\n");
  EXPECT_FALSE(binary.ok());
  for (const auto& d : binary.diagnostics) EXPECT_EQ(d.message.find('\xff'), std::string::npos);
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

// yaml-cpp 0.7's LoadAll() never returns on a lone ','; the loader must not use it.
TEST(SpecParseHang, MalformedInputThatHangsYamlCppLoadAllIsRefused) {
  auto parsed = parse_repository_spec(",", ".slipway.yml");
  EXPECT_FALSE(parsed.ok());
  EXPECT_FALSE(parsed.diagnostics.empty());
  auto two = parse_repository_spec("kind: library\n---\nkind: library\n", ".slipway.yml");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.diagnostics.front().message.find("more than one YAML document"), std::string::npos);
  EXPECT_EQ(two.diagnostics.front().line, 2);
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

TEST(SpecParse, TestLimitsAreReadAndCheckedAtTheirPosition) {
  auto parsed = parse("kind: library\ntest:\n  limits: { memory: 512m, pids: 100, tmp: 64m, cpus: 1.5 }\n  suites: { unit: make }\n");
  ASSERT_TRUE(parsed.ok()) << all_messages(parsed);
  EXPECT_EQ(parsed.spec->test.limits.memory_bytes, int64_t{512} << 20);
  EXPECT_EQ(parsed.spec->test.limits.pids, 100);
  EXPECT_EQ(parsed.spec->test.limits.tmp_bytes, int64_t{64} << 20);
  EXPECT_DOUBLE_EQ(parsed.spec->test.limits.cpus, 1.5);
  auto bad = parse("kind: library\ntest:\n  limits: { memroy: 1g, pids: 0 }\n  suites: { unit: make }\n");
  EXPECT_TRUE(has_diagnostic(bad, "did you mean 'memory'?", 3, 13));
  EXPECT_TRUE(has_diagnostic(bad, "'test.limits.pids' must be a whole number of at least 1", 3, 31));
}

TEST(JobLimits, ARepositoryMayOnlyLowerTheServersLimits) {
  JobLimits ceiling = default_job_limits();
  JobLimits lowered = lower_limits(ceiling, JobLimits{int64_t{64} << 20, 1'000'000, 0, 0.5});
  EXPECT_EQ(lowered.memory_bytes, int64_t{64} << 20);
  EXPECT_EQ(lowered.pids, ceiling.pids) << "a higher request keeps the ceiling";
  EXPECT_EQ(lowered.tmp_bytes, ceiling.tmp_bytes) << "an unset request keeps the ceiling";
  EXPECT_DOUBLE_EQ(lowered.cpus, 0.5);
  EXPECT_EQ(lower_limits(JobLimits{}, JobLimits{0, 10, 0, 0}).pids, 10) << "no ceiling: the request stands";
}

}  // namespace
}  // namespace slipway
