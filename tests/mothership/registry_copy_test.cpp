// `admin copy` (registry_copy.cpp): a SQLite registry with devices in every state, their audit
// trail, stations, lots, boxes and lockouts copied into a PostgreSQL database of a server this
// test starts (its own ctest entry, with the other */postgresql tests), and on from there into
// another one. Each copy is compared with its source through the registry's own reads; what the
// copy refuses leaves the target as it was.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <iostream>
#include <sstream>

#include "registry_rows.h"
#include "support/postgres.h"
#include "tte/base/hex.h"
#include "tte/mothership/admin.h"
#include "tte/mothership/app.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {
namespace {

using test_rows::describe;
using test_rows::row;

constexpr std::uint32_t kFirst = 0x100;
constexpr std::uint32_t kDevices = 40;
const std::string kControllerFp(64, 'c');

class RegistryCopyTest : public ::testing::TestWithParam<std::string> {
protected:
    static void TearDownTestSuite() { pg.reset(); }

    void SetUp() override {
        if (!pg) pg = std::make_unique<test::Postgres>();
        source = "sqlite://" + dir.file("registry.db");
        auto r = openRegistry(source, 2);
        ASSERT_TRUE(r) << r.error().toString();
        reg = std::move(*r);
    }

    /// A registry as a MotherShip leaves it after a while: two stations (one removed), two
    /// lots, a box, devices imported and uploaded, claimed, registered, revoked, reworked,
    /// pre-enrolled, with PSKs, descriptions that COPY must escape, and a locked-out Dev ID.
    void fill() {
        ASSERT_TRUE(reg->addStation({"station-1", std::string(64, 'a'), "-----BEGIN CERTIFICATE-----\nMII\\x\t1\n", 10}));
        ASSERT_TRUE(reg->addStation({"station-2", std::string(64, 'b'), "pem 2", 11}));
        ASSERT_TRUE(reg->setLotQuota("lot-1", kFirst, 0x3fff));
        ASSERT_TRUE(reg->setLotQuota("lot 2", 0x4000, 0x40ff));
        ASSERT_TRUE(reg->addBox({7, "lot-1", kFirst, kFirst + 9}));
        std::vector<DeviceRow> batch;
        for (std::uint32_t i = 0; i < kDevices / 2; ++i) {
            DeviceRow d = row(kFirst + i, "station-1-" + std::to_string(i));
            if (i < 10) d.box = 7;
            d.mcuUid = "002d0030333451" + toHex(i, 8) + "35";
            batch.push_back(d);
        }
        ASSERT_TRUE(reg->importDevices(batch, 1000));
        for (std::uint32_t i = kDevices / 2; i < kDevices; ++i) {
            DeviceRow d = row(kFirst + i, "station-1-" + std::to_string(i));
            if (i % 3 == 0) d.pskWrapped = "psk-wrapped-" + std::to_string(i);
            ASSERT_TRUE(reg->insertDevice(d, 2000 + i));
        }
        const ControllerAddress c{"192.0.2.7", 5684, kControllerFp, std::nullopt};
        ASSERT_TRUE(reg->claim(kFirst + 1, c, "line\\one\ttwo\nthree\r", "198.51.100.1", 3000));
        ASSERT_TRUE(reg->claim(kFirst + 2, c, "", "198.51.100.1", 3001));
        ASSERT_TRUE(reg->markRegistered(kFirst + 2, "coap 203.0.113.5", 3002));
        ControllerAddress withPsk = c;
        withPsk.pskWrapped = "cpsk-wrapped";
        ASSERT_TRUE(reg->claim(kFirst + 21, withPsk, "psk device", "198.51.100.1", 3003));
        ASSERT_TRUE(reg->revoke({RevokeTarget::Kind::device, kFirst + 3, {}}, {"returned, damaged", "admin", {}}, 3004));
        DeviceRow reworked = row(0x4000, "station-1-rework");
        reworked.lot = "lot 2";
        reworked.reworkedFrom = kFirst + 3;
        reworked.mcuUid = batch[3].mcuUid;
        ASSERT_TRUE(reg->insertDevice(reworked, 3005));
        ASSERT_TRUE(reg->preEnroll(kFirst + 4, {"station-1", c, "pre-enrolled"}, 3006));
        const std::vector<FailureSubject> subjects{{"dev:00000105", 3}, {"ip:198.51.100.9", 100}};
        for (int i = 0; i < 3; ++i)
            ASSERT_TRUE(reg->countFailure(subjects, FailurePolicy{}, kFirst + 5, "otp-wrong", "198.51.100.9", "", 4000 + i));
        ASSERT_TRUE(reg->removeStation("station-2", "admin", 5000));
    }

