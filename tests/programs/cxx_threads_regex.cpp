// cxx_threads_regex.cpp - a C++17 workload for the integration tests.
//
// Several std::threads each generate a deterministic batch of text lines,
// match them with std::regex (search, match, iterate, replace), keep the
// results in std::map / std::unordered_map / std::vector / std::string,
// throw and catch exceptions (std::runtime_error, std::out_of_range from
// .at(), a custom type), and share a mutex-protected std::map.  Each thread
// writes only its own result slot; main prints everything after join, so
// the output is deterministic.  Heavy on operator new/delete of many sizes,
// from several threads at once, with frees in other threads (the results are
// destroyed by main).
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

struct BadRecord : std::exception {
    explicit BadRecord(std::string why) : why_(std::move(why)) {}
    const char *what() const noexcept override { return why_.c_str(); }
    std::string why_;
};

// A small deterministic generator (xorshift64*), one per thread.
struct Rng {
    std::uint64_t s;
    std::uint64_t next()
    {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 2685821657736338717ULL;
    }
    unsigned below(unsigned n) { return static_cast<unsigned>(next() % n); }
};

const char *const kWords[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};

std::string make_line(Rng &rng, int i)
{
    std::ostringstream os;
    os << "id=" << i << " user=" << kWords[rng.below(8)] << rng.below(100)
       << " mail=" << kWords[rng.below(8)] << "@" << kWords[rng.below(8)] << ".example"
       << " amount=" << rng.below(10000) << "." << rng.below(100);
    if (rng.below(10) == 0)
        os << " BROKEN";
    return os.str();
}

struct Result {
    int lines = 0, parsed = 0, bad = 0, out_of_range = 0;
    std::uint64_t cents = 0;
    std::map<std::string, int> by_domain;
    std::vector<std::string> samples;
    std::string longest;
};

std::mutex g_mutex;
std::map<std::string, int> g_users;  // shared, guarded by g_mutex

Result work(int tid, int n)
{
    Rng rng{0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(tid + 1)};
    const std::regex line_re(R"(^id=(\d+) user=([a-z]+)(\d+) mail=([a-z]+)@([a-z]+)\.example amount=(\d+)\.(\d+)$)");
    const std::regex word_re(R"([a-z]+)");
    Result r;
    std::unordered_map<std::string, int> local_users;
    std::vector<std::unique_ptr<std::string>> owned;
    for (int i = 0; i < n; i++) {
        std::string line = make_line(rng, i);
        r.lines++;
        owned.push_back(std::make_unique<std::string>(line));
        try {
            std::smatch m;
            if (!std::regex_match(line, m, line_re))
                throw BadRecord("unparsable line " + std::to_string(i));
            r.parsed++;
            r.cents += std::stoull(m[6]) * 100 + std::stoull(m[7]);
            r.by_domain[m[5]]++;
            local_users[m[2].str() + m[3].str()]++;
            // An out-of-range access now and then, caught below.
            std::vector<int> v(static_cast<std::size_t>(i % 7));
            (void)v.at(static_cast<std::size_t>(i % 11));
        } catch (const BadRecord &e) {
            r.bad++;
            if (r.samples.size() < 3)
                r.samples.push_back(e.what());
        } catch (const std::out_of_range &) {
            r.out_of_range++;
        }
        std::string words;
        for (std::sregex_iterator it(line.begin(), line.end(), word_re), end; it != end; ++it)
            words += it->str().substr(0, 1);
        if (words.size() > r.longest.size())
            r.longest = words;
        if (owned.size() > 64)
            owned.erase(owned.begin(), owned.begin() + 32);
    }
    std::string replaced = std::regex_replace(*owned.back(), std::regex(R"(\d)"), "#");
    r.samples.push_back(replaced);
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        for (auto &kv : local_users)
            g_users[kv.first] += kv.second;
    }
    return r;
}

}  // namespace

int main()
{
    const int threads = 4, per_thread = 3000;
    std::vector<Result> results(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++)
        pool.emplace_back([t, &results] { results[static_cast<std::size_t>(t)] = work(t, per_thread); });
    for (auto &th : pool)
        th.join();

    int total_bad = 0;
    for (int t = 0; t < threads; t++) {
        const Result &r = results[static_cast<std::size_t>(t)];
        std::cout << "thread " << t << ": lines " << r.lines << ", parsed " << r.parsed << ", bad "
                  << r.bad << ", out_of_range " << r.out_of_range << ", amount " << r.cents / 100
                  << "." << (r.cents % 100 < 10 ? "0" : "") << r.cents % 100 << "\n";
        for (auto &kv : r.by_domain)
            std::cout << "  domain " << kv.first << ": " << kv.second << "\n";
        for (auto &s : r.samples)
            std::cout << "  sample: " << s << "\n";
        std::cout << "  longest initials: " << r.longest << "\n";
        total_bad += r.bad;
    }
    std::vector<std::pair<int, std::string>> top;
    for (auto &kv : g_users)
        top.emplace_back(-kv.second, kv.first);
    std::sort(top.begin(), top.end());
    std::cout << "distinct users: " << g_users.size() << "\n";
    for (std::size_t i = 0; i < 5 && i < top.size(); i++)
        std::cout << "  " << top[i].second << ": " << -top[i].first << "\n";
    try {
        if (total_bad > 0)
            throw std::runtime_error("saw " + std::to_string(total_bad) + " bad records");
    } catch (const std::exception &e) {
        std::cerr << "cxx_threads_regex: " << e.what() << "\n";
    }
    return 0;
}
