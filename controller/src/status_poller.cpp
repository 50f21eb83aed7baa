// Status queries to the MotherShip with backoff and bounded concurrency.
#include "tte/controller/status_poller.h"

#include <future>
#include <vector>

#include "tte/protocol/mothership_messages.h"

namespace tte::controller {

StatusFetcher makeHttpsStatusFetcher(client::HttpsOptions https) {
    return [https = std::move(https)](const StatusQuery& q) -> Result<std::string> {
        auto ms = protocol::parseMsHostName(q.ms, protocol::MsIdUse::operational);
        auto otp = protocol::parseOtp(q.otp.view());
        auto devId = protocol::parseDevId(q.devid);
        if (!ms || !otp || !devId) return fail(Errc::invalidArgument, "the stored introduction of " + q.urn + " is malformed");
        std::string url = protocol::buildStatusUrl({*ms, *otp, *devId});
        auto res = client::httpsRequest(https, "GET", url);
        secureZero(url.data(), url.size());
        if (!res) return std::unexpected(res.error());
        if (res->status != 200) return std::unexpected(client::answerError(*res, "MotherShip status of " + q.urn));
        auto answer = protocol::StatusResponse::fromJson(res->body);
        if (!answer) return fail(Errc::corrupt, "the MotherShip's status answer: " + answer.error().message);
        return std::string(protocol::enrollmentStateName(answer->state));
    };
}

std::chrono::seconds StatusPoller::backoff(int attempts) const {
    auto delay = m_options.backoffBase;
    for (int i = 1; i < attempts && delay < m_options.backoffCap; ++i) delay *= 2;
    return std::min(delay, m_options.backoffCap);
}

Result<int> StatusPoller::pollOnce() {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(m_clock.wallNow().time_since_epoch()).count();
    auto due = m_store.dueStatusQueries(now, m_options.concurrency);
    if (!due) return std::unexpected(due.error());
    std::vector<std::future<Result<std::string>>> answers;
    answers.reserve(due->size());
    for (const auto& q : *due) answers.push_back(std::async(std::launch::async, m_fetch, std::cref(q)));
    for (std::size_t i = 0; i < due->size(); ++i) {
        auto& q = (*due)[i];
        auto state = answers[i].get();
        m_service.countStatusQuery(state.has_value());
        int attempts = q.attempts + 1;
        auto next = now + backoff(attempts).count();
        // A failed query says nothing about the device: what the MotherShip last said stays.
        if (auto st = state ? m_store.recordStatus(q.urn, *state, attempts, next) : m_store.recordFailedQuery(q.urn, attempts, next);
            !st)
            return std::unexpected(st.error());
    }
    return static_cast<int>(due->size());
}

void StatusPoller::start() {
    m_thread = std::thread([this] {
        std::unique_lock lock(m_mutex);
        while (!m_stopping) {
            lock.unlock();
            (void)pollOnce();  // a failed round is retried at the next interval; counted in metrics
            lock.lock();
            m_cv.wait_for(lock, m_options.interval, [this] { return m_stopping; });
        }
    });
}

void StatusPoller::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

}  // namespace tte::controller