    /// `copy` holds what `original` holds, read through the registry.
    static void expectSame(Registry& original, Registry& copy) {
        for (std::uint32_t id = kFirst; id < kFirst + kDevices; ++id) {
            auto a = original.device(id);
            auto b = copy.device(id);
            ASSERT_TRUE(a && b) << toHex(id, 8);
            EXPECT_EQ(describe(*a), describe(*b));
            EXPECT_EQ(describe(original.audit(id).value()), describe(copy.audit(id).value()));
            EXPECT_EQ(toHex(original.otpHash(id).value().value()), toHex(copy.otpHash(id).value().value()));
        }
        EXPECT_EQ(describe(*original.device(0x4000)), describe(*copy.device(0x4000)));
        EXPECT_EQ(describe(original.audit(std::nullopt).value()), describe(copy.audit(std::nullopt).value()));
        std::ostringstream exportA, exportB, lotsA, lotsB;
        ASSERT_TRUE(adminExport(original, "jsonl", exportA));
        ASSERT_TRUE(adminExport(copy, "jsonl", exportB));
        EXPECT_EQ(exportA.str(), exportB.str());
        ASSERT_TRUE(adminLotList(original, "jsonl", lotsA));
        ASSERT_TRUE(adminLotList(copy, "jsonl", lotsB));
        EXPECT_EQ(lotsA.str(), lotsB.str());
        const auto stations = [](Registry& r) {
            std::string s;
            const auto all = r.stations();
            for (const auto& st : all.value()) s += st.name + ' ' + st.fingerprint + ' ' + st.certPem + '\n';
            return s;
        };
        EXPECT_EQ(stations(original), stations(copy));
        EXPECT_EQ(original.lockedUntil({"dev:00000105"}, 4100).value(), copy.lockedUntil({"dev:00000105"}, 4100).value());
        EXPECT_GT(copy.lockedUntil({"dev:00000105"}, 4100).value(), 0);
        auto statsA = original.stats(4100).value();
        auto statsB = copy.stats(4100).value();
        for (int s = 0; s < 4; ++s) EXPECT_EQ(statsA.devices[s], statsB.devices[s]) << s;
        EXPECT_EQ(statsA.lockedSubjects, statsB.lockedSubjects);
    }

    /// What the registry at `url` holds: stations, devices and audit lines.
    static std::string counts(const std::string& url) {
        auto r = openRegistry(url, 1);
        if (!r) return r.error().message;
        const auto stats = (*r)->stats(0).value();
        return "stations " + std::to_string((*r)->stations().value().size()) + ", devices " +
               std::to_string(stats.devices[0] + stats.devices[1] + stats.devices[2] + stats.devices[3]) +
               ", audit lines " + std::to_string((*r)->audit(std::nullopt).value().size());
    }

