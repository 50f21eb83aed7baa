// The operator's sign-in: the name that goes into every journal entry, and – where the token
// needs a PIN the station has no file for – the token's PIN (echo off), checked by logging in
// to the token before anything starts. A wrong PIN keeps the dialog open with what the token
// said (wrong, tries left, locked); the PIN never reaches a log.
#pragma once

#include <QDialog>

class QLabel;
class QLineEdit;
class QPushButton;

namespace tte::gui {

class SignInDialog : public QDialog {
    Q_OBJECT
public:
    /// `needsPin`: show the PIN field for token `token`.
    SignInDialog(const QString& name, bool needsPin, const QString& token, QWidget* parent = nullptr);

    [[nodiscard]] QLineEdit* nameEdit() const { return m_name; }
    [[nodiscard]] QLineEdit* pinEdit() const { return m_pin; }
    [[nodiscard]] QLabel* errorLabel() const { return m_error; }
    [[nodiscard]] QPushButton* okButton() const { return m_ok; }
    [[nodiscard]] bool needsPin() const { return m_needsPin; }

    /// The token refused the PIN: says why, empties the PIN field and lets the operator try again.
    void showRefusal(const QString& text);
    /// The token took the PIN: the dialog closes.
    void finish();

Q_SIGNALS:
    /// OK with a name (and a PIN when one is needed): the window checks the PIN with the token.
    void signInRequested(const QString& name, const QString& pin);

private:
    void submit();

    bool m_needsPin;
    QLineEdit* m_name = nullptr;
    QLineEdit* m_pin = nullptr;
    QLabel* m_error = nullptr;
    QPushButton* m_ok = nullptr;
};

}  // namespace tte::gui
