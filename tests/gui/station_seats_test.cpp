// tte-station's window on a fixture with named seats (served continuously): a tile per seat
// with its state's colour, icon and word, the flash's byte progress, the Dev ID and the label
// of the last board; the line-stop banner for each reason the line holds; the sign-in; and
// the whole window driven from the keyboard.
#include <QApplication>
#include <QLineEdit>

#include <set>

#include "tte/station/line_hold.h"
#include "window_fixture.h"

namespace tte::gui {
namespace {

const char* kSeats = R"([[seat]]
name = "A1"
port = "1-1"
[[seat]]
name = "A2"
port = "1-2"
[[seat]]
name = "B1"
port = "1-3"
[[seat]]
name = "B2"
port = "1-4"
)";

class SeatsTest : public StationWindowTest {
protected:
    SeatsTest() : StationWindowTest(5) {}  // 1-5 holds a board on no seat: ignored
    void openSeats() {
        ASSERT_TRUE(window->openConfig(QString::fromStdString(site.writeConfig(station::testing::configText("", kSeats)))));
        ASSERT_TRUE(QTest::qWaitFor([&] { return window->ready(); }, kDeadlineMs)) << log().toStdString();
    }
    SeatTile* tile(const char* name) const { return window->seatTile(name); }
    bool waitState(const char* name, SeatState state) {
        return QTest::qWaitFor([&] { return tile(name)->state() == state; }, kDeadlineMs);
    }
    station::LineHold& hold() { return parts->pipeline().value()->lineHold(); }
    /// Keys as the operator presses them: the window must be the active one for its shortcuts.
    void press(Qt::Key key) {
        QWidget* target = QApplication::focusWidget() ? QApplication::focusWidget() : window.get();
        QTest::keyClick(target, key);
    }
    void activate() {
        window->activateWindow();
        ASSERT_TRUE(QTest::qWaitForWindowActive(window.get()));
    }
};

TEST_F(SeatsTest, EachSeatShowsItsStateWithColourIconAndWord) {
    openSeats();
    // One tile per seat, named as on the fixture, in the fixture's order.
    ASSERT_EQ(window->seatTiles().size(), 4u);
    QStringList names;
    for (auto* t : window->seatTiles()) names << t->name() + "@" + t->port();
    EXPECT_EQ(names, (QStringList{"A1@1-1", "A2@1-2", "B1@1-3", "B2@1-4"}));
    for (auto* t : window->seatTiles()) EXPECT_EQ(t->stateLabel()->text(), "EMPTY");

    window->signIn("alice");
    EXPECT_EQ(window->operatorLabel()->text(), "Operator: alice");
    site.flasher.failPorts = {"1-2"};  // A2's board does not read back: needs rework
    site.flasher.remove("1-4");        // nobody put a board in B2
    site.gate.ports = {"1-3"};         // B1's board is held halfway through its flash
    site.gate.close();
    QTest::mouseClick(window->startButton(), Qt::LeftButton);
    ASSERT_TRUE(waitState("A1", SeatState::done)) << log().toStdString();
    ASSERT_TRUE(waitState("A2", SeatState::rework)) << log().toStdString();
    ASSERT_TRUE(waitState("B1", SeatState::flashing)) << log().toStdString();
    ASSERT_TRUE(QTest::qWaitFor([&] { return site.gate.waiting() == 1; }, kDeadlineMs));
    // The slot reported its halfway bytes before it reached the gate, but that report is a
    // queued event the window may not have taken yet: wait until the tile shows bytes.
    ASSERT_TRUE(QTest::qWaitFor([&] { return tile("B1")->progress()->property("bytesDone").toULongLong() > 0; },
                                kDeadlineMs));
    EXPECT_EQ(tile("B2")->state(), SeatState::empty);

    // A word, an icon and a colour for each state; the colours differ.
    EXPECT_EQ(tile("A1")->stateLabel()->text(), "DONE");
    EXPECT_EQ(tile("A2")->stateLabel()->text(), "NEEDS REWORK");
    EXPECT_EQ(tile("B1")->stateLabel()->text(), "FLASHING");
    EXPECT_EQ(tile("B2")->stateLabel()->text(), "EMPTY");
    std::set<QRgb> colours;
    for (auto* t : window->seatTiles()) {
        EXPECT_EQ(t->icon()->state(), t->state()) << t->name().toStdString();
        colours.insert(seatStateColour(t->state()).rgb());
    }
    EXPECT_EQ(colours.size(), 4u);
    // The Dev ID and the label of the last board; rework says why.
    EXPECT_EQ(tile("A1")->devIdLabel()->text(), "Dev ID " + QString("%1").arg(tile("A1")->devId(), 8, 16, QChar('0')));
    EXPECT_TRUE(tile("A1")->labelImage().endsWith(".png")) << tile("A1")->labelImage().toStdString();
    ASSERT_FALSE(tile("A1")->preview()->pixmap().isNull());  // the rendered label, scaled
    EXPECT_LE(tile("A1")->preview()->pixmap().width(), 260);
    EXPECT_EQ(tile("A1")->detailLabel()->text(), "take the board out");
    EXPECT_EQ(tile("A2")->detailLabel()->text(), "flash: read-back differs at 0x08008010");
    EXPECT_TRUE(tile("A2")->labelImage().isEmpty());
    // Byte progress: B1 is held at half of its bytes.
    const auto done = tile("B1")->progress()->property("bytesDone").toULongLong();
    const auto total = tile("B1")->progress()->property("bytesTotal").toULongLong();
    EXPECT_GT(total, 0u);
    EXPECT_EQ(done * 2, total);
    EXPECT_NEAR(static_cast<double>(tile("B1")->progress()->value()) / tile("B1")->progress()->maximum(), 0.5, 0.05);
    ASSERT_TRUE(QTest::qWaitFor([&] { return window->counter("lot", "failed")->text() == "1" &&
                                               window->counter("lot", "done")->text() == "1"; }, kDeadlineMs));
    EXPECT_EQ(window->counter("lot", "yield")->text(), "50.0 %");
    screenshot("station-seats.png");

    // The done board is taken out: its seat shows empty; a new blank board is provisioned by itself.
    site.flasher.remove("1-1");
    ASSERT_TRUE(waitState("A1", SeatState::empty)) << log().toStdString();
    site.flasher.replace("1-1");
    ASSERT_TRUE(QTest::qWaitFor([&] { return tile("A1")->finished().size() == 2; }, kDeadlineMs)) << log().toStdString();
    EXPECT_EQ(tile("A1")->state(), SeatState::done);
    EXPECT_EQ(tile("A1")->countLabel()->text(), "2 done · 0 rework in this run");

    // Stop: B1 finishes its board, then the run ends.
    QTest::mouseClick(window->stopButton(), Qt::LeftButton);
    site.gate.open();
    ASSERT_TRUE(QTest::qWaitFor([&] { return !window->runner()->running(); }, kDeadlineMs)) << log().toStdString();
    EXPECT_EQ(tile("B1")->state(), SeatState::done);
    EXPECT_TRUE(log().contains("seat 1-5 ignored") || log().contains("1-5 ignored")) << log().toStdString();
    // Every journal entry of the run names the operator who signed in.
    const auto entries = parts->journal().value()->entries().value();
    for (const auto& e : entries) {
        if (e.devId) {
            EXPECT_EQ(e.body.value("operator", ""), "alice") << e.kind;
        }
    }
}

// The flash, the verify and the lock show as they happen: bytes written, bytes read back,
// "LOCKING" – all from the pipeline's events, in order.
TEST_F(SeatsTest, ATileFollowsItsBoardThroughFlashVerifyAndLock) {
    openSeats();
    window->signIn("bob");
    for (const char* p : {"1-2", "1-3", "1-4"}) site.flasher.remove(p);
    std::vector<std::pair<SeatState, QString>> seen;  // each change of A1's tile: state and bar text
    QObject::connect(window->runner(), &StationRunner::seatEvent, window.get(), [&](const SeatEvent& e) {
        if (e.seat != "A1" || e.devId == 0) return;
        const std::pair<SeatState, QString> now{tile("A1")->state(), tile("A1")->progress()->text()};
        if (seen.empty() || seen.back() != now) seen.push_back(now);
    });
    window->countBox()->setValue(1);
    QTest::mouseClick(window->startButton(), Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor([&] { return !window->runner()->running(); }, kDeadlineMs)) << log().toStdString();
    std::vector<SeatState> states;
    for (const auto& [state, text] : seen)
        if (states.empty() || states.back() != state) states.push_back(state);
    EXPECT_EQ(states, (std::vector<SeatState>{SeatState::starting, SeatState::flashing, SeatState::verifying,
                                              SeatState::locking, SeatState::printing, SeatState::done}));
    QStringList bars;
    for (const auto& [state, text] : seen)
        if (state == SeatState::flashing || state == SeatState::verifying) bars << text;
    ASSERT_GE(bars.size(), 3) << bars.join(" | ").toStdString();
    EXPECT_TRUE(bars.front().startsWith("0.0 / ")) << bars.join(" | ").toStdString();
    EXPECT_TRUE(bars.back().endsWith("KiB read back")) << bars.join(" | ").toStdString();
    // The log has a line per journalled step, not one per byte report.
    EXPECT_FALSE(log().contains(" flashing")) << log().toStdString();
    EXPECT_TRUE(log().contains(" flashed")) << log().toStdString();
}

// A fixture with seats starts no run without a name: Start opens the sign-in.
TEST_F(SeatsTest, StartAsksWhoSignsIn) {
    openSeats();
    QTest::mouseClick(window->startButton(), Qt::LeftButton);
    auto* dialog = window->signInDialog();
    ASSERT_NE(dialog, nullptr);
    EXPECT_EQ(dialog->objectName(), "signInDialog");
    EXPECT_FALSE(dialog->needsPin());  // the station has a PIN file
    EXPECT_FALSE(dialog->pinEdit()->isVisible());
    EXPECT_FALSE(window->runner()->running());
    dialog->nameEdit()->setText("  carol ");
    QTest::mouseClick(dialog->okButton(), Qt::LeftButton);
    EXPECT_EQ(window->operatorLabel()->text(), "Operator: carol");
    EXPECT_EQ(window->runner()->operatorName(), "carol");
}

struct Stop {
    station::HoldReason reason;
    const char* problem;
    const char* action;
    bool byItself;
    const char* title;
};

// Each reason the line holds for gets its banner: a title naming the part, the one thing to
// do, the whole sentence, and Resume where the line cannot see the fault clear by itself.
TEST_F(SeatsTest, TheBannerSaysWhyTheLineStoppedAndWhatToDo) {
    openSeats();
    window->signIn("dana");
    site.gate.close();
    QTest::mouseClick(window->startButton(), Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor([&] { return site.gate.waiting() == 4; }, kDeadlineMs)) << log().toStdString();
    EXPECT_FALSE(window->lineBanner()->isVisible());
    const Stop stops[] = {
        {station::HoldReason::printer, "printer tte-labels is out of labels", "load a roll", true,
         "LINE STOPPED \u2013 LABEL PRINTER"},
        {station::HoldReason::token, "the HSM token tte-station does not answer", "plug the token back in", false,
         "LINE STOPPED \u2013 HSM TOKEN"},
        {station::HoldReason::quota, "lot lot-a has no Dev ID left", "ask for a larger quota at the MotherShip", false,
         "LINE STOPPED \u2013 DEV ID QUOTA USED UP"},
        {station::HoldReason::mothership, "the MotherShip was unreachable for 15 min", "check the network to the MotherShip",
         true, "LINE STOPPED \u2013 MOTHERSHIP UNREACHABLE"},
    };
    for (const Stop& s : stops) {
        SCOPED_TRACE(std::string(station::holdReasonName(s.reason)));
        ASSERT_TRUE(hold().hold("test", s.reason, s.problem, s.action, s.byItself));
        ASSERT_TRUE(QTest::qWaitFor([&] { return window->lineBanner()->isVisible(); }, kDeadlineMs));
        EXPECT_EQ(window->lineBanner()->property("reason").toString().toStdString(), station::holdReasonName(s.reason));
        EXPECT_EQ(window->lineBannerTitle()->text(), s.title);
        QString action = s.action;
        action[0] = action[0].toUpper();
        EXPECT_EQ(window->lineBannerAction()->text(), "\u25B6 " + action);
        EXPECT_EQ(window->lineBannerText()->text().toStdString(), hold().state().text());
        EXPECT_EQ(window->resumeButton()->isVisible(), !s.byItself);
        ASSERT_TRUE(hold().release("test"));
        ASSERT_TRUE(QTest::qWaitFor([&] { return !window->lineBanner()->isVisible(); }, kDeadlineMs));
    }
    site.gate.open();
    QTest::mouseClick(window->stopButton(), Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor([&] { return !window->runner()->running(); }, kDeadlineMs)) << log().toStdString();
}

// The printer runs out of labels: every seat's board waits for its label under the banner,
// nothing fails, and the line goes on by itself once labels are loaded.
TEST_F(SeatsTest, APrinterOutOfLabelsHoldsEverySeat) {
    openSeats();
    window->signIn("frank");
    // Every seat's board is in the pipeline (held halfway through its flash) when the roll runs
    // out: a board not started yet would not start while the line holds.
    site.gate.close();
    window->countBox()->setValue(4);
    QTest::mouseClick(window->startButton(), Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor([&] { return site.gate.waiting() == 4; }, kDeadlineMs)) << log().toStdString();
    site.printer.setFault(station::PrinterCondition{false, true, "printer tte-labels is out of labels", "load a roll"});
    site.gate.open();
    ASSERT_TRUE(QTest::qWaitFor([&] {
        for (auto* t : window->seatTiles())
            if (t->state() != SeatState::held) return false;
        return window->lineBanner()->isVisible();
    }, kDeadlineMs)) << log().toStdString();
    for (auto* t : window->seatTiles()) {
        EXPECT_EQ(t->stateLabel()->text(), "WAITING FOR PRINTER");
        EXPECT_EQ(t->icon()->state(), SeatState::held);
        EXPECT_EQ(t->detailLabel()->text(), "printer tte-labels is out of labels");
    }
    EXPECT_EQ(window->lineBannerTitle()->text(), "LINE STOPPED \u2013 LABEL PRINTER");
    EXPECT_FALSE(window->resumeButton()->isVisible());
    screenshot("station-held.png");
    site.printer.setFault(std::nullopt);
    ASSERT_TRUE(QTest::qWaitFor([&] { return !window->runner()->running(); }, kDeadlineMs)) << log().toStdString();
    EXPECT_FALSE(window->lineBanner()->isVisible());
    for (auto* t : window->seatTiles()) EXPECT_EQ(t->state(), SeatState::done) << t->name().toStdString();
}

// A board waiting for a line held for the token, the quota or the MotherShip says which.
TEST(SeatTileTest, AWaitingBoardNamesWhatTheLineHoldsFor) {
    SeatTile tile("A1", "1-1");
    tile.showStep({"1-1", "A1", 0x120, "allocated", {}, 0, 0, {}});
    tile.showStep({"1-1", "A1", 0x120, "waiting", "HSM token tte-station cannot be reached (CKR_DEVICE_REMOVED)", 0, 0, {},
                   false, "token"});
    EXPECT_EQ(tile.state(), SeatState::held);
    EXPECT_EQ(tile.stateLabel()->text(), "WAITING FOR TOKEN");
    EXPECT_EQ(tile.detailLabel()->text(), "HSM token tte-station cannot be reached (CKR_DEVICE_REMOVED)");
    SeatTile fresh("A2", "1-2");
    fresh.showStep({"1-2", "A2", 0, "waiting", "the line holds: the Dev ID quota 00000100..000001ff of lot L is used up", 0,
                    0, {}, false, "quota"});
    EXPECT_EQ(fresh.stateLabel()->text(), "WAITING FOR QUOTA");
    fresh.showStep({"1-2", "A2", 0, "waiting", "the line holds: the MotherShip has taken no record", 0, 0, {}, false,
                    "mothership"});
    EXPECT_EQ(fresh.stateLabel()->text(), "WAITING FOR MOTHERSHIP");
    EXPECT_EQ(waitingWord("printer"), "WAITING FOR PRINTER");
}

// A new board put into a seat while the line holds waits without a Dev ID (the fixture's
// "waiting" with devId 0), and starts as usual once the line runs.
TEST(SeatTileTest, ANewBoardWaitingForAHeldLine) {
    SeatTile tile("A3", "1-7");
    tile.showStep({"1-7", "A3", 0, "waiting", "the line holds: printer tte-labels is out of labels", 0, 0, {}});
    EXPECT_EQ(tile.state(), SeatState::held);
    EXPECT_EQ(tile.stateLabel()->text(), "WAITING FOR PRINTER");
    EXPECT_EQ(tile.devIdLabel()->text(), "Dev ID \u2013");
    EXPECT_EQ(tile.detailLabel()->text(), "a new board waits: the line holds: printer tte-labels is out of labels");
    tile.showStep({"1-7", "A3", 0x123, "allocated", {}, 0, 0, {}});
    EXPECT_EQ(tile.state(), SeatState::starting);
    EXPECT_EQ(tile.devIdLabel()->text(), "Dev ID 00000123");
    EXPECT_TRUE(tile.detailLabel()->text().isEmpty());
    tile.showStep({"1-7", "A3", 0x123, "flashing", {}, 4096, 8192, {}});
    EXPECT_EQ(tile.progress()->text(), "4.0 / 8.0 KiB written");
    EXPECT_EQ(tile.progress()->value(), 4);
    EXPECT_EQ(tile.progress()->maximum(), 8);
}

// No mouse: F5 starts, digits pick a seat, F8 reworks its board, F6 stops, F12 unfolds the
// log, Tab walks Start → (Stop) → the seats in order.
TEST_F(SeatsTest, TheWholeLineRunsFromTheKeyboard) {
    openSeats();
    window->signIn("erin");
    activate();
    EXPECT_FALSE(window->detailsPane()->isVisible());  // the log is folded away
    site.flasher.failPorts = {"1-3"};
    for (const char* p : {"1-2", "1-4"}) site.flasher.remove(p);
    press(kStartKey);
    ASSERT_TRUE(window->runner()->running());
    ASSERT_TRUE(waitState("B1", SeatState::rework)) << log().toStdString();
    ASSERT_TRUE(waitState("A1", SeatState::done)) << log().toStdString();
    press(kStopKey);
    ASSERT_TRUE(QTest::qWaitFor([&] { return !window->runner()->running(); }, kDeadlineMs)) << log().toStdString();

    // 3 picks the third seat (B1): Rework acts on its board.
    press(Qt::Key_3);
    EXPECT_EQ(QApplication::focusWidget(), tile("B1"));
    EXPECT_EQ(window->selectedPort(), "1-3");
    ASSERT_TRUE(window->reworkButton()->isEnabled());
    press(Qt::Key_1);
    EXPECT_EQ(window->selectedPort(), "1-1");
    EXPECT_TRUE(window->reworkButton()->isEnabled());  // a done board too: revoked first, after a confirmation
    press(Qt::Key_3);
    site.flasher.failPorts.clear();
    press(kReworkKey);
    ASSERT_TRUE(QTest::qWaitFor([&] { return log().contains("at 1-3 erased"); }, kDeadlineMs)) << log().toStdString();

    // F12 unfolds the log and the device table, and folds them again.
    press(kLogKey);
    EXPECT_TRUE(window->detailsPane()->isVisible());
    EXPECT_TRUE(window->logButton()->isChecked());
    press(kLogKey);
    EXPECT_FALSE(window->detailsPane()->isVisible());

    // Focus order (Stop is disabled between runs: Tab passes it).
    window->startButton()->setFocus();
    QStringList order;
    for (int i = 0; i < 5; ++i) {
        QWidget* w = QApplication::focusWidget();
        order << (w ? w->objectName() : QString("none"));
        press(Qt::Key_Tab);
    }
    EXPECT_EQ(order, (QStringList{"start", "seat-A1", "seat-A2", "seat-B1", "seat-B2"}));
}

}  // namespace
}  // namespace tte::gui
