# hsm_bench: token throughput (OTPs, device keys, record signatures, HMAC derivations) for
# 1 and 2 threads, each against the same work done by OpenSSL in memory in the same run.
tte_bench(NAME hsm_bench SOURCES hsm_bench.cpp LIBS tte::hsm tte::hsm_fake tte_test_support)
