# mothership_bench: a real tte-mothership measured from outside – durable claims/s against raw
# SQLite commits/s, CoAP/DTLS enrollments/s against raw OpenSSL DTLS handshakes/s, a burst of
# devices at once, and server memory per DTLS session (bench/mothership_bench.cpp).
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(COAP_BENCH REQUIRED IMPORTED_TARGET libcoap-3-openssl)
tte_bench(NAME mothership_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/mothership_bench.cpp ${CMAKE_CURRENT_LIST_DIR}/mothership_bench_dtls.cpp
  LIBS tte::mothership tte::server tte_test_support CURL::libcurl OpenSSL::SSL SQLite::SQLite3 PkgConfig::COAP_BENCH)
add_dependencies(mothership_bench tte-mothership)
# `--only dtls-memory`: exactly one figure, the server's RSS per open session, measured (above 0).
add_test(NAME mothership_bench_dtls_memory_smoke
  COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:mothership_bench> "-DARGS=--only;dtls-memory;--smoke;--json"
    -DEXPECT=1 "-DNAMES=server RSS per open CoAP/DTLS session"
    -P ${CMAKE_CURRENT_LIST_DIR}/check_figures.cmake)
set_tests_properties(mothership_bench_dtls_memory_smoke PROPERTIES LABELS bench-smoke TIMEOUT 120
  ENVIRONMENT "TTE_BIN=${CMAKE_BINARY_DIR}/bin;TTE_SOURCE_DIR=${CMAKE_SOURCE_DIR};ASAN_OPTIONS=detect_leaks=0")
