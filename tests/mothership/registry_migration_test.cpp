// Schema versions 10 to 13 on SQLite and PostgreSQL (a server this test starts; its ctest
// entry is mothership_registry_test_postgresql): the SHA-256 columns of `devices` hold bytes,
// SQLite's table is rebuilt with `devid` as its INTEGER PRIMARY KEY (version 10) and again
// without its URN index (version 13, which also gives rows stored before version 11 their
// room). A registry that the version-9 program left (tests/mothership/data/registry_v9.*.sql,
// dumps of one it made with devices in every state) reads back after the migrations exactly as
// that program read it (registry_v9_devices.json); text that is not hex, and a URN that is not
// its Dev ID's, are refused, never stored.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <array>
#include <sstream>

#include "registry_rows.h"
#include "support/mothership.h"
#include "support/postgres.h"
#include "support/process.h"
#include "tte/base/hex.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {
namespace {

using nlohmann::json;
using test_rows::row;
using test_rows::statusOf;

/// Every field of a device as the registry reads it (the version-9 program wrote the same form
/// into registry_v9_devices.json).
json rowJson(const DeviceRow& d) {
    json c = nullptr;
    if (d.controller)
        c = json{{"ip", d.controller->ip},
                 {"port", d.controller->port},
                 {"fingerprint", d.controller->fingerprint},
                 {"psk_wrapped", d.controller->pskWrapped ? json(*d.controller->pskWrapped) : json(nullptr)}};
    return json{{"devid", d.devId}, {"urn", d.urn}, {"fingerprint", d.fingerprint}, {"otp_hash", toHex(d.otpHash)},
                {"lot", d.lot}, {"box", d.box ? json(*d.box) : json(nullptr)}, {"station", d.station},
                {"record_id", d.recordId}, {"record_digest", d.recordDigest}, {"signature", d.signature},
                {"firmware_sha256", d.firmwareSha256}, {"created", d.created}, {"state", std::string(stateName(d.state))},
                {"controller", c}, {"description", d.description}, {"inserted_at", d.insertedAt},
                {"updated_at", d.updatedAt}, {"failures", d.failures},
                {"mcu_uid", d.mcuUid ? json(*d.mcuUid) : json(nullptr)},
                {"reworked_from", d.reworkedFrom ? json(*d.reworkedFrom) : json(nullptr)},
                {"revoked_at", d.revokedAt}, {"revoked_by", d.revokedBy}, {"revoke_reason", d.revokeReason},
                {"psk_wrapped", d.pskWrapped ? json(*d.pskWrapped) : json(nullptr)}, {"preenrolled_by", d.preEnrolledBy}};
}

/// `text` without its lines that start with `prefix`.
std::string withoutLines(const std::string& text, const std::string& prefix) {
    std::istringstream in(text);
    std::string out;
    for (std::string line; std::getline(in, line);)
        if (!line.starts_with(prefix)) out += line + '\n';
    return out;
}

/// A stored device's record again, from its JSON (a station re-sending it).
DeviceRow recordOf(const json& j) {
    DeviceRow d;
    d.devId = j["devid"];
    d.urn = j["urn"];
    d.fingerprint = j["fingerprint"];
    d.otpHash = fromHex(j["otp_hash"].get<std::string>(), "otp_hash").value();
    d.lot = j["lot"];
    if (!j["box"].is_null()) d.box = j["box"].get<std::uint32_t>();
    d.station = j["station"];
    d.recordId = j["record_id"];
    d.recordDigest = j["record_digest"];
    d.signature = j["signature"];
    d.firmwareSha256 = j["firmware_sha256"];
    d.created = j["created"];
    if (!j["mcu_uid"].is_null()) d.mcuUid = j["mcu_uid"].get<std::string>();
    return d;
}

class RegistryMigrationTest : public ::testing::TestWithParam<std::string> {
protected:
    static void TearDownTestSuite() { pg.reset(); }

    void SetUp() override {
        if (sqlite()) {
            m_url = "sqlite://" + dir.file("r.db");
        } else {
            if (!pg) pg = std::make_unique<test::Postgres>();
            m_url = pg->newDatabase();
        }
    }
    [[nodiscard]] bool sqlite() const { return GetParam() == "sqlite"; }

