// The journal: hash chain and signatures verify; an edited, removed or reordered entry, a
// forged signature and an append-only violation are each detected.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include "support/fakes/station_site.h"
#include "tte/protocol/crypto.h"

namespace tte::station {
namespace {

class JournalTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (std::uint32_t i = 0; i < 5; ++i) {
            auto e = site.journal->append("allocated", 0x100 + i, {{"port", "1-" + std::to_string(i)}});
            ASSERT_TRUE(e) << e.error().toString();
        }
    }
    /// Runs SQL on the raw file as an attacker would (triggers dropped first).
    void tamper(const std::string& sql) {
        auto s = site.journal->withRawDb([&](sqlite3* db) -> Status {
            char* err = nullptr;
            const std::string all = "DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete; " + sql;
            if (sqlite3_exec(db, all.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
                std::string m = err;
                sqlite3_free(err);
                return fail(Errc::io, m);
            }
            return {};
        });
        ASSERT_TRUE(s) << s.error().toString();
    }
    std::vector<std::string> problems() {
        auto r = site.journal->verify();
        EXPECT_TRUE(r) << r.error().toString();
        return r ? r->problems : std::vector<std::string>{};
    }
    testing::Site site;
};

TEST_F(JournalTest, AFreshJournalVerifies) {
    auto r = site.journal->verify();
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(r->entries, 5);
    auto all = site.journal->entries();
    ASSERT_TRUE(all);
    EXPECT_EQ((*all)[0].prev, std::string(64, '0'));
    EXPECT_EQ((*all)[1].prev, (*all)[0].hash);
    EXPECT_EQ(r->head, (*all)[4].hash);
}

TEST_F(JournalTest, SurvivesReopen) {
    site.reopen();
    auto e = site.journal->append("keyed", 0x100, {{"urn", "u"}});
    ASSERT_TRUE(e);
    EXPECT_EQ(e->seq, 6);
    EXPECT_TRUE(problems().empty());
}

TEST_F(JournalTest, IsAppendOnly) {
    auto s = site.journal->withRawDb([](sqlite3* db) -> Status {
        if (sqlite3_exec(db, "UPDATE journal SET kind='x' WHERE seq=2", nullptr, nullptr, nullptr) == SQLITE_OK)
            return fail(Errc::internal, "update succeeded");
        EXPECT_STREQ(sqlite3_errmsg(db), "the journal is append-only");
        if (sqlite3_exec(db, "DELETE FROM journal WHERE seq=2", nullptr, nullptr, nullptr) == SQLITE_OK)
            return fail(Errc::internal, "delete succeeded");
        return {};
    });
    EXPECT_TRUE(s) << s.error().toString();
}

TEST_F(JournalTest, DetectsAnEditedEntry) {
    tamper("UPDATE journal SET body='{\"port\":\"1-9\"}' WHERE seq=3");
    EXPECT_EQ(problems(), (std::vector<std::string>{"entry 3: content does not match its hash (edited)",
                                                    "entry 3: station signature does not verify"}));
}

TEST_F(JournalTest, DetectsAnEditedEntryWithItsHashRecomputed) {
    // Recomputing the hash is not enough: the next entry's prev and the signature both break.
    auto all = *site.journal->entries();
    JournalEntry e = all[2];
    e.body = {{"port", "1-9"}};
    e.hash = protocol::sha256Hex(e.canonical());
    tamper("UPDATE journal SET body='{\"port\":\"1-9\"}', hash='" + e.hash + "' WHERE seq=3");
    EXPECT_EQ(problems(), (std::vector<std::string>{"entry 3: station signature does not verify",
                                                    "entry 4: does not chain to the entry before it (removed or reordered)"}));
}

TEST_F(JournalTest, DetectsARemovedEntry) {
    tamper("DELETE FROM journal WHERE seq=3");
    EXPECT_EQ(problems(), (std::vector<std::string>{"entry 4: expected entry 3 (entry missing)",
                                                    "entry 4: does not chain to the entry before it (removed or reordered)"}));
}

TEST_F(JournalTest, DetectsReorderedEntries) {
    // Swap the content of entries 2 and 3 (seq numbers stay in order).
    tamper("UPDATE journal SET seq=100 WHERE seq=2; UPDATE journal SET seq=2 WHERE seq=3; "
           "UPDATE journal SET seq=3 WHERE seq=100;");
    auto p = problems();
    ASSERT_FALSE(p.empty());
    EXPECT_EQ(p[0], "entry 2: content does not match its hash (edited)");
    EXPECT_NE(std::find(p.begin(), p.end(), "entry 4: does not chain to the entry before it (removed or reordered)"),
              p.end());
}

TEST_F(JournalTest, DetectsAnotherStationsSignature) {
    fakes::FakeKeys other;
    auto j = Journal::open(site.dir + "/other.db", other);
    ASSERT_TRUE(j);
    ASSERT_TRUE((*j)->append("allocated", 1, {}));
    j->reset();
    auto again = Journal::open(site.dir + "/other.db", site.keys);
    ASSERT_TRUE(again);
    auto r = (*again)->verify();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->problems, std::vector<std::string>{"entry 1: station signature does not verify"});
}

TEST(JournalOpen, ReportsAnUnopenableFile) {
    fakes::FakeKeys keys;
    auto j = Journal::open("/nonexistent/dir/journal.db", keys);
    ASSERT_FALSE(j);
    EXPECT_EQ(j.error().code, Errc::io);
    EXPECT_EQ(j.error().message, "journal: cannot open /nonexistent/dir/journal.db");
    EXPECT_EQ(j.error().domain, "SQLite");
}

}  // namespace
}  // namespace tte::station
