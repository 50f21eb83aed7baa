// The sign-in dialog (see sign_in_dialog.h).
#include "tte/gui/sign_in_dialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace tte::gui {

SignInDialog::SignInDialog(const QString& name, bool needsPin, const QString& token, QWidget* parent)
    : QDialog(parent), m_needsPin(needsPin) {
    setObjectName("signInDialog");
    setWindowTitle("Sign in");
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(needsPin ? QString("Your name goes into every journal entry of the boards you provision. "
                                                "The HSM token %1 needs its PIN before the line can start.")
                                            .arg(token)
                                      : QString("Your name (it goes into every journal entry of the boards you provision):"),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    auto* form = new QFormLayout;
    m_name = new QLineEdit(name, this);
    m_name->setObjectName("signInName");
    form->addRow("&Name", m_name);
    m_pin = new QLineEdit(this);
    m_pin->setObjectName("signInPin");
    m_pin->setEchoMode(QLineEdit::Password);
    m_pin->setInputMethodHints(Qt::ImhHiddenText | Qt::ImhNoPredictiveText | Qt::ImhSensitiveData);
    if (needsPin) form->addRow("Token &PIN", m_pin);
    else m_pin->hide();
    layout->addLayout(form);
    m_error = new QLabel(this);
    m_error->setObjectName("signInError");
    m_error->setWordWrap(true);
    m_error->setStyleSheet("color: #a00000; font-weight: bold;");
    m_error->hide();
    layout->addWidget(m_error);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_ok = buttons->button(QDialogButtonBox::Ok);
    m_ok->setText(needsPin ? "Sign in and log in to the token" : "Sign in");
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &SignInDialog::submit);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    (needsPin && !name.trimmed().isEmpty() ? m_pin : m_name)->setFocus(Qt::OtherFocusReason);
}

void SignInDialog::submit() {
    const QString name = m_name->text().trimmed();
    if (name.isEmpty()) {
        m_error->setText("Type your name.");
        m_error->show();
        m_name->setFocus(Qt::OtherFocusReason);
        return;
    }
    if (m_needsPin && m_pin->text().isEmpty()) {
        m_error->setText("Type the token's PIN.");
        m_error->show();
        m_pin->setFocus(Qt::OtherFocusReason);
        return;
    }
    if (!m_needsPin) {
        Q_EMIT signInRequested(name, {});
        finish();
        return;
    }
    m_error->setText("Checking the PIN with the token\u2026");
    m_error->show();
    m_ok->setEnabled(false);
    const QString pin = m_pin->text();
    m_pin->clear();
    Q_EMIT signInRequested(name, pin);
}

void SignInDialog::showRefusal(const QString& text) {
    m_error->setText(text);
    m_error->show();
    m_ok->setEnabled(true);
    m_pin->clear();
    m_pin->setFocus(Qt::OtherFocusReason);
}

void SignInDialog::finish() { done(QDialog::Accepted); }

}  // namespace tte::gui