    /// The registry the version-9 program made (its dump), not yet opened by this program.
    void loadVersion9() {
        const auto dump = test::sourceRoot() / "tests/mothership/data" / ("registry_v9." + GetParam() + ".sql");
        auto r = sqlite() ? test::runShell("sqlite3 -bail " + dir.file("r.db") + " < " + dump.string())
                          : test::runShell("psql '" + m_url + "' -qX -v ON_ERROR_STOP=1 -f " + dump.string());
        ASSERT_EQ(r.exitCode, 0) << r.output;
    }
    /// One query's rows as the database's shell prints them ('|' between columns).
    std::string sql(const std::string& query) {
        auto r = shell(query);
        EXPECT_EQ(r.exitCode, 0) << r.output;
        return r.output;
    }
    /// The same query's outcome, which may be a refusal: the shell's exit code and output.
    test::ShellResult shell(const std::string& query) {
        return test::runSql(m_url, query);
    }
    /// Opening the registry fails in the migration to `version` with the database's `message`,
    /// and leaves version 9 and its nine devices.
    void expectMigrationStops(int version, const std::string& message) {
        auto opened = openRegistry(m_url, 1);
        ASSERT_FALSE(opened);
        EXPECT_EQ(opened.error().code, Errc::io);
        const std::string& text = opened.error().message;
        EXPECT_NE(text.find("schema migration to version " + std::to_string(version) + ": SQL script: "),
                  std::string::npos)
            << text;
        EXPECT_NE(text.find(message), std::string::npos) << text;
        EXPECT_EQ(sql("SELECT MAX(version) FROM schema_versions"), "9\n");
        EXPECT_EQ(sql("SELECT COUNT(*) FROM devices"), "9\n");
    }
    /// The indexes of `devices` and their definitions (SQLite: those its migrations made; the
    /// constraints' own indexes are checked by the plans).
    std::string indexes() {
        return sql(sqlite() ? "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'devices'"
                              " AND sql IS NOT NULL ORDER BY name"
                            : "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'devices' ORDER BY indexname");
    }