    static inline std::unique_ptr<test::Postgres> pg;
    test::TempDir dir;
    std::string source;
    std::unique_ptr<Registry> reg;
};

TEST_P(RegistryCopyTest, CopiesEveryTableAndTheCopyServesOn) {
    ASSERT_NO_FATAL_FAILURE(fill());
    const std::string target = pg->newDatabase();
    std::ostringstream progress;
    auto summary = adminCopy(source, target, progress);
    ASSERT_TRUE(summary) << summary.error().toString();
    const auto lines = reg->audit(std::nullopt).value();
    EXPECT_TRUE(summary->starts_with("copied into " + target + " in ")) << *summary;
    EXPECT_TRUE(summary->ends_with(" s: stations 1, lots 2, boxes 1, devices 41, audit lines " + std::to_string(lines.size()) +
                                   ", failure counts 2"))
        << *summary;
    EXPECT_NE(progress.str().find("devices: 41 of 41 (100 %)"), std::string::npos) << progress.str();

    auto copy = openRegistry(target, 2);
    ASSERT_TRUE(copy) << copy.error().toString();
    ASSERT_NO_FATAL_FAILURE(expectSame(*reg, **copy));

    // The copy serves on: a new audit line follows the last one copied, a claim and an upload work.
    ASSERT_TRUE((*copy)->revoke({RevokeTarget::Kind::device, kFirst + 6, {}}, {"lost", "admin", {}}, 6000));
    const auto trail = (*copy)->audit(kFirst + 6).value();
    EXPECT_EQ(trail.back().event, "revoked");
    EXPECT_EQ(trail.back().id, lines.back().id + 1);
    ASSERT_TRUE((*copy)->claim(kFirst + 7, {"192.0.2.8", 5684, kControllerFp, std::nullopt}, "", "x", 6001));
    ASSERT_TRUE((*copy)->insertDevice(row(kFirst + kDevices, "station-1-new"), 6002));

    // And on again, PostgreSQL to PostgreSQL (one REPEATABLE READ snapshot of the source).
    const std::string third = pg->newDatabase();
    auto again = adminCopy(target, third, progress);
    ASSERT_TRUE(again) << again.error().toString();
    auto thirdReg = openRegistry(third, 2);
    ASSERT_TRUE(thirdReg);
    ASSERT_NO_FATAL_FAILURE(expectSame(**copy, **thirdReg));
}

TEST_P(RegistryCopyTest, RefusesATargetThatHoldsARegistryAndLeavesIt) {
    ASSERT_NO_FATAL_FAILURE(fill());
    const std::string target = pg->newDatabase();
    ASSERT_TRUE(adminCopy(source, target, std::cerr));
    const auto before = counts(target);
    const auto audit = reg->audit(std::nullopt).value().size();
    EXPECT_EQ(before, "stations 1, devices 41, audit lines " + std::to_string(audit));
    ASSERT_TRUE(reg->insertDevice(row(kFirst + kDevices, "station-1-later"), 7000));
    std::ostringstream progress;
    auto again = adminCopy(source, target, progress);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::alreadyExists);
    EXPECT_EQ(again.error().message, "refusing to copy into " + target + ", which holds a registry (stations 1, lots 2, boxes 1, devices 41, audit lines " +
                                         std::to_string(audit) + ", failure counts 2): copy only into an empty database");
    EXPECT_EQ(counts(target), before);
}

/// Runs `sql` on the SQLite registry file itself, as no MotherShip would.
void alterSqlite(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
}

TEST_P(RegistryCopyTest, AColumnItDoesNotKnowStopsTheCopyBeforeAnyRow) {
    ASSERT_NO_FATAL_FAILURE(fill());
    reg.reset();
    alterSqlite(dir.file("registry.db"), "ALTER TABLE devices ADD COLUMN warranty TEXT");
    const std::string target = pg->newDatabase();
    auto copied = adminCopy(source, target, std::cerr);
    ASSERT_FALSE(copied);
    EXPECT_EQ(copied.error().code, Errc::internal);
    EXPECT_EQ(copied.error().message,
              "the source registry's table devices has a column warranty that admin copy does not know: nothing copied");
    EXPECT_EQ(counts(target), "stations 0, devices 0, audit lines 0");
}

