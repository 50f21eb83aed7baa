// `admin backup` for PostgreSQL keeps the password out of pg_dump's argv: the URL is split
// (splitPostgresPassword) and the password handed over in a private PGPASSFILE. The pg_dump
// here is a recording script (a fake for this unit test; the integration suite runs the real
// one against its own PostgreSQL).
#include <gtest/gtest.h>

#include <filesystem>

#include "support/mothership.h"
#include "tte/mothership/admin.h"
#include "tte/mothership/app.h"
#include "tte/mothership/logging.h"
#include "tte/protocol/fingerprint.h"

#include <sstream>

namespace tte::mothership {
namespace {

TEST(SplitPostgresPassword, TakesThePasswordOutOfUserInfoAndQuery) {
    auto a = splitPostgresPassword("postgresql://tte:s%40c:ret@db.example:5432/tte?sslmode=require");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->url, "postgresql://tte@db.example:5432/tte?sslmode=require");
    ASSERT_TRUE(a->password);
    EXPECT_EQ(a->password->view(), "s@c:ret");
    auto b = splitPostgresPassword("postgres:///tte?host=/run/postgresql&password=p%26w&port=5433");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->url, "postgres:///tte?host=/run/postgresql&port=5433");
    EXPECT_EQ(b->password->view(), "p&w");
    auto c = splitPostgresPassword("postgresql:///tte?host=/tmp&user=postgres");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->url, "postgresql:///tte?host=/tmp&user=postgres");
    EXPECT_FALSE(c->password);
    EXPECT_EQ(splitPostgresPassword("postgresql://u:sec%zzret@h/db").error().message,
              "database URL: bad percent-escape in the password");
    EXPECT_EQ(splitPostgresPassword("postgresql://u:secret%4@h/db").error().message,
              "database URL: bad percent-escape in the password");
}

TEST(Logging, JsonLinesCarryTheEventsFields) {
    EXPECT_EQ(logLineJson("2026-11-23T07:31:02.123456Z", "info", "tte-mothership",
                          "event=http method=POST path=\"/.well-known/tte\" status=200 client=192.0.2.7 us=812"),
              R"({"time":"2026-11-23T07:31:02.123456Z","level":"info","logger":"tte-mothership","event":"http",)"
              R"("method":"POST","path":"/.well-known/tte","status":200,"client":"192.0.2.7","us":812})");
    // Not key=value pairs: the whole text as the message; bad UTF-8 replaced, never a throw.
    EXPECT_EQ(logLineJson("t", "warning", "m", "libcoap said \"x\" \xff"),
              std::string(R"({"time":"t","level":"warning","logger":"m","message":"libcoap said \"x\" )") +
                  "\xEF\xBF\xBD" + R"("})");
    EXPECT_EQ(logLineJson("t", "info", "m", "event=x level=spoofed"), R"({"time":"t","level":"info","logger":"m","event":"x"})");
    EXPECT_EQ(makeLogger("m", "info", "yaml").error().message, "log format 'yaml' is not text or json");
    EXPECT_EQ(makeLogger("m", "loud", "json").error().message,
              "log level 'loud' is not one of trace, debug, info, warn, error, critical, off");
}

TEST(AdminBackup, PostgresPasswordGoesToAPassFileNotArgv) {
    test::TempDir dir;
    const std::string fake = dir.file("pg_dump");
    test::writeFile(fake, "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + dir.file("argv") + "\nprintf '%s' \"$PGPASSFILE\" > " +
                                dir.file("passfile-path") + "\ncat \"$PGPASSFILE\" > " + dir.file("passfile") +
                                "\nstat -c %a \"$PGPASSFILE\" > " + dir.file("mode") + "\n");
    std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
    ASSERT_TRUE(adminBackup("postgresql://tte:top%3Asecret@127.0.0.1:5432/tte", dir.file("out.dump"), fake));
    const std::string argv = test::readText(dir.file("argv"));
    // pg_dump writes into a private temp file beside the backup, renamed onto it afterwards.
    EXPECT_TRUE(argv.starts_with("--format=custom\n--file=" + dir.file("out.dump.tmp-"))) << argv;
    EXPECT_TRUE(argv.ends_with("\n--dbname=postgresql://tte@127.0.0.1:5432/tte\n")) << argv;
    EXPECT_EQ(std::filesystem::status(dir.file("out.dump")).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    EXPECT_EQ(argv.find("secret"), std::string::npos);
    EXPECT_EQ(test::readText(dir.file("passfile")), "*:*:*:*:top\\:secret\n");
    EXPECT_EQ(test::readText(dir.file("mode")), "600\n");
    EXPECT_FALSE(std::filesystem::exists(test::readText(dir.file("passfile-path"))));  // removed after the run
}

TEST(AdminBackup, FailingPgDumpIsAnErrorAndKeepsThePreviousBackup) {
    test::TempDir dir;
    test::writeFile(dir.file("out"), "yesterday's backup");
    EXPECT_EQ(adminBackup("postgresql:///tte", dir.file("out"), "/bin/false").error().message, "false failed");
    EXPECT_EQ(test::readText(dir.file("out")), "yesterday's backup");
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);  // no temp file left
    EXPECT_EQ(adminBackup("postgresql:///tte", dir.file("out"), dir.file("missing")).error().message,
              "cannot run " + dir.file("missing") + " (is postgresql-client installed?)");
}

TEST(RunAdmin, KeysQuotasAndDevicesThroughOneDispatch) {
    test::TempDir dir;
    Config config;
    config.msId = 10;
    config.database = "sqlite://" + dir.file("registry.db");
    std::ostringstream out;
    AdminCommand dtls;
    dtls.kind = AdminCommand::Kind::keygenDtls;
    dtls.keyOut = dir.file("dtls.key");
    dtls.certOut = dir.file("dtls.pem");
    ASSERT_TRUE(runAdmin(dtls, config, out));
    EXPECT_EQ(out.str(), protocol::fingerprintFromPem(test::readText(dtls.certOut))->hex() + "\n");
    EXPECT_EQ(runAdmin(dtls, config, out).error().message, dtls.keyOut + " exists already (use --force to rotate)");
    AdminCommand fp;
    fp.kind = AdminCommand::Kind::fingerprint;
    fp.certIn = dtls.certOut;
    std::ostringstream fpOut;
    ASSERT_TRUE(runAdmin(fp, config, fpOut));
    EXPECT_EQ(fpOut.str(), out.str());
    AdminCommand lot;
    lot.kind = AdminCommand::Kind::lotSet;
    lot.lot = "lot-1";
    lot.first = "00000100";
    lot.last = "0000010";
    EXPECT_EQ(runAdmin(lot, config, out).error().message, "--last: expected 8 hex digits, got 7");
    lot.last = "000001ff";
    ASSERT_TRUE(runAdmin(lot, config, out));
    AdminCommand show;
    show.kind = AdminCommand::Kind::show;
    show.devId = "00000100";
    EXPECT_EQ(runAdmin(show, config, out).error().code, Errc::notFound);
    AdminCommand exported;
    exported.kind = AdminCommand::Kind::exportRegistry;
    exported.format = "csv";
    std::ostringstream csv;
    ASSERT_TRUE(runAdmin(exported, config, csv));
    EXPECT_EQ(csv.str(), "");  // no device yet: not even a header
}

}  // namespace
}  // namespace tte::mothership