    static inline std::unique_ptr<test::Postgres> pg;
    test::TempDir dir;
    std::string m_url;
};

TEST_P(RegistryMigrationTest, AVersion9RegistryReadsBackUnchanged) {
    ASSERT_NO_FATAL_FAILURE(loadVersion9());
    ASSERT_EQ(sql("SELECT MAX(version) FROM schema_versions"), "9\n");
    const std::string indexesBefore = indexes(), auditBefore = sql("SELECT COUNT(*) FROM audit");
    const json expected = json::parse(test::readText(test::sourceRoot() / "tests/mothership/data/registry_v9_devices.json"));
    ASSERT_EQ(expected.size(), 9u);

    auto opened = openRegistry(m_url, 2);
    ASSERT_TRUE(opened) << opened.error().toString();
    auto& reg = **opened;
    EXPECT_EQ(sql("SELECT MAX(version) FROM schema_versions"), "13\n");
    json read = json::array();
    ASSERT_TRUE(reg.forEachDevice([&](const DeviceRow& d) -> Status { return read.push_back(rowJson(d)), Status{}; }));
    EXPECT_EQ(read, expected) << read.dump(1);
    for (const auto& e : expected) {
        const std::uint32_t id = e["devid"];
        EXPECT_EQ(rowJson(reg.device(id).value()), e);
        auto alone = e;
        alone["failures"] = 0;  // the row alone, as the answers read it
        EXPECT_EQ(rowJson(reg.deviceRow(id).value()), alone);
        EXPECT_EQ(rowJson(reg.deviceByUrn(e["urn"].get<std::string>()).value()), alone);
        EXPECT_EQ(toHex(reg.otpHash(id).value().value()), e["otp_hash"]);
    }
    EXPECT_EQ(sql("SELECT COUNT(*) FROM audit"), auditBefore);
    EXPECT_EQ(reg.stationByName("st1").value().certPem.substr(0, 27), "-----BEGIN CERTIFICATE-----");
    EXPECT_EQ(reg.lotQuota("lot-1").value().used, 8u);
    // Version 12 counted the devices stored before by state (schema version 12, device_counts).
    std::array<std::int64_t, 4> byState{};
    for (const auto& e : expected) ++byState.at(static_cast<std::size_t>(protocol::parseEnrollmentState(e["state"].get<std::string>()).value()));
    const auto stats = reg.stats(0).value();
    for (std::size_t s = 0; s < 4; ++s) EXPECT_EQ(stats.devices[s], byState[s]) << s;

    // The bytes are stored, 32 of them; the indexes are those version 9 had.
    EXPECT_EQ(sql(sqlite() ? "SELECT typeof(fingerprint), typeof(otp_hash), typeof(record_digest), typeof(firmware_sha256),"
                             " typeof(cfingerprint), length(cfingerprint) FROM devices WHERE devid = 258"
                           : "SELECT pg_typeof(fingerprint), pg_typeof(otp_hash), pg_typeof(record_digest),"
                             " pg_typeof(firmware_sha256), pg_typeof(cfingerprint), length(cfingerprint)"
                             " FROM devices WHERE devid = 258"),
              sqlite() ? "blob|blob|blob|blob|blob|32\n" : "bytea|bytea|bytea|bytea|bytea|32\n");
    // The indexes are those version 9 had, but the URN's (PostgreSQL lists its constraints'
    // indexes too; SQLite's are checked by the plans).
    EXPECT_EQ(indexesBefore.find("\ndevices_urn_key|") != std::string::npos, !sqlite()) << indexesBefore;
    EXPECT_EQ(indexes(), withoutLines(indexesBefore, "devices_urn_key|"));
    EXPECT_EQ(sql(sqlite() ? "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'devices' ORDER BY name"
                           : "SELECT tgname FROM pg_trigger WHERE tgrelid = 'devices'::regclass AND NOT tgisinternal"
                             " ORDER BY tgname"),
              "device_counts_delete\ndevice_counts_insert\ndevice_counts_update\n");
    if (sqlite()) {
        // Dev ID is the table's own key, a URN found through it; record id keeps its UNIQUE index.
        const auto plan = [&](const std::string& where) {
            return sql("EXPLAIN QUERY PLAN SELECT devid FROM devices WHERE " + where);
        };
        EXPECT_NE(plan("devid = 258").find("SEARCH devices USING INTEGER PRIMARY KEY (rowid=?)"), std::string::npos);
        EXPECT_NE(plan("devid = 258 AND urn = 'x'").find("SEARCH devices USING INTEGER PRIMARY KEY (rowid=?)"),
                  std::string::npos);
        EXPECT_NE(plan("urn = 'x'").find("SCAN devices"), std::string::npos);
        EXPECT_NE(plan("record_id = 'x'").find("INDEX sqlite_autoindex_devices_1 (record_id=?)"), std::string::npos);
        // The not-mapped devices stored before version 11 have their room now.
        EXPECT_EQ(sql("SELECT devid, length(room) FROM devices WHERE room IS NOT NULL ORDER BY devid"),
                  "256|64\n261|64\n263|64\n");
    } else {
        EXPECT_EQ(sql("SELECT reloptions FROM pg_class WHERE relname = 'devices'"), "{fillfactor=90}\n");
        EXPECT_EQ(sql("SELECT conname FROM pg_constraint WHERE conrelid = 'devices'::regclass ORDER BY conname"),
                  "devices_pkey\ndevices_record_id_key\ndevices_urn_devid\n");
    }

    // The registry goes on: a re-sent record is a duplicate (its digest compared with the
    // stored bytes), other content is refused, a claim and new devices are stored.
    EXPECT_EQ(reg.insertDevice(recordOf(expected[1]), 2000).value(), InsertOutcome::duplicate);
    EXPECT_EQ(reg.importDevices(std::vector<DeviceRow>{recordOf(expected[2])}, 2000).value().duplicates, 1u);
    auto changed = recordOf(expected[1]);
    changed.recordDigest = std::string(64, '0');
    EXPECT_EQ(reg.insertDevice(changed, 2000).error().message, "record id st1-257 was stored with other content");
    EXPECT_EQ(reg.importDevices(std::vector<DeviceRow>{changed}, 2000).error().message,
              "record id st1-257 was stored with other content");
    const std::string cfp = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    ASSERT_TRUE(reg.claim(0x100, {"192.0.2.9", 5684, cfp}, "hall", "c9", 2001));
    EXPECT_EQ(reg.deviceRow(0x100).value().controller->fingerprint, cfp);
    ASSERT_TRUE(reg.insertDevice(row(0x110, "s-new"), 2002));
    ASSERT_TRUE(reg.importDevices(std::vector<DeviceRow>{row(0x111, "s-new-2")}, 2003));
    EXPECT_EQ(reg.device(0x110).value().recordDigest, row(0x110, "s-new").recordDigest);
    EXPECT_EQ(reg.device(0x111).value().fingerprint, std::string(64, 'd'));
    // The counts' triggers came through SQLite's rebuild.
    EXPECT_EQ(reg.lotQuota("lot-1").value().used, 10u);
    const auto after = reg.stats(0).value();
    EXPECT_EQ(after.devices[static_cast<std::size_t>(DeviceState::notMapped)],
              byState[static_cast<std::size_t>(DeviceState::notMapped)] + 1);
    EXPECT_EQ(after.devices[static_cast<std::size_t>(DeviceState::mapped)],
              byState[static_cast<std::size_t>(DeviceState::mapped)] + 1);
}

// A registry holding a value that is not hex (written by hand, say) is not migrated: the
// migration stops with the value's error and leaves version 9 and every row as they were.
TEST_P(RegistryMigrationTest, AValueThatIsNotHexStopsTheMigrationAndChangesNothing) {
    ASSERT_NO_FATAL_FAILURE(loadVersion9());
    sql("UPDATE devices SET record_digest = 'not hex!' WHERE devid = 258");
    expectMigrationStops(10, sqlite() ? "unhex: character 1 is not a hex digit" : "invalid hexadecimal digit: \"n\"");
    EXPECT_EQ(sql("SELECT record_digest FROM devices WHERE devid = 258"), "not hex!\n");
}

// The database keeps a device's URN its Dev ID's (schema version 13): a row written by hand
// that breaks it is refused, and a registry holding one is not migrated (the migration stops
// with the database's error and leaves version 9 and every row as they were).
TEST_P(RegistryMigrationTest, AUrnThatIsNotItsDevIdsIsRefusedByTheDatabase) {
    ASSERT_NO_FATAL_FAILURE(loadVersion9());
    sql("UPDATE devices SET urn = 'urn:dev:ops:32473-sensor-00000999' WHERE devid = 258");
    expectMigrationStops(13, sqlite() ? "CHECK constraint failed" : "check constraint \"devices_urn_devid\"");

    // Put right, the registry migrates; then the database itself refuses the same change
    // (the serial's case is free: the station may write it either way).
    sql("UPDATE devices SET urn = 'urn:dev:ops:32473-sensor-00000102' WHERE devid = 258");
    ASSERT_TRUE(openRegistry(m_url, 1));
    auto refused = shell("UPDATE devices SET urn = 'urn:dev:ops:32473-sensor-00000999' WHERE devid = 258");
    EXPECT_NE(refused.exitCode, 0);
    EXPECT_NE(refused.output.find(sqlite() ? "CHECK constraint failed" : "violates check constraint \"devices_urn_devid\""),
              std::string::npos)
        << refused.output;
    sql("UPDATE devices SET urn = 'urn:dev:ops:32473-sensor-000001AB', devid = 427 WHERE devid = 263");
    EXPECT_EQ(sql("SELECT devid, urn FROM devices WHERE devid IN (258, 427) ORDER BY devid"),
              "258|urn:dev:ops:32473-sensor-00000102\n427|urn:dev:ops:32473-sensor-000001AB\n");
}

// The registry's conversion refuses text that is not hex: the statement fails with the
// database's precise error, and nothing of the write is stored.
TEST_P(RegistryMigrationTest, TextThatIsNotHexIsRefusedNotStored) {
    auto reg = openRegistry(m_url, 1).value();
    ASSERT_TRUE(reg->setLotQuota("lot-1", 0x100, 0x1ff));
    const auto refused = [&](const Status& s, const std::string& sqliteMessage, const std::string& postgresMessage) {
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().code, Errc::io);
        EXPECT_NE(s.error().message.find(sqlite() ? sqliteMessage : postgresMessage), std::string::npos) << s.error().message;
    };
    auto notHex = row(0x100, "s-1");
    notHex.fingerprint = std::string(63, 'd') + "g";
    refused(statusOf(reg->insertDevice(notHex, 1)), "unhex: character 64 is not a hex digit",
            "invalid hexadecimal digit: \"g\"");
    auto odd = row(0x100, "s-1");
    odd.recordDigest = "abc";
    refused(statusOf(reg->insertDevice(odd, 1)), "unhex: 3 characters, not an even number of hex digits",
            "invalid hexadecimal data: odd number of digits");
    auto batch = std::vector<DeviceRow>{row(0x101, "s-2"), row(0x102, "s-3")};
    batch[1].firmwareSha256 = std::string(10, 'f') + "g" + std::string(53, 'f');
    refused(statusOf(reg->importDevices(batch, 1)), "unhex: character 11 is not a hex digit",
            "invalid hexadecimal digit: \"g\"");
    EXPECT_EQ(reg->lotQuota("lot-1").value().used, 0u);
    EXPECT_EQ(reg->audit(std::nullopt).value().size(), 1u);  // the quota's line alone
    ASSERT_TRUE(reg->insertDevice(row(0x100, "s-1"), 1));
    refused(reg->claim(0x100, {"192.0.2.1", 5684, "controller"}, "", "c", 2), "unhex: character 2 is not a hex digit",
            "invalid hexadecimal digit: \"o\"");
    EXPECT_EQ(reg->deviceRow(0x100).value().state, DeviceState::notMapped);
}

INSTANTIATE_TEST_SUITE_P(Stores, RegistryMigrationTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tte::mothership
