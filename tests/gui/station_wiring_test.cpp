// tte-station's window on the real Wiring (the adapters tte-provision uses): a SoftHSM token
// made by the test with a wrong PIN in the PIN file, and a printer whose CUPS does not answer
// (a port bound but not listening) – both shown in one "Station not ready" dialog, Start
// disabled. The simulated flasher and a real DfuSe firmware file are ready.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QCoreApplication>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QTest>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "support/process.h"
#include "support/softhsm.h"
#include "support/temp_dir.h"
#include "tte/flasher/dfu_file.h"
#include "tte/gui/station_window.h"
#include "tte/station/wiring.h"

namespace tte::gui {
namespace {

/// A loopback TCP port that refuses connections: bound, never listening.
struct RefusingPort {
    RefusingPort() : fd(socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0 && getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
            port = ntohs(a.sin_port);
    }
    ~RefusingPort() { close(fd); }
    int fd;
    int port = 0;
};

TEST(StationWindowWiring, WrongPinAndUnreachablePrinterAreShown) {
    test::TempDir tmp("gui");
    const std::string dir = tmp.path().string();
    const test::SoftHsmToken token(dir + "/softhsm", "tte-station", false);
    ASSERT_EQ(token.error(), "");
    std::ofstream(dir + "/wrong-pin") << "123456\n";
    std::filesystem::create_directories(dir + "/sim");
    auto dfu = flasher::serializeDfuFile(flasher::dfuFileForImage(0x08000000, std::vector<std::uint8_t>(2048, 0x5a)));
    ASSERT_TRUE(dfu);
    ASSERT_TRUE(flasher::writeFileBytes(dir + "/fw.dfu", *dfu));
    RefusingPort cups;
    ASSERT_GT(cups.port, 0);
    const char* src = std::getenv("TTE_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    std::ofstream(dir + "/station.toml") << "[station]\nid = \"st1\"\ndatabase = \"journal.db\"\nslots = 2\n"
                                         << "[hsm]\nmodule = \"" << test::pkcs11Module()
                                         << "\"\ntoken_label = \"tte-station\"\npin_file = \"wrong-pin\"\n"
                                         << "[printer]\nhost = \"127.0.0.1\"\nport = " << cups.port << "\n"
                                         << "[mothership]\nurl = \"https://127.0.0.1:1\"\nca = \"ca.pem\"\n"
                                         << "cert = \"station.pem\"\nkey = \"station.key\"\n"
                                         << "[lot]\nid = \"lot-a\"\nproduct = \"sensor\"\npen = 32473\n"
                                         << "firmware = \"fw.dfu\"\nms_id = 1\nms_address = \"127.0.0.1\"\n"
                                         << "ms_fingerprint = \"" << std::string(64, 'a') << "\"\n"
                                         << "first_devid = \"00000100\"\nlast_devid = \"000001ff\"\n"
                                         << "label_template = \"" << src << "/config/labels.toml\"\n"
                                         << "printer_queue = \"tte-labels\"\n";
    {
        StationWindow window([sim = dir + "/sim"](const station::StationConfig& c)
                                 -> Result<std::unique_ptr<station::StationParts>> {
            return std::make_unique<station::Wiring>(c, sim);
        });
        window.show();
        ASSERT_TRUE(window.openConfig(QString::fromStdString(dir + "/station.toml")));
        ASSERT_TRUE(QTest::qWaitFor([&] { return window.errorDialog() != nullptr; }, 30000));
        EXPECT_EQ(window.errorDialog()->windowTitle(), "Station not ready");
        const QStringList lines = window.errorDialog()->text().split('\n');
        ASSERT_EQ(lines.size(), 2) << window.errorDialog()->text().toStdString();
        EXPECT_TRUE(lines[0].startsWith("HSM token / journal: HSM token tte-station: ")) << lines[0].toStdString();
        EXPECT_TRUE(lines[0].contains("CKR_PIN_INCORRECT")) << lines[0].toStdString();
        // (The errno text after the refused connect is whatever CUPS left in errno.)
        EXPECT_TRUE(lines[1].startsWith(QString::fromStdString("Printer: printer tte-labels: CUPS: cannot connect to 127.0.0.1:" +
                                                               std::to_string(cups.port) + " (errno ")))
            << lines[1].toStdString();
        EXPECT_FALSE(window.ready());
        EXPECT_FALSE(window.startButton()->isEnabled());
    }
}

// A PIN file's PIN the token refused is never tried again by the same station (the status
// probes ask for the keys every second and would use up the token's tries): even once the file
// holds the right PIN, the refusal stands until the station is opened anew.
TEST(StationWindowWiring, ARefusedPinFileIsNotTriedAgain) {
    test::TempDir tmp("gui");
    const std::string dir = tmp.path().string();
    const test::SoftHsmToken token(dir + "/softhsm", "tte-station", false);
    ASSERT_EQ(token.error(), "");
    std::ofstream(dir + "/pin") << "123456\n";
    station::StationConfig config;
    config.stationId = "st1";
    config.pkcs11Module = test::pkcs11Module();
    config.tokenLabel = "tte-station";
    config.pinFile = dir + "/pin";
    config.stationKey = dir + "/station.key";
    station::Wiring wiring(config, dir + "/sim");
    auto first = wiring.keys();
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().nativeName, "CKR_PIN_INCORRECT");
    // (SoftHSM sets CKF_USER_PIN_COUNT_LOW after a wrong PIN: "; the token says few tries are left" in between.)
    EXPECT_TRUE(first.error().message.starts_with("HSM token tte-station: the PIN is wrong (CKR_PIN_INCORRECT)"))
        << first.error().message;
    EXPECT_TRUE(first.error().message.ends_with("; the PIN of " + dir + "/pin is not tried again until the station is reopened"))
        << first.error().message;
    std::filesystem::copy_file(token.site().userPinFile, dir + "/pin", std::filesystem::copy_options::overwrite_existing);
    for (int i = 0; i < 3; ++i) {
        auto again = wiring.keys();
        ASSERT_FALSE(again);
        EXPECT_EQ(again.error().message, first.error().message);
        EXPECT_FALSE(wiring.needsPin());
    }
    station::Wiring reopened(config, dir + "/sim");  // the station opened anew reads the file again
    auto k = reopened.keys();
    ASSERT_FALSE(k);  // the token took the PIN; this station has no station key file
    EXPECT_EQ(k.error().message, "station key: cannot read " + dir + "/station.key");
}

// A station config without hsm.pin_file: the window opens nothing of the token before the
// operator signs in with its PIN; a wrong PIN is refused with what the real SoftHSM token said
// (the dialog stays, nothing starts); the right one logs in and the station is checked.
TEST(StationWindowWiring, SignInWithTheTokenPin) {
    test::TempDir tmp("gui");
    const std::string dir = tmp.path().string();
    const test::SoftHsmToken token(dir + "/softhsm", "tte-station", false);
    ASSERT_EQ(token.error(), "");
    std::ifstream pinFile(token.site().userPinFile);
    std::string pin;
    std::getline(pinFile, pin);
    ASSERT_FALSE(pin.empty());
    std::filesystem::create_directories(dir + "/sim");
    auto dfu = flasher::serializeDfuFile(flasher::dfuFileForImage(0x08000000, std::vector<std::uint8_t>(2048, 0x5a)));
    ASSERT_TRUE(dfu);
    ASSERT_TRUE(flasher::writeFileBytes(dir + "/fw.dfu", *dfu));
    RefusingPort cups;
    const char* src = std::getenv("TTE_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    std::ofstream(dir + "/station.toml") << "[station]\nid = \"st1\"\ndatabase = \"journal.db\"\nslots = 2\n"
                                         << "[hsm]\nmodule = \"" << test::pkcs11Module() << "\"\ntoken_label = \"tte-station\"\n"
                                         << "[printer]\nhost = \"127.0.0.1\"\nport = " << cups.port << "\n"
                                         << "[mothership]\nurl = \"https://127.0.0.1:1\"\nca = \"ca.pem\"\n"
                                         << "cert = \"station.pem\"\nkey = \"station.key\"\n"
                                         << "[lot]\nid = \"lot-a\"\nproduct = \"sensor\"\npen = 32473\n"
                                         << "firmware = \"fw.dfu\"\nms_id = 1\nms_address = \"127.0.0.1\"\n"
                                         << "ms_fingerprint = \"" << std::string(64, 'a') << "\"\n"
                                         << "first_devid = \"00000100\"\nlast_devid = \"000001ff\"\n"
                                         << "label_template = \"" << src << "/config/labels.toml\"\n"
                                         << "printer_queue = \"tte-labels\"\n";
    StationWindow window([sim = dir + "/sim"](const station::StationConfig& c) -> Result<std::unique_ptr<station::StationParts>> {
        return std::make_unique<station::Wiring>(c, sim);
    });
    window.resize(1280, 860);
    window.show();
    ASSERT_TRUE(window.openConfig(QString::fromStdString(dir + "/station.toml")));
    ASSERT_TRUE(QTest::qWaitFor([&] { return window.signInDialog() != nullptr; }, 30000));
    SignInDialog* dialog = window.signInDialog();
    EXPECT_TRUE(dialog->needsPin());
    EXPECT_TRUE(dialog->pinEdit()->isVisible());
    EXPECT_EQ(dialog->pinEdit()->echoMode(), QLineEdit::Password);
    EXPECT_EQ(window.errorDialog(), nullptr);  // nothing opened the token without its PIN
    EXPECT_FALSE(window.ready());

    dialog->nameEdit()->setText("frank");
    dialog->pinEdit()->setText("999999");
    QTest::mouseClick(dialog->okButton(), Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor([&] { return dialog->okButton()->isEnabled(); }, 30000));
    EXPECT_TRUE(dialog->errorLabel()->text().startsWith("HSM token tte-station: the PIN is wrong (CKR_PIN_INCORRECT)"))
        << dialog->errorLabel()->text().toStdString();
    EXPECT_TRUE(dialog->pinEdit()->text().isEmpty());
    EXPECT_EQ(window.signInDialog(), dialog);
    EXPECT_EQ(window.operatorLabel()->text(), "Nobody signed in");
    EXPECT_FALSE(window.ready());
    if (const char* shots = std::getenv("TTE_SCREENSHOT_DIR"); shots && *shots) {
        dialog->pinEdit()->setText("12");
        dialog->adjustSize();  // the wrapped error text grew the dialog's size hint
        QCoreApplication::processEvents();
        ASSERT_TRUE(dialog->grab().save(QString(shots) + "/station-sign-in.png"));
        dialog->pinEdit()->clear();
    }

    // The right PIN after the refused one: the token takes it, the dialog closes and the
    // operator is signed in. Then the station is checked, and what else is not ready is told
    // there, not as a PIN refusal: this station has no station key file (the sign-in used to
    // show that in the dialog and keep it open) and its CUPS refuses.
    QPointer<SignInDialog> open(dialog);
    dialog->pinEdit()->setText(QString::fromStdString(pin));
    QTest::mouseClick(dialog->okButton(), Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor([&] { return open.isNull() || !open->isVisible(); }, 30000))
        << open->errorLabel()->text().toStdString();
    EXPECT_EQ(window.signInDialog(), nullptr);
    EXPECT_EQ(window.operatorLabel()->text(), "Operator: frank");
    ASSERT_TRUE(QTest::qWaitFor([&] { return window.errorDialog() != nullptr; }, 30000));
    EXPECT_EQ(window.errorDialog()->windowTitle(), "Station not ready");
    const QStringList lines = window.errorDialog()->text().split('\n');
    ASSERT_EQ(lines.size(), 2) << window.errorDialog()->text().toStdString();
    EXPECT_EQ(lines[0].toStdString(), "HSM token / journal: station key: cannot read " + dir + "/station.key");
    EXPECT_TRUE(lines[1].startsWith("Printer: printer tte-labels: CUPS: cannot connect")) << lines[1].toStdString();
    EXPECT_FALSE(window.ready());
}

TEST(StationProgram, BadConfigExitsWithTheReason) {
    test::TempDir tmp("gui");
    const std::string dir = tmp.path().string();
    std::ofstream(dir + "/station.toml") << "[station]\nid = \"st1\"\n";
    const char* bin = std::getenv("TTE_BIN");
    ASSERT_NE(bin, nullptr);
    auto r = test::run({std::string(bin) + "/tte-station", "--config", dir + "/station.toml", "--quit-when-done"}, dir,
                       "tte-station", std::chrono::seconds(60), {"QT_QPA_PLATFORM=offscreen"});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "tte-station: " + dir + "/station.toml: hsm: required table is missing (and 3 more: see tte-station "
                     "--check-config)\n") << r.err;
    auto help = test::run({std::string(bin) + "/tte-station", "--help"}, dir, "tte-station-help", std::chrono::seconds(60),
                          {"QT_QPA_PLATFORM=offscreen"});
    EXPECT_EQ(help.code, 0);
    EXPECT_NE(help.out.find("--quit-when-done"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace tte::gui
