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