TEST_P(RegistryCopyTest, ARowTheTargetRefusesUndoesTheWholeCopy) {
    ASSERT_NO_FATAL_FAILURE(fill());
    reg.reset();
    // SQLite keeps text that is no integer in an INTEGER column; PostgreSQL's COPY refuses it
    // after the stations, lots and boxes went in.
    alterSqlite(dir.file("registry.db"), "UPDATE devices SET cport = 'port' WHERE devid = 258");
    const std::string target = pg->newDatabase();
    auto copied = adminCopy(source, target, std::cerr);
    ASSERT_FALSE(copied);
    EXPECT_TRUE(copied.error().message.starts_with("writing devices: COPY: ")) << copied.error().message;
    EXPECT_NE(copied.error().message.find("column cport: \"port\""), std::string::npos) << copied.error().message;
    EXPECT_EQ(counts(target), "stations 0, devices 0, audit lines 0");
}

TEST_P(RegistryCopyTest, BadTargetsAndSourcesAreRefusedWithTheirReason) {
    const auto error = [](const Result<std::string>& r) { return r ? std::string("ok") : r.error().message; };
    std::ostringstream progress;
    auto withPassword = adminCopy(source, "postgresql://tte:s3cret@db.example/tte", progress);
    EXPECT_EQ(error(withPassword),
              "--to: a password in the URL would be visible to every user (ps): put it in ~/.pgpass or in the file "
              "PGPASSFILE names, and leave it out of the URL");
    EXPECT_EQ(error(adminCopy(source, "sqlite:///tmp/other.db", progress)),
              "--to: the copy goes into a PostgreSQL database (postgresql://…), not sqlite:///tmp/other.db");
    EXPECT_EQ(error(adminCopy("sqlite://" + dir.file("absent.db"), pg->newDatabase(), progress)),
              "no registry at " + dir.file("absent.db"));
    EXPECT_EQ(error(adminCopy("memory:", pg->newDatabase(), progress)),
              "admin copy reads a sqlite:///path or postgresql:// registry, not memory:");
    const std::string target = pg->newDatabase();
    EXPECT_EQ(error(adminCopy(target, target, progress)), "--to names the registry's own database");
    auto unreachable = adminCopy(source, "postgresql:///tte?host=" + dir.file("no-server"), progress);
    ASSERT_FALSE(unreachable);
    EXPECT_EQ(unreachable.error().code, Errc::unavailable);
    EXPECT_TRUE(unreachable.error().message.starts_with("--to postgresql:///tte?host=")) << unreachable.error().message;
    EXPECT_TRUE(progress.str().empty()) << progress.str();

    // Through the admin dispatch, as `tte-mothership admin copy --to URL` runs it.
    Config config;
    config.database = source;
    AdminCommand command;
    command.kind = AdminCommand::Kind::copy;
    command.to = pg->newDatabase();
    std::ostringstream out;
    ASSERT_TRUE(runAdmin(command, config, out));
    EXPECT_TRUE(out.str().starts_with("copied into " + command.to + " in ")) << out.str();
    EXPECT_TRUE(out.str().ends_with(" s: stations 0, lots 0, boxes 0, devices 0, audit lines 0, failure counts 0\n")) << out.str();
}

// A PostgreSQL the registry cannot reach (a copy's target, a MotherShip's database): one line
// that says so, as every error of the registry is (a log line, the CLI's `tte-mothership:
// reason`), with libpq's hint joined to it.
TEST(PostgresRegistry, AServerItCannotReachIsOneLineThatSaysSo) {
    auto r = openRegistry("postgresql://127.0.0.1:1/tte?connect_timeout=5", 1);
    ASSERT_FALSE(r);
    const std::string& m = r.error().message;
    EXPECT_EQ(r.error().code, Errc::unavailable) << m;
    EXPECT_TRUE(m.starts_with("PostgreSQL connect: ")) << m;
    EXPECT_NE(m.find("Connection refused; Is the server running"), std::string::npos) << m;
    EXPECT_EQ(m.find_first_of("\n\t"), std::string::npos) << m;
    EXPECT_FALSE(m.ends_with(' ')) << m;
}

INSTANTIATE_TEST_SUITE_P(FromSqlite, RegistryCopyTest, ::testing::Values("postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tte::mothership
